#!/bin/sh
# Boot dump.S (a 512-byte boot sector) in Bochs and print CPUID.1:ECX and the
# VMX capability MSRs (IA32_FEATURE_CONTROL, 0x480-0x491) as
#   "MSR HIGH:LOW" lines.  Used to fill tests/unit/vmx/msr_sets.hpp.
# Usage: run.sh corei7_skylake_x|corei7_ivy_bridge_3770k|...   (needs bochs, binutils)
set -eu
model=${1:-corei7_skylake_x}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
as --32 -o dump.o "$here/dump.S"
ld -m elf_i386 -Ttext 0x7c00 --oformat binary -e _start -o boot.bin dump.o
dd if=/dev/zero of=floppy.img bs=1k count=1440 2>/dev/null
dd if=boot.bin of=floppy.img conv=notrunc 2>/dev/null
cat > bochsrc <<RC
megs: 32
cpu: model=$model, ips=10000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
floppya: 1_44=floppy.img, status=inserted
boot: floppy
display_library: term
port_e9_hack: enabled=1
clock: sync=none
log: bochs.log
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
printf 'continue\nquit\n' > cont.rc
# Bochs ends on the dump's port-0x8900 "Shutdown" (exit status 1).
TERM=dumb timeout -s INT -k 5 60 bochs -q -f bochsrc -rc cont.rc </dev/null >out.txt 2>err.txt || true
# C0DE0001 is the tag for CPUID.1:ECX, others are MSR numbers.
grep -a -E '^[0-9A-F]{8} [0-9A-F]{16}$' out.txt
