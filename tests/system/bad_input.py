"""Bad input on the boot volume gets a clear message and no hang (QEMU,
the fastest firmware boot): argv[1] selects the case."""
import sys

from systest import emu, run, shell

case = sys.argv[1]


def qemu(img):
    return emu.Qemu(img, tpm=None, cpus=1, timeout=180)


if case == "missing_vmm":
    run("bad_input_missing_vmm",
        lambda e: (e.expect(r"FATAL: \\mamori\\vmm\.elf not found on the boot volume", 120),
                   e.expect(r"returning to the firmware", 30)),
        qemu, omit=("vmm.elf",))
elif case == "corrupt_elf":
    junk = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\xff" * 200
    run("bad_input_corrupt_elf",
        lambda e: (e.expect(r"FATAL: \\mamori\\vmm\.elf refused: ", 120),
                   e.expect(r"returning to the firmware", 30)),
        qemu, omit=("vmm.elf",), raw_files={"vmm.elf": junk})
elif case == "not_elf":
    run("bad_input_not_elf",
        lambda e: e.expect(r"FATAL: \\mamori\\vmm\.elf refused: .*magic", 120),
        qemu, omit=("vmm.elf",), raw_files={"vmm.elf": b"MZ this is not an ELF file" * 10})
elif case == "bad_config":
    def body(e):
        e.expect(r"config: mamori\.cfg line 3: ", 120)
        e.expect(r"mamori> ", 60)
        shell(e, "version", r"mamori 0\.")
    run("bad_input_bad_config", body, qemu,
        config_text="# broken on purpose\nconsole = com1\nbaud = fast\nlog = info\n")
else:
    print("unknown case", case)
    sys.exit(2)
