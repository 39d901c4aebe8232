"""`tools/mamori bench`: the boot benchmark (emulated instructions per boot
stage in Bochs, image size, memory footprint) and the component benchmarks
listed in docs/benchmarks.md. Results go to stdout as Markdown."""
import os
import re
import subprocess
import tempfile

from . import emu, image, paths, prereq

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
    if getattr(args, "linux", False):
        linux_run(model)
        return 0
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


# --- The Linux guest (issue 14, docs/benchmarks.md "Linux guest") -------------

# The Linux test guest of tests/linux (its init's `mamori.test=bench` mode).
# Bochs's Skylake CPUID 0x15/0x16 claim 3.5 GHz while its TSC ticks at ips
# (HARNESS.md): Linux without mamori needs tsc_early_khz = ips / 1000 to
# keep time; under mamori the VMM's CPUID states the rate and it needs none.
LINUX_CMDLINE = "console=ttyS0 panic=-1 mitigations=off cryptomgr.notests=1 mamori.test=bench"
LINUX_FILES = ("vmlinuz", "initramfs.cpio.gz")
LINUX_GUESTS = (("linux-tis", "tis", 1), ("linux-crb", "crb", 2))  # name, TPM interface, CPU
# Linux's own clock (printk time: sched_clock, from the TSC, which in Bochs
# advances with emulated instructions whether the guest or the VMM runs).
RUN_INIT = re.compile(rb"\[\s*(\d+\.\d+)\] Run /init as init process")
READY = re.compile(rb"mamori-bench: ready uptime (\d+\.\d+)")
LOOP = re.compile(rb"mamori-bench: getrandom (\d+) of (\d+) from (\d+\.\d+) to (\d+\.\d+)")
INFO_RAN = re.compile(rb"ran \d+ slices, (\d+) ms in the guest, (\d+) exits")
INFO_REASON = re.compile(rb"^    (\S[^\n]*?)\s+(\d+)\r?$", re.M)
INFO_ENGINE = re.compile(rb"vtpm-service in the service partition, (\d+) commands")
INFO_MMIO = re.compile(rb"mmio (.+?) \[0x[0-9a-f]+, 0x[0-9a-f]+\): (\d+) accesses")


def guest_lines(log, name):
    """The lines guest `name` printed, without the VMM's "[name] " prefix."""
    prefix = b"[" + name.encode() + b"] "
    return b"\n".join(l[len(prefix):] for l in log.splitlines() if l.startswith(prefix))


def parse_linux_boot(text):
    """Seconds of Linux's clock at "Run /init as init process"."""
    m = RUN_INIT.search(text)
    if not m:
        raise BenchError("no 'Run /init as init process' line (printk time) in the guest's log")
    return float(m.group(1))


def parse_vm_info(text):
    """{'ms': guest ms, 'exits': total, 'reasons': {name: n}, 'mmio': {region:
    accesses}, 'commands': TPM commands its engine answered} from the output
    of `vm info NAME`."""
    ran = INFO_RAN.search(text)
    if not ran:
        raise BenchError("no 'ran N slices, N ms in the guest, N exits' line in the vm info output")
    reasons = {k.decode().strip(): int(v) for k, v in INFO_REASON.findall(text)}
    mmio = {k.decode(): int(v) for k, v in INFO_MMIO.findall(text)}
    eng = INFO_ENGINE.search(text)
    return {"ms": int(ran.group(1)), "exits": int(ran.group(2)), "reasons": reasons, "mmio": mmio,
            "commands": int(eng.group(1)) if eng else 0}


def parse_loop(text):
    """(commands that succeeded, commands run, seconds of guest uptime)."""
    m = LOOP.search(text)
    if not m:
        raise BenchError("no 'mamori-bench: getrandom N of N from T to T' line from the guest")
    return int(m.group(1)), int(m.group(2)), float(m.group(4)) - float(m.group(3))


def diff_info(a, b):
    keys = set(a["reasons"]) | set(b["reasons"])
    return {"exits": b["exits"] - a["exits"], "commands": b["commands"] - a["commands"],
            "reasons": {k: b["reasons"].get(k, 0) - a["reasons"].get(k, 0) for k in keys},
            "mmio": {k: b["mmio"].get(k, 0) - a["mmio"].get(k, 0) for k in b["mmio"]}}


def linux_inputs():
    d = os.environ.get("MAMORI_LINUX_GUEST") or paths.build_file("tests", "linux")
    files = {n: os.path.join(d, n) for n in LINUX_FILES}
    for p in files.values():
        if not os.path.exists(p):
            raise BenchError("%s missing: build target linux_guest (tests/linux/build_guest.py)" % p)
    return files


def grub_efi(tmp, cmdline):
    """A standalone GRUB EFI application that boots /mamori/vmlinuz with
    the initramfs and `cmdline` from the volume it finds them on."""
    prereq.program("grub-mkstandalone")
    cfg = os.path.join(tmp, "grub.cfg")
    with open(cfg, "w") as f:
        f.write("set timeout=0\nsearch --no-floppy --file --set=root /mamori/vmlinuz\n"
                "linux /mamori/vmlinuz %s\ninitrd /mamori/initramfs.cpio.gz\nboot\n" % cmdline)
    out = os.path.join(tmp, "grubx64.efi")
    subprocess.run(["grub-mkstandalone", "-O", "x86_64-efi", "-o", out,
                    "--modules=part_gpt fat search linux normal", "boot/grub/grub.cfg=" + cfg],
                   check=True, capture_output=True)
    return out


