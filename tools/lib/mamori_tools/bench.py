"""`tools/mamori bench`: the boot benchmark (emulated instructions per boot
stage in Bochs, image size, memory footprint) and the component benchmarks
listed in docs/benchmarks.md. Results go to stdout as Markdown."""
import os
import re
import subprocess
import tempfile

from . import emu, image, paths

STAGE = re.compile(rb"\[\s*(\d+)\] cpu0 INFO  stage: ([a-z]+)")
ENTRY = re.compile(rb"stage: entry at tsc (\d+) \(loader left the firmware at tsc (\d+)\)")


def boot_bench(model="corei7_skylake_x", cpus=2):
    """Bochs runs at ips instructions per emulated second and its TSC ticks
    at the same rate (the VMM calibrates it to `ips` Hz), so TSC deltas of
    the BSP's stage lines are emulated instructions of the BSP."""
    with tempfile.TemporaryDirectory() as tmp:
        img = image.write_image(os.path.join(tmp, "bench.img"))
        with emu.Bochs(img, cpus=cpus, model=model, timeout=600) as e:
            e.expect(r"mamori> ", 500)
            e.send("mem\r")
            e.expect(r"vmm image: .*\n", 60)
            log = e.serial.buf
    m = ENTRY.search(log)
    entry, left_fw = int(m.group(1)), int(m.group(2))
    stages = [(name.decode(), int(tsc)) for tsc, name in STAGE.findall(log)]
    rows = [("firmware exit -> VMM entry (loader's last steps)", entry - left_fw)]
    prev = entry
    for name, tsc in stages:
        rows.append((name, tsc - prev))
        prev = tsc
    rows.append(("total: VMM entry -> shell", prev - entry))
    mem = re.search(rb"frames: (\d+) total, (\d+) free, (\d+) used", log)
    img_line = re.search(rb"vmm image: (\d+) KiB \(of which data\+bss (\d+) KiB\)", log)
    return rows, mem, img_line


EXIT = re.compile(rb"bench: (baseline|cpuid|vmcall|io) (\d+)")


def exit_bench(model="corei7_skylake_x"):
    """The bench guest (tests/guests/bench.cpp) measures TSC ticks per
    exiting instruction against a non-exiting one, inside mamori in Bochs."""
    cfg_text = "console = com1\n\n[vm bench]\nmemory = 16M\ncpus = 1\nimage = bench.elf\n"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "mamori.cfg")
        with open(cfg, "w") as f:
            f.write(cfg_text)
        files = {"vmm.elf": paths.build_file("vmm", "vmm.elf"), "mamori.cfg": cfg,
                 "bench.elf": paths.build_file("tests", "guests", "bench.elf")}
        img = image.write_image(os.path.join(tmp, "exits.img"), files=files)
        with emu.Bochs(img, cpus=2, model=model, timeout=600) as e:
            e.expect(r"vm bench: stopped", 500)
            log = e.serial.buf
    return {k.decode(): int(v) for k, v in EXIT.findall(log)}


def host_bench(name, cmd):
    print("\n## %s\n\n`%s`\n\n```" % (name, " ".join(cmd)))
    r = subprocess.run(cmd, capture_output=True, text=True)
    print((r.stdout + r.stderr).strip())
    print("```")


def run(args):
    model = args[args.index("--cpu-model") + 1] if "--cpu-model" in args else "corei7_skylake_x"
    rows, mem, img_line = boot_bench(model)
    print("## Boot (Bochs %s, 2 CPUs, ips 10M)\n" % model)
    print("| stage | emulated instructions (BSP) |\n|---|---:|")
    for name, n in rows:
        print("| %s | %d |" % (name, n))
    elf = paths.build_file("vmm", "vmm.elf")
    efi = paths.build_file("boot", "BOOTX64.EFI")
    size = subprocess.run(["size", "-A", elf], capture_output=True, text=True).stdout
    loadable = sum(int(l.split()[1]) for l in size.splitlines()[2:] if l.startswith("."))
    print("\n| image | bytes |\n|---|---:|")
    print("| vmm.elf file | %d |" % os.path.getsize(elf))
    print("| vmm.elf sections (size -A) | %d |" % loadable)
    print("| BOOTX64.EFI | %d |" % os.path.getsize(efi))
    if mem and img_line:
        total, free, used = (int(x) for x in mem.groups())
        print("\n| memory after boot | value |\n|---|---:|")
        print("| frames used by the VMM (allocator, tables, stacks, VMXON) | %d (%d KiB) |" % (used, used * 4))
        print("| VMM image span | %s KiB (data+bss %s KiB) |" % (img_line.group(1).decode(), img_line.group(2).decode()))
    ex = exit_bench(model)
    print("\n## Exit round trips (Bochs %s, guest-measured TSC ticks = emulated instructions)\n" % model)
    print("| operation | ticks per op | minus the non-exiting baseline (%d) |\n|---|---:|---:|" % ex["baseline"])
    for k in ("cpuid", "vmcall", "io"):
        print("| %s | %d | %d |" % (k, ex[k], ex[k] - ex["baseline"]))
    host_bench("EPT table pages", [paths.build_file("ept", "ept_bench")])
    host_bench("TPM register accesses per command", [paths.build_file("tests", "unit", "common", "bench_tpm_device")])
    print("\nThe vTPM engine and migration benchmarks need release builds: see docs/benchmarks.md.")
    return 0
