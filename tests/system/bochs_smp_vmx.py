"""Bochs corei7_skylake_x with 2 CPUs: the real USB image boots through
OVMF, both CPUs enter and leave VMX root operation, and the shell answers
typed commands (line editing included). Ends with a power-off."""
import os
import re

from systest import check, emu, ends_cleanly, mark, run, seen, shell

# The capability capture `vmx caps` prints is a unit-test fixture as it
# stands (tests/unit/vmx/test_capture.cpp reads this file): the system test
# proves the shell prints exactly it. MAMORI_WRITE_CAPTURE=1 rewrites it.
CAPTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "vmx", "data",
                       "bochs-corei7_skylake_x.capture")


def body(e):
    e.expect(r"mamori-loader [0-9.]+: starting", 120)
    e.expect(r"VMM entered", 60)
    # The CPUs report concurrently: these lines may come in any order.
    seen(e, r"cpu1 INFO  cpu1: application processor online", 120)
    seen(e, r"vmx: cpu1 entered VMX root operation", 60)
    seen(e, r"vmx: cpu1 VMX ready: VMXON/VMXOFF ok", 60)
    seen(e, r"vmx: cpu0 entered VMX root operation", 60)
    seen(e, r"vmx: cpu0 VMX ready: VMXON/VMXOFF ok", 60)
    e.expect(r"mamori: 2 CPUs online, all 2 entered and left VMX root operation", 60)
    e.expect(r"mamori> ", 60)
    shell(e, "cpus", r"cpu1 apic 1 vmx-ready")
    # Backspace editing: "verzz" + 2 x BS + "sion" must run "version".
    shell(e, "verzz\b\bsion", r"mamori 0\.\d+\.\d+ \(x86_64 VT-x/EPT\), loader")
    shell(e, "frobnicate", r"unknown command 'frobnicate': type 'help'")
    shell(e, "log verbose", r"unknown log level 'verbose'")
    shell(e, "mem extra", r"usage: mem")
    shell(e, "mem", r"frames: \d+ total, \d+ free")
    shell(e, "acpi", r"acpi: no usable ACPI tables")
    m = shell(e, "vmx caps", r"mamori-capture 1\r?\n(?:[^\n]*\n)*?end\r?\n")
    block = m.group(0).decode().replace("\r\n", "\n")
    check(re.search(r"^msr 00000480 [0-9a-f]{16}$", block, re.M), "vmx caps printed no IA32_VMX_BASIC line")
    if os.environ.get("MAMORI_WRITE_CAPTURE") == "1":
        with open(CAPTURE, "w") as f:
            f.write(block)
    with open(CAPTURE) as f:
        want = f.read()
    check(block == want, "vmx caps differs from %s:\n%s" % (CAPTURE, block))
    pos = mark(e)
    e.send("poweroff\r")
    e.expect(r"asking the firmware to power off", 30)
    ends_cleanly(e, "poweroff", pos)


run("bochs_smp_vmx", body, lambda img: emu.Bochs(img, cpus=2, model="corei7_skylake_x", timeout=400))
