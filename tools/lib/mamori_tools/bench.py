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


class BenchError(Exception):
    pass


def parse_boot(log):
    """(rows, frames, image) from a boot log: rows [(stage, emulated
    instructions)] between the BSP's `stage:` lines; frames (total, free,
    used) and image (span KiB, data+bss KiB) from the `mem` command.
    Raises BenchError naming what the log lacks."""
    m = ENTRY.search(log)
    if not m:
        raise BenchError("no 'stage: entry at tsc' line in the boot log")
    entry, left_fw = int(m.group(1)), int(m.group(2))
    stages = [(name.decode(), int(tsc)) for tsc, name in STAGE.findall(log)]
    if not stages:
        raise BenchError("no 'stage:' lines in the boot log")
    rows = [("firmware exit -> VMM entry (loader's last steps)", entry - left_fw)]
    prev = entry
    for name, tsc in stages:
        rows.append((name, tsc - prev))
        prev = tsc
    rows.append(("total: VMM entry -> shell", prev - entry))
    mem = re.search(rb"frames: (\d+) total, (\d+) free, (\d+) used", log)
    img = re.search(rb"vmm image: (\d+) KiB \(of which data\+bss (\d+) KiB\)", log)
    if not mem or not img:
        raise BenchError("no 'frames:' / 'vmm image:' lines (the mem command) in the boot log")
    return rows, tuple(int(x) for x in mem.groups()), tuple(int(x) for x in img.groups())


EXIT = re.compile(rb"bench: (baseline|cpuid|vmcall|io) (\d+)")
EXIT_OPS = ("baseline", "cpuid", "vmcall", "io")


def parse_exits(log):
    """{op: TSC ticks per op} from the bench guest's lines; BenchError if
    one of EXIT_OPS is missing."""
    got = {k.decode(): int(v) for k, v in EXIT.findall(log)}
    gone = [op for op in EXIT_OPS if op not in got]
    if gone:
        raise BenchError("the bench guest printed no %s line" % ", ".join("'bench: %s N'" % op for op in gone))
    return got


# The bench guest alone, with the CPU to itself (docs/benchmarks.md); the
# system test system_bochs_bench boots exactly this.
BENCH_CONFIG = "console = com1\n\n[vm bench]\nmemory = 16M\ncpus = 1\nimage = bench.elf\n"


def bench_files(cfg):
    return {"vmm.elf": paths.build_file("vmm", "vmm.elf"), "mamori.cfg": cfg,
            "bench.elf": paths.build_file("tests", "guests", "bench.elf")}


def boot_bench(model="corei7_skylake_x", cpus=2):
    """Bochs runs at ips instructions per emulated second and its TSC ticks
    at the same rate (the VMM calibrates it to `ips` Hz), so TSC deltas of
    the BSP's stage lines are emulated instructions of the BSP."""
    with tempfile.TemporaryDirectory() as tmp:
        img = image.write_default(os.path.join(tmp, "bench.img"))
        with emu.Bochs(img, cpus=cpus, model=model, timeout=600) as e:
            e.expect(r"mamori> ", 500)
            e.send("mem\r")
            e.expect(r"vmm image: .*\n", 60)
            log = bytes(e.serial.buf)
    return parse_boot(log)


def exit_bench(model="corei7_skylake_x"):
    """The bench guest (tests/guests/bench.cpp) measures TSC ticks per
    exiting instruction against a non-exiting one, inside mamori in Bochs."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "mamori.cfg")
        with open(cfg, "w") as f:
            f.write(BENCH_CONFIG)
        files = bench_files(cfg)
        image.check_inputs(paths.build_file("boot", "BOOTX64.EFI"), files)
        img = image.write_image(os.path.join(tmp, "exits.img"), files=files)
        with emu.Bochs(img, cpus=2, model=model, timeout=600) as e:
            e.expect(r"vm bench: stopped", 500)
            log = bytes(e.serial.buf)
    return parse_exits(log)


def host_bench(name, cmd):
    print("\n## %s\n\n`%s`\n\n```" % (name, " ".join(cmd)))
    r = subprocess.run(cmd, capture_output=True, text=True)
    print((r.stdout + r.stderr).strip())
    print("```")


def run(args):
    model = args.cpu_model
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
    total, free, used = mem
    print("\n| memory after boot | value |\n|---|---:|")
    print("| frames used by the VMM (allocator, tables, stacks, VMXON) | %d (%d KiB) |" % (used, used * 4))
    print("| VMM image span | %d KiB (data+bss %d KiB) |" % img_line)
    ex = exit_bench(model)
    print("\n## Exit round trips (Bochs %s, guest-measured TSC ticks = emulated instructions)\n" % model)
    print("| operation | ticks per op | minus the non-exiting baseline (%d) |\n|---|---:|---:|" % ex["baseline"])
    for k in ("cpuid", "vmcall", "io"):
        print("| %s | %d | %d |" % (k, ex[k], ex[k] - ex["baseline"]))
    host_bench("EPT table pages", [paths.build_file("ept", "ept_bench")])
    host_bench("TPM register accesses per command", [paths.build_file("tests", "unit", "common", "bench_tpm_device")])
    print("\nThe vTPM engine and migration benchmarks need release builds: see docs/benchmarks.md.")
    return 0
