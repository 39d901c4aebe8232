"""The boot `tools/mamori bench` measures (Bochs corei7_skylake_x, 2
CPUs): the bench guest alone, as bench.exit_bench boots it, then `mem` at
the shell. bench.py's own parsers must find every figure in this log —
the stage lines, the frame and image lines, the guest's four exit costs —
so a changed log line breaks this test, not the benchmark silently. The
figures are checked only for sense (an exit costs more than the
non-exiting baseline), never against timings."""
import os

from systest import build_dir, check, emu, run, seen, shell
from mamori_tools import bench


def files():
    b = build_dir()
    return {"vmm.elf": os.path.join(b, "vmm", "vmm.elf"),
            "bench.elf": os.path.join(b, "tests", "guests", "bench.elf")}


def body(e):
    e.expect(r"vm bench: created", 300)
    e.expect(r"mamori> ", 300)
    seen(e, r"vm bench: stopped: exited with status 0", 300)
    shell(e, "mem", r"vmm image: \d+ KiB")
    log = bytes(e.serial.buf)
    rows, (total, free, used), (span, data) = bench.parse_boot(log)
    ex = bench.parse_exits(log)
    print("  boot stages (emulated instructions): " + ", ".join("%s %d" % r for r in rows))
    print("  frames %d total, %d used; image %d KiB; exits %s" % (total, used, span, ex))
    check(all(n > 0 for _, n in rows), "a boot stage took no instructions: %s" % rows)
    check(0 < used < total and free + used == total, "frame counts do not add up: %d %d %d" % (total, free, used))
    check(0 < data <= span, "image %d KiB, data+bss %d KiB" % (span, data))
    for op in ("cpuid", "vmcall", "io"):
        check(ex[op] > ex["baseline"] > 0, "%s costs %d ticks, baseline %d: an exit must cost more" %
              (op, ex[op], ex["baseline"]))


run("bochs_bench", body, lambda img: emu.Bochs(img, cpus=2, model="corei7_skylake_x", timeout=600),
    files=files(), config_text=bench.BENCH_CONFIG)
