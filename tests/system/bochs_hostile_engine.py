"""A hostile vTPM engine (tests/partition/hostile_engine.cpp) in place of
vtpm-service for some guests (config `engine = hostile-engine`), beside a
guest with the real engine, in Bochs (VT-x). Each hostile engine tries one
attack of issue 9 when its guest sends its first TPM command: the GS trick
(finding 1), page 0, memory exhaustion (finding 6, at start-up, before the
real engine starts), a fault, reads of VMM memory and SGDT (finding 5,
UMIP), an endless loop (finding 4: the CPU budget). Asserts for each: that
engine stopped with a report, its guest's command answered TPM_RC_FAILURE,
the engine restarted (from its committed state where it has one: then the
guest's next command is answered), the real engine beside it manufactured
and answers, the shell answers, the VMM did not panic (docs/security.md)."""
import os
import re
import struct
import subprocess
import sys
import time

from systest import build_dir, check, emu, run, shell

model = sys.argv[1] if len(sys.argv) > 1 else "corei7_skylake_x"

GUESTS = [  # (VM name, CPU, engine file or None for vtpm-service)
    ("eng-exhaust", 0, "hostile-engine"),   # first: it exhausts what it may before the real engine starts
    ("exits-tpm1", 1, None),
    ("eng-gs", 0, "hostile-engine"),
    ("eng-page0", 1, "hostile-engine"),
    ("eng-fault", 0, "hostile-engine"),
    ("eng-vmmread", 1, "hostile-engine"),
    ("eng-sgdt", 0, "hostile-engine"),
    ("eng-loop", 1, "hostile-engine"),
]
FAILURE = r"exits: FAIL tpm-tis-startup \(length 10 rc 0x101"
BUDGET_MS = 5000


def config():
    text = "console = com1\nlog = info\nvtpm_memory = 32M\nvtpm_budget_ms = %d\n" % BUDGET_MS
    for name, cpu, engine in GUESTS:
        text += "\n[vm %s]\nmemory = 16M\ncpus = %d\nimage = exits.elf\nconsole = on\ntpm = on\n" % (name, cpu)
        text += "cmdline = tpm=1 engine=1\n"
        if engine:
            text += "engine = %s\n" % engine
    return text


