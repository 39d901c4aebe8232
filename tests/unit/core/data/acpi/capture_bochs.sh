#!/bin/sh
# capture_bochs.sh OUT_DIR [CPUS] [MODEL]
# Boots OVMF in Bochs (no disk: it stops in the UEFI shell), interrupts it
# after CAPTURE_WAIT seconds (default 60), dumps the top 16 MiB of its
# 128 MiB with the debugger's writemem (OVMF identity-maps memory, so
# linear = physical) and extracts the ACPI tables (extract_tables.py).
set -eu
out=$1; cpus=${2:-2}; model=${3:-corei7_skylake_x}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bochsrc" <<RC
megs: 128
romimage: file=/usr/share/OVMF/OVMF_CODE.fd
vgaromimage: file=/usr/share/vgabios/vgabios.bin
cpu: model=$model, count=$cpus, ips=10000000, reset_on_triple_fault=0
clock: sync=none
pci: enabled=1, chipset=i440fx
com1: enabled=1, mode=file, dev=$work/serial.log
display_library: term
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
# After SIGINT the debugger returns from `continue` and runs the rest.
printf 'continue\nwritemem "%s" 0x7000000 0x1000000\nquit\n' "$work/mem.bin" > "$work/dbg.rc"
# Bochs' term display ignores SIGTERM (HARNESS.md): stop it with SIGINT.
TERM=dumb timeout -s INT -k 180 "${CAPTURE_WAIT:-60}" bochs -q -f "$work/bochsrc" -rc "$work/dbg.rc" \
  </dev/null >"$work/bochs.out" 2>&1 || true
python3 "$here/extract_tables.py" "$work/mem.bin" "$out" 0x7000000
