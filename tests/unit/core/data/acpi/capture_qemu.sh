#!/bin/sh
# capture_qemu.sh OUT_DIR tis|crb|none [CPUS]
# Boots OVMF in QEMU (q35, TCG) with a swtpm TPM of the given interface,
# waits until the firmware has installed its ACPI tables, dumps low RAM with
# the monitor's pmemsave and extracts the tables (extract_tables.py).
set -eu
out=$1; tpm=$2; cpus=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $qpid 2>/dev/null || true; kill $spid 2>/dev/null || true; rm -rf "$work"' EXIT
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
tpmargs=""
spid=""
if [ "$tpm" != none ]; then
  mkdir "$work/tpm"
  swtpm socket --tpm2 --tpmstate dir="$work/tpm" --ctrl type=unixio,path="$work/swtpm.sock" --terminate &
  spid=$!
  sleep 1
  tpmargs="-chardev socket,id=chrtpm,path=$work/swtpm.sock -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-$tpm,tpmdev=tpm0"
fi
cd "$work"
# shellcheck disable=SC2086
qemu-system-x86_64 -machine q35,accel=tcg -m 128M -smp "$cpus" -nodefaults -nic none -display none \
  -serial file:"$work/serial.log" -monitor unix:"$work/mon.sock",server,nowait \
  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,file="$work/vars.fd" $tpmargs &
qpid=$!
sleep "${CAPTURE_WAIT:-40}"
# pmemsave's size is an expression: a path starting with '/' would be read
# as a division, so QEMU runs in $work and the file name is relative.
python3 - "$work/mon.sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for cmd in ("stop", "pmemsave 0 0x8000000 mem.bin"):
    s.sendall(cmd.encode() + b"\n")
    time.sleep(2)
s.sendall(b"quit\n")
time.sleep(1)
PY
cp "$work/mem.bin" "${KEEP_DUMP:-/dev/null}" 2>/dev/null || true
python3 "$here/extract_tables.py" "$work/mem.bin" "$out"
