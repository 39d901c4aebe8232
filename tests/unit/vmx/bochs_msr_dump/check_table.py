#!/usr/bin/env python3
"""System test: boot dump.S in Bochs for each Bochs model in msr_sets.hpp and
check the table still holds exactly what this Bochs reports (CPUID.1:ECX,
MAXPHYADDR and every MSR). A missing bochs or binutils fails the test
naming the package (exit 77, skipped, only with MAMORI_ALLOW_SKIP=1
outside CI: tools/lib/mamori_tools/prereq.py)."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from msr_set_from_log import parse  # noqa: E402

MODELS = {"kBochsSkylakeX": "corei7_skylake_x", "kBochsIvyBridge": "corei7_ivy_bridge_3770k"}


def table_entry(header, var):
    m = re.search(r"MsrSet %s = \{\s*\"[^\"]+\", (0x[0-9A-Fa-f]+), (\d+),\s*\{(.*?)\{0, 0\}\}\};" % var,
                  header, re.S)
    if not m:
        sys.exit(f"{var} not found in msr_sets.hpp")
    msrs = {int(i, 16): int(v, 16) for i, v in re.findall(r"\{(0x[0-9A-Fa-f]+), (0x[0-9A-Fa-f]+)\}", m.group(3))}
    return int(m.group(1), 16), int(m.group(2)), msrs


def main():
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "tools", "lib"))
    from mamori_tools.prereq import test_requires
    test_requires(["bochs", "as", "ld", "/usr/share/bochs/BIOS-bochs-latest",
                   "/usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so.0.0.0"], "vmx_bochs_msr_table")
    header = open(os.path.join(os.path.dirname(HERE), "msr_sets.hpp")).read()
    failed = False
    for var, model in MODELS.items():
        out = subprocess.run([os.path.join(HERE, "run.sh"), model], capture_output=True, text=True,
                             timeout=120).stdout
        msrs, ecx, maxphy = parse(out)
        want_ecx, want_phy, want = table_entry(header, var)
        got = dict(msrs)
        print(f"{model}: {len(got)} MSRs read from Bochs")
        if not got:
            print(f"FAIL {model}: Bochs printed nothing:\n{out}")
            failed = True
            continue
        if ecx != want_ecx or maxphy != want_phy:
            print(f"FAIL {model}: CPUID.1:ECX {ecx:#x} (table {want_ecx:#x}), MAXPHYADDR {maxphy} (table {want_phy})")
            failed = True
        for idx in sorted(set(got) | set(want)):
            if got.get(idx) != want.get(idx):
                g, w = got.get(idx), want.get(idx)
                print(f"FAIL {model}: MSR {idx:#x}: Bochs {g if g is None else hex(g)}, table {w if w is None else hex(w)}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
