#!/usr/bin/env python3
"""Turn a VMX MSR dump into an MsrSet block for msr_sets.hpp.

Accepts either
  * bochs_msr_dump/run.sh output ("C0DE0001 ..." CPUID tag, "00000480 ..." lines), or
  * the VMM's boot log lines
      vmx: raw MSRs basic=... pin=... proc=... exit=... entry=...
      vmx: raw MSRs misc=... cr0f0=... cr0f1=... cr4f0=... cr4f1=...
      vmx: raw MSRs enum=... proc2=... ept_vpid=... vmfunc=...
      vmx: raw MSRs true_pin=... true_proc=... true_exit=... true_entry=...

Usage: msr_set_from_log.py NAME VARIABLE < log > snippet
"""
import re
import sys

KEYS = {
    "basic": 0x480, "pin": 0x481, "proc": 0x482, "exit": 0x483, "entry": 0x484,
    "misc": 0x485, "cr0f0": 0x486, "cr0f1": 0x487, "cr4f0": 0x488, "cr4f1": 0x489,
    "enum": 0x48A, "proc2": 0x48B, "ept_vpid": 0x48C, "true_pin": 0x48D,
    "true_proc": 0x48E, "true_exit": 0x48F, "true_entry": 0x490, "vmfunc": 0x491,
}


def parse(text):
    msrs, cpuid_ecx, maxphy = {}, None, None
    for line in text.splitlines():
        m = re.match(r"^([0-9A-F]{8}) ([0-9A-F]{16})$", line.strip())
        if m:
            tag, val = int(m.group(1), 16), int(m.group(2), 16)
            if tag == 0xC0DE0001:
                cpuid_ecx = val & 0xFFFFFFFF
            elif tag == 0xC0DE8008:
                maxphy = val & 0xFF
            else:
                msrs[tag] = val
            continue
        if "raw MSRs" in line:
            for key, val in re.findall(r"(\w+)=([0-9a-fA-F]+)", line):
                if key in KEYS:
                    msrs[KEYS[key]] = int(val, 16)
    return msrs, cpuid_ecx, maxphy


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    name, var = sys.argv[1], sys.argv[2]
    msrs, ecx, maxphy = parse(sys.stdin.read())
    if 0x480 not in msrs:
        sys.exit("no IA32_VMX_BASIC in the input")
    # The VMM prints vmfunc=0 when the MSR is absent; keep absent MSRs out.
    if msrs.get(0x491) == 0:
        del msrs[0x491]
    ecx_s = f"0x{ecx:08X}" if ecx is not None else "0x00000020 /* CPUID.1:ECX not in log: VMX bit only */"
    phy_s = str(maxphy) if maxphy is not None else "36 /* MAXPHYADDR not in log: assumed */"
    print(f"inline constexpr MsrSet {var} = {{")
    print(f'    "{name}", {ecx_s}, {phy_s},')
    rows = [f"{{0x{i:03X}, 0x{v:016X}}}" for i, v in sorted(msrs.items()) if v or i == 0x3A]
    print("    {" + ",\n     ".join(rows + ["{0, 0}"]) + "}};")


if __name__ == "__main__":
    main()
