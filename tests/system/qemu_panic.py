"""The VMM's failure and reset paths, in QEMU (fast firmware): `fault` reads address
0, which must be unmapped, so the #PF handler reports it with registers,
CR2 and a backtrace and stops every CPU; `panic` goes through panic();
`reboot` resets the machine through the firmware."""
import sys

from systest import check, emu, ends_cleanly, mark, run

case = sys.argv[1]


def fault(e):
    e.expect(r"mamori> ", 120)
    e.send("fault\r")
    e.expect(r"\*\*\* mamori PANIC on cpu0: CPU exception 14 \(#PF page fault\), error code 0x0", 30)
    e.expect(r"rip=ffffffff8[0-9a-f]{7} cs=0008", 10)
    e.expect(r"cr0=[0-9a-f]{16} cr2=0000000000000000", 10)
    e.expect(r"backtrace \(addr2line -e vmm.elf\):\s+#0 0xffffffff8", 10)
    e.expect(r"all CPUs stopped", 10)
    check("is mapped, which it must not be" not in e.log(), "page 0 was mapped")


def panic(e):
    e.expect(r"mamori> ", 120)
    e.send("panic\r")
    e.expect(r"\*\*\* mamori PANIC on cpu0: requested from the shell", 30)
    e.expect(r"rsp=ffffffff8[0-9a-f]{7} rbp=", 10)
    e.expect(r"backtrace \(addr2line -e vmm.elf\):\s+#0 0xffffffff8", 10)
    e.expect(r"all CPUs stopped", 10)


def reboot(e):
    # QEMU runs with -no-reboot: a reset ends it with status 0, as a
    # triple fault would; ends_cleanly tells them apart.
    e.expect(r"mamori> ", 120)
    pos = mark(e)
    e.send("reboot\r")
    e.expect(r"asking the firmware to reset", 30)
    ends_cleanly(e, "reset", pos)


run("qemu_" + case, {"fault": fault, "panic": panic, "reboot": reboot}[case],
    lambda img: emu.Qemu(img, tpm=None, cpus=2, timeout=180))