def vmm_symbol(name):
    out = subprocess.run(["nm", os.path.join(build_dir(), "vmm", "vmm.elf")], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise RuntimeError("no symbol %s in vmm.elf" % name)


# The engine reads this VMM .data address (every guest's vTPM engine
# object, pointers to their TPM state blobs): patched into its kVmmData.
VMM_DATA = vmm_symbol("_ZN6mamori2vm12_GLOBAL__N_17g_vtpmsE")


def engine_bytes():
    with open(os.path.join(build_dir(), "tests", "partition", "hostile-engine"), "rb") as f:
        data = bytearray(f.read())
    marker = b"MAMORI-VMMDATA!\0"
    at = data.find(marker)
    check(at >= 0, "no patch marker in hostile-engine")
    data[at + 16:at + 24] = struct.pack("<Q", VMM_DATA)
    return bytes(data)


def files():
    from mamori_tools import image
    f = image.default_files()
    f["exits.elf"] = os.path.join(build_dir(), "tests", "guests", "exits.elf")
    return f


def body(e):
    e.expect(r"mamori: 2 CPUs online, all 2 entered and left VMX root operation", 300)
    check(re.search(r"cpu0: ring-0 protections: SMEP (on|off).*, SMAP (on|off).*, UMIP (on|off)", e.log()),
          "no line saying which ring-0 protections are on")
    umip = "UMIP on" in e.log()
    for name, cpu, _ in GUESTS:
        e.expect(r"vm %s: created: 16 MiB .* cpu%d" % (re.escape(name), cpu), 120)
    log = lambda: e.log()
    v = lambda name, text: r"vtpm %s: %s" % (name, text)
    he = lambda name, text: v(name, r"hostile-engine %s: %s" % (name, text))
    stopped = lambda name, vec: v(name, r"CPU exception %d \(error 0x[0-9a-f]+\) at rip 0x[0-9a-f]+, cr2 0x[0-9a-f]+: "
                                        r"process stopped" % vec)
    need = [
        # finding 6: the quota stops it; the real engine, started after, is unaffected
        v("eng-exhaust", r"memory quota of 32768 KiB reached"),
        he("eng-exhaust", r"mmap refused \(-12\) after \d+ MiB"),
        v("eng-exhaust", r"exited with status 12"),
        r"\[eng-exhaust\] " + FAILURE,
        v("exits-tpm1", r"engine running \(service partition\): TPM manufactured"),
        r"\[exits-tpm1\] exits: PASS tpm-tis-startup",
        r"\[exits-tpm1\] exits: PASS tpm-tis-getrandom",
        r"\[exits-tpm1\] exits: DONE \d+ passed, 0 failed",
        # finding 1: no page 0, and GS's base from ring 3 does not reach ring 0
        he("eng-gs", r"mmap\(0, MAP_FIXED\) = -1"),
        he("eng-gs", r"getpid with GS base 0 = 1"),
        stopped("eng-gs", 6),   # WRGSBASE: #UD, CR4.FSGSBASE is clear
        r"\[eng-gs\] " + FAILURE,
        he("eng-page0", r"mmap\(0, MAP_FIXED\) = -1"),
        he("eng-page0", r"mmap\(0x1000, MAP_FIXED\) = -1"),
        he("eng-page0", r"mprotect\(0, 4096, RW\) = -12"),
        he("eng-page0", r"brk\(0x1000\) moved = 0"),
        v("eng-page0", r"CPU exception 14 \(error 0x4\) at rip 0x[0-9a-f]+, cr2 0x0: process stopped"),
        r"\[eng-page0\] " + FAILURE,
        stopped("eng-fault", 6),
        r"\[eng-fault\] " + FAILURE,
        # finding 5: the VMM's .bss is not in the engine's page tables
        v("eng-vmmread", r"CPU exception 14 \(error 0x4\) at rip 0x[0-9a-f]+, cr2 0x%x: process stopped" % VMM_DATA),
        r"\[eng-vmmread\] " + FAILURE,
        r"\[eng-sgdt\] " + FAILURE,
        # finding 4 (engine part): the endless loop is preempted and stopped at its budget, the engine
        # restarted from the state it committed, and the guest's next command answered
        he("eng-loop", r"looping"),
        v("eng-loop", r"over its CPU budget of %d ms \(at rip 0x[0-9a-f]+\): process stopped" % BUDGET_MS),
        v("eng-loop", r"engine over its CPU budget: restarted from its last committed state \(permanent 13 bytes"),
        he("eng-loop", r"restarted from the committed state"),
        he("eng-loop", r"answering after the restart"),
        # the loop starts at the VMM's own first command (its measured
        # launch's TPM2_Startup), so the guest's Startup reaches the
        # restarted engine, which answers every command alike
        r"vm eng-loop: its launch is not measured: TPM2_Startup\(CLEAR\) failed \(rc 0x101",
        r"\[eng-loop\] exits: FAIL tpm-tis-startup \(length 20 rc 0x0",
        r"\[eng-loop\] exits: PASS tpm-tis-getrandom",
        # the others are restarted fresh (they committed nothing), their pages given back
        v("eng-gs", r"engine faulted: restarted fresh \(no committed state yet: a new TPM was manufactured; \d+ pages"),
        v("eng-exhaust", r"engine exited: restarted fresh \(no committed state yet: a new TPM was manufactured; "
                         r"(8[0-9]{3}) pages of the old process freed\)"),
    ]
    if umip:
        need.append(stopped("eng-sgdt", 13))   # SGDT in ring 3 with CR4.UMIP: #GP
    else:
        need.append(he("eng-sgdt", r"SGDT gave base 0x[0-9a-f]+"))
        need.append(stopped("eng-sgdt", 14))   # the GDT is mapped (the CPU needs it) but supervisor-only
    deadline = time.monotonic() + 400
    while True:
        text = log()
        missing = [p for p in need if not re.search(p, text)]
        if not missing:
            break
        check("PANIC" not in text, "the VMM panicked")
        check(time.monotonic() < deadline, "not seen in time: %s" % missing)
        time.sleep(2)
    check("NOT CONTAINED" not in log(), "a hostile engine got through")
    check("PANIC" not in log(), "the VMM panicked")
    # What each engine tried and how it ended (for the ctest log).
    for line in log().splitlines():
        if re.search(r"ring-0 protections|vtpm eng-|\[eng-[a-z0-9]+\] exits: (FAIL|DONE)", line):
            print(line)
    shell(e, "vm list", r"exits-tpm1\s+\S+")
    # The VMM's TPM2_Startup (its measured launch stops there), the guest's
    # Startup and GetRandom: each one faults the engine, which is restarted.
    shell(e, "vm info eng-gs", r"in the service partition, 3 commands, permanent state 0 bytes, 3 restarts")
    shell(e, "vm info exits-tpm1", r"engine vtpm-service in the service partition, \d+ commands")


run("bochs_hostile_engine_" + model, body,
    lambda img: emu.Bochs(img, cpus=2, model=model, megs=512, timeout=700),
    files=files(), raw_files={"hostile-engine": engine_bytes()}, config_text=config())