def linux_baseline(model, ips):
    """Seconds of Linux's clock to init, the kernel booted by GRUB in Bochs
    (one CPU, no mamori)."""
    files = linux_inputs()
    with tempfile.TemporaryDirectory() as tmp:
        efi = grub_efi(tmp, "%s tsc_early_khz=%d" % (LINUX_CMDLINE, ips // 1000))
        img = image.write_image(os.path.join(tmp, "baseline.img"), efi=efi, files=files)
        with emu.Bochs(img, cpus=1, model=model, megs=512, ips=ips, timeout=1500) as e:
            e.expect(r"mamori-bench: ready", 1400)
            return parse_linux_boot(bytes(e.serial.buf))


def shell_output(e, command, timeout=120):
    """What the VMM's shell printed for `command` (up to its next prompt)."""
    start = len(e.serial.buf)
    e.send(command + "\r")
    e.expect(r"mamori> ", timeout)
    return bytes(e.serial.buf[start:])


def linux_mamori(model, ips):
    """Each guest alone on its CPU (Bochs: 3 CPUs, the VMM's shell on
    cpu0): {name: {boot, info_ready, loop, info_loop}}."""
    files = dict(image.default_files(), **linux_inputs())
    cfg_text = "console = com1\nlog = info\nvtpm_env = OPENSSL_ia32cap=~0x0:~0x80100\n"
    for name, tpm, cpu in LINUX_GUESTS:
        cfg_text += ("\n[vm %s]\nmemory = 256M\ncpus = %d\nkernel = vmlinuz\ninitrd = initramfs.cpio.gz\n"
                     "cmdline = %s\ntpm = %s\n" % (name, cpu, LINUX_CMDLINE, tpm))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "mamori.cfg")
        with open(cfg, "w") as f:
            f.write(cfg_text)
        files["mamori.cfg"] = cfg
        img = image.write_image(os.path.join(tmp, "linux.img"), files=files)
        with emu.Bochs(img, cpus=3, model=model, megs=1024, ips=ips, timeout=3000) as e:
            e.expect(r"mamori> ", 1500)
            for name, _, _ in LINUX_GUESTS:
                e.serial.pos = 0
                e.expect(r"\[%s\] mamori-bench: ready" % name, 1500)
            for name, _, _ in LINUX_GUESTS:
                r = out[name] = {}
                r["boot"] = parse_linux_boot(guest_lines(bytes(e.serial.buf), name))
                r["info_ready"] = parse_vm_info(shell_output(e, "vm info %s" % name))
                start = len(e.serial.buf)
                e.send("vm console %s\r" % name)
                e.expect(r"attached to %s's console" % name, 60)
                e.send("\r")
                e.expect(r"mamori-bench: getrandom", 1200)
                e.send("\x1d")
                e.expect(r"\[detached from %s\]" % name, 60)
                e.expect(r"mamori> ", 60)
                r["loop"] = parse_loop(bytes(e.serial.buf[start:]))
                r["info_loop"] = parse_vm_info(shell_output(e, "vm info %s" % name))
    return out


def linux_report(model, ips, base, guests):
    print("\n## Linux guest (Bochs %s, ips %d; Debian cloud kernel + tests/linux initramfs)\n" % (model, ips))
    print("Linux's clock at `Run /init as init process` (printk time, seconds of emulated time):\n")
    print("| boot | seconds | ratio to Bochs without mamori |\n|---|---:|---:|")
    print("| Bochs, GRUB, no mamori (1 CPU) | %.2f | 1.00 |" % base)
    for name, tpm, _ in LINUX_GUESTS:
        b = guests[name]["boot"]
        print("| mamori guest %s (1 vCPU, alone on its CPU) | %.2f | %.2f |" % (name, b, b / base))
    for name, tpm, _ in LINUX_GUESTS:
        i = guests[name]["info_ready"]
        secs = max(i["ms"], 1) / 1000.0
        print("\nVM exits of %s from creation to init's ready line: %d in %d ms in the guest (%.0f/s)\n" %
              (name, i["exits"], i["ms"], i["exits"] / secs))
        print("| reason | exits | per second of guest time |\n|---|---:|---:|")
        for k, v in sorted(i["reasons"].items(), key=lambda kv: -kv[1]):
            print("| %s | %d | %.0f |" % (k, v, v / secs))
    print("\nTPM commands inside the guest: a loop of `tpm2_getrandom 16` processes through /dev/tpmrm0 "
          "(Linux's clock, /proc/uptime), and the VMM's counters over the loop:\n")
    print("| guest | driver | processes ok | seconds | processes/s | TPM commands (engine) | VM exits per TPM "
          "command | TPM-window accesses per TPM command |\n|---|---|---:|---:|---:|---:|---:|---:|")
    for name, tpm, _ in LINUX_GUESTS:
        g = guests[name]
        good, n, secs = g["loop"]
        d = diff_info(g["info_ready"], g["info_loop"])
        window = sum(v for k, v in d["mmio"].items() if k.startswith("TPM"))
        cmds = max(d["commands"], 1)
        print("| %s | tpm_%s | %d of %d | %.2f | %.1f | %d | %.1f | %.1f |" %
              (name, tpm, good, n, secs, good / secs if secs else 0, d["commands"], d["exits"] / cmds, window / cmds))
    print("\nVM exits per TPM command count every exit of the guest during the loop (timer, process creation), "
          "not only its TPM window's.")


def linux_run(model, ips=10000000):
    base = linux_baseline(model, ips)
    guests = linux_mamori(model, ips)
    linux_report(model, ips, base, guests)
