#!/usr/bin/env python3
"""Boots the ELF32 test guests under QEMU's Multiboot loader (ctest
guests_qemu_smoke, label integration).

There is no mamori here, so every boot passes the option bare=1: the guest
runtime then writes only to the UART and ends through isa-debug-exit (port
0xf4, QEMU exit code = status * 2 + 1). One boot leaves bare=1 out to show
that a guest without a VMM fails loudly (#UD on the first VMCALL) rather
than passing quietly. This proves the guest code boots and runs
on a real CPU model (entry, GDT, IDT, #GP/#UD recording, printing, option
parsing, the triple fault); the ABI checks themselves need mamori.

  qemu_smoke.py --qemu qemu-system-i386 --dir <build>/tests/guests
"""
import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
TIMEOUT = 20  # seconds per boot; each takes well under 2 s under TCG
failures = []


def qemu(args, kernel, append, timeout=TIMEOUT, until=None):
    """Runs QEMU, returns (exit code or None if killed, serial output)."""
    cmd = [args.qemu, "-nodefaults", "-display", "none", "-monitor", "none", "-m", "64",
           "-cpu", "max", "-no-reboot", "-serial", "stdio", "-kernel", kernel,
           "-append", append] + DEBUG_EXIT
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    data, deadline = b"", time.monotonic() + timeout
    fd = p.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # QEMU closed its output: it has exited
            data += chunk
            if until and re.search(until, data.decode(errors="replace")):
                break
    killed = p.poll() is None
    if killed:
        try:
            p.wait(timeout=1)   # exiting on its own right now?
            killed = False
        except subprocess.TimeoutExpired:
            p.kill()
    p.wait()
    out = (data + p.stdout.read()).decode(errors="replace")
    return (None if killed else p.returncode), out


def expect(name, cond, out):
    if cond:
        print(f"PASS {name}")
    else:
        print(f"FAIL {name}\n---- serial ----\n{out}\n----------------")
        failures.append(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    elf = lambda n: os.path.join(args.dir, f"{n}.elf32")

    rc, out = qemu(args, elf("hello"), "vm-hello bare=1")
    expect("hello: greets via the UART", "hello from hello.elf32 (guest id 0) via the UART" in out, out)
    expect("hello: greets via the console path", "via the console hypercall" in out, out)
    expect("hello: prints the memory map", re.search(r"hello:   0x0+100000-0x[0-9a-f]+ type 1 \(available\)", out), out)
    expect("hello: exits with status 0", rc == 1 and "hello: bye" in out, out)

    rc, out = qemu(args, elf("exits"), "vm-exits bare=1")
    m = re.search(r"exits: DONE (\d+) passed, (\d+) failed", out)
    expect("exits: SDM-defined checks pass on QEMU", m and int(m.group(1)) > 0 and m.group(2) == "0", out)
    expect("exits: exit status 0", rc == 1, out)

    # Option from the VM name ("-spinN"): copy the kernel to such a name.
    with tempfile.TemporaryDirectory() as tmp:
        named = os.path.join(tmp, "vm-spin200000")
        shutil.copy(elf("spin"), named)
        rc, out = qemu(args, named, "bare=1", until=r"heartbeat 3 ")
    expect("spin: option from the VM name", "spin: 200000 iterations per heartbeat" in out, out)
    expect("spin: heartbeats and never exits", rc is None and "spin: heartbeat 3 " in out, out)
    rc, out = qemu(args, elf("spin"), "x spin=300000 bare=1", until=r"heartbeat 2 ")
    expect("spin: option spin=N", "spin: 300000 iterations per heartbeat" in out, out)

    rc, out = qemu(args, elf("hostile"), "vm-hostile step=1 bare=1")
    expect("hostile: survives the harmless attempts",
           all(s in out for s in ["survived read of guest-physical 0x1000", "survived VMXON: #UD",
                                  "survived VMREAD: #UD"]), out)
    expect("hostile: announces the triple fault", "hostile: attempting 22 triple fault" in out, out)
    # -no-reboot: a triple fault (shutdown) ends QEMU with status 0, and the
    # guest never reaches its "DONE" line.
    expect("hostile: triple fault ends the machine", rc == 0 and "hostile: DONE" not in out, out)
    rc, out = qemu(args, elf("hostile"), "vm-hostile step=22 bare=1")
    expect("hostile: step=22 starts at the triple fault",
           "attempting 1 " not in out and "attempting 22 " in out and rc == 0, out)

    rc, out = qemu(args, elf("bench"), "vm-bench bare=1")
    expect("bench: nothing to measure without a VMM, exits 0",
           "bench: not under mamori" in out and rc == 1, out)

    # Without bare=1 the ABI is assumed: QEMU has no VMCALL, so hello's
    # first hypercall is #UD, reported, and the exit falls back to port 0xf4
    # with status 0x80 | 6.
    rc, out = qemu(args, elf("hello"), "vm-hello")
    expect("no VMM without bare=1: warns about the signature", "not mamori's signature" in out, out)
    expect("no VMM without bare=1: VMCALL is #UD and reported",
           "FAIL unexpected exception 6" in out and rc == ((0x86 << 1) | 1) & 0xFF, out)

    print(f"{'FAIL' if failures else 'OK'}: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
