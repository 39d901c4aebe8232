#!/usr/bin/env python3
"""The four test guests under the real mamori image in Bochs (ctest
guests_bochs_<model>, labels system;slow; configured only with
-DMAMORI_GUESTS_SYSTEM_TEST=ON until the VMM's guest support is in).

Three boots of the USB image (mamori.cfg allows 8 VMs per boot), each
with 2 CPUs. Boots 1 and 2: CPU 0 runs spin (first, so a scheduler that
never preempts it starves the others), hello and exits; CPU 1 runs one
hostile guest per stopping attempt (docs/guests.md "Boot plan"). Boot 3
runs bench alone (tests/guests/bench.cpp, the exit round-trip benchmark
that tools/mamori bench also runs) and prints its exit costs.

Asserted, from the serial log:
  - hello greets both ways and exits with status 0;
  - exits reports "DONE <n> passed, 0 failed" and exits with status 0;
  - every hostile-stepK guest is "contained and stopped" for the expected
    reason, nothing prints NOT CONTAINED or hostile's DONE line;
  - spin keeps its heartbeat after every other guest has stopped, and is
    never stopped itself.

  bochs_guests.py [corei7_skylake_x|corei7_ivy_bridge_3770k]
Environment: MAMORI_BUILD = build tree with vmm.elf, BOOTX64.EFI and the guests.
"""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "system"))
from systest import build_dir, check, emu, run  # noqa: E402

MODEL = sys.argv[1] if len(sys.argv) > 1 else "corei7_skylake_x"
GUESTS = ("hello", "exits", "spin", "hostile", "bench")
SETTLE = 240        # seconds of emulation allowed for all guests to finish / stop
SPIN_AFTER = 2      # heartbeats spin must print after the last stop

# step -> reason the VMM must give when it stops hostile-step<step>
# (docs/guests.md). A VMX instruction may stop the guest or get #UD; in
# the latter case the guest runs on to the next stopping attempt.
EPT = r"EPT violation"
VMX_OR_TRIPLE = r"(triple fault|vmx|VMX|vmxon|vmread)"
BOOTS = [
    {"hostile": {1: EPT, 3: EPT, 4: EPT, 5: EPT, 6: EPT + r".*TPM window"}, "checks": True, "spin": True},
    {"hostile": {7: VMX_OR_TRIPLE, 14: VMX_OR_TRIPLE, 16: r"triple fault"}, "spin": True},
    # Exit costs, measured with the CPU to itself (issue 3 "Measure").
    {"bench": True},
]


def vm(name, image, memory, cpu):
    return (f"[vm {name}]\nmemory = {memory}\ncpus = {cpu}\nimage = {image}\n"
            "console = on\ntpm = off\n")


def config(boot):
    text = "console = com1\nlog = info\nplatform_tpm = none\n"
    if boot.get("spin"):
        text += vm("spin", "spin.elf", "2M", 0)
    if boot.get("bench"):
        text += vm("bench", "bench.elf", "2M", 0)
    if boot.get("checks"):
        text += vm("hello", "hello.elf", "4M", 0) + vm("exits", "exits.elf", "4M", 0)
    for step in boot.get("hostile", {}):
        text += vm(f"hostile-step{step}", "hostile.elf", "4M", 1)
    return text


def body_for(boot):
    steps = boot.get("hostile", {})
    with_checks, with_spin, with_bench = boot.get("checks"), boot.get("spin"), boot.get("bench")
    stop_patterns = {s: rf"vm hostile-step{s}: contained and stopped: ([^\n]*)" for s in steps}
    done_patterns = list(stop_patterns.values())
    if with_checks:
        done_patterns += [r"vm hello: stopped: exited", r"vm exits: stopped: exited"]
    if with_bench:
        done_patterns += [r"vm bench: stopped: exited"]

    def body(e):
        e.expect(r"VMM entered", 300)
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline:
            if all(re.search(p, e.log()) for p in done_patterns):
                break
            time.sleep(1)
        log = e.log()
        last_stop = max((m.end() for p in done_patterns for m in re.finditer(p, log)), default=0)
        # The others must keep running: spin's heartbeats after the last stop.
        beats_after = len(re.findall(r"\[spin\] spin: heartbeat \d+", log[last_stop:]))
        deadline = time.monotonic() + 60
        while with_spin and beats_after < SPIN_AFTER and time.monotonic() < deadline:
            time.sleep(1)
            log = e.log()
            beats_after = len(re.findall(r"\[spin\] spin: heartbeat \d+", log[last_stop:]))

        if with_checks:
            check(re.search(r"\[hello\] hello from hello \(guest id \d+\) via the UART", log), "hello: no UART greeting")
            check("[hello] hello from hello" in log and "via the console hypercall" in log, "hello: no hypercall greeting")
            check("vm hello: stopped: exited with status 0" in log, "hello did not exit with status 0")
            m = re.search(r"\[exits\] exits: DONE (\d+) passed, (\d+) failed", log)
            check(m is not None, "exits did not finish")
            check(m.group(2) == "0", "exits: %s checks failed: %s" % (
                m.group(2), "; ".join(re.findall(r"exits: FAIL ([^\n]*)", log))))
            check("vm exits: stopped: exited with status 0" in log, "exits did not exit with status 0")
        for step, reason in steps.items():
            m = re.search(stop_patterns[step], log)
            check(m is not None, f"hostile-step{step} was not contained and stopped")
            check(re.search(reason, m.group(1)), f"hostile-step{step} stopped for '{m.group(1)}', want /{reason}/")
        check("NOT CONTAINED" not in log, "hostile: an attempt was not contained: " +
              "; ".join(re.findall(r"NOT CONTAINED ([^\n]*)", log)))
        check("hostile: DONE" not in log, "hostile ran past its triple fault")
        if with_spin:
            check("vm spin: stopped" not in log and "vm spin: contained" not in log, "spin was stopped")
            check(beats_after >= SPIN_AFTER, f"spin printed {beats_after} heartbeats after the last stop")
        if with_bench:
            # tools/mamori bench reads these four lines (tools/lib/mamori_tools/bench.py).
            for op in ("baseline", "cpuid", "vmcall", "io"):
                check(re.search(rf"\[bench\] bench: {op} \d+", log), f"bench printed no '{op}' line")
            check("vm bench: stopped: exited with status 0" in log, "bench did not exit with status 0")
        # What passed, for the ctest log.
        for line in log.splitlines():
            if re.search(r"exits: DONE|hello: bye|contained and stopped|stopped: exited|NOT CONTAINED|bench: ", line):
                print("  " + line.strip())
        if with_spin:
            print(f"  spin: {beats_after} heartbeats after the last stop")
    return body


def main():
    b = build_dir()
    files = {"vmm.elf": os.path.join(b, "vmm", "vmm.elf")}
    for g in GUESTS:
        files[g + ".elf"] = os.path.join(b, "tests", "guests", g + ".elf")
    failed = 0
    for i, boot in enumerate(BOOTS):
        sys.stdout.flush()
        pid = os.fork()   # systest.run() exits the process: one child per boot
        if pid == 0:
            run(f"guests_bochs_{MODEL}_boot{i + 1}", body_for(boot),
                lambda img: emu.Bochs(img, cpus=2, model=MODEL, timeout=600),
                files=files, config_text=config(boot))
        _, status = os.waitpid(pid, 0)
        failed += status != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
