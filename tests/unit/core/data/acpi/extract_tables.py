#!/usr/bin/env python3
"""extract_tables.py MEMORY_DUMP OUT_DIR [BASE]

Finds the ACPI RSDP in a raw dump of physical memory (QEMU monitor
`pmemsave`, starting at physical address BASE, default 0), follows it to the
XSDT/RSDT and writes every reachable table in the capture format of
README.md: <SIG>@0x<addr>.bin (plus the DSDT/FACS named by the FADT).
Only structures with correct checksums are taken."""
import os, struct, sys

def main():
    dump, out = sys.argv[1], sys.argv[2]
    base = int(sys.argv[3], 0) if len(sys.argv) > 3 else 0
    mem = open(dump, "rb").read()

    def at(addr, n):
        off = addr - base
        if off < 0 or off + n > len(mem):
            raise ValueError(f"0x{addr:x}+{n} outside the dump")
        return mem[off:off + n]

    # ACPI 6.4 §5.2.5.2: on UEFI systems the RSDP is found through the
    # configuration table, and it need not be 16-byte aligned (OVMF puts its
    # ACPI 1.0 RSDP at ...000 and the ACPI 2.0 one at ...014). In a dump,
    # search every offset; prefer a revision-2 RSDP (the ACPI 2.0 table,
    # what the loader hands over) over a revision-0 one.
    candidates = []
    i = mem.find(b"RSD PTR ")
    while i != -1:
        if i + 20 <= len(mem) and sum(mem[i:i + 20]) & 0xff == 0:
            rev = mem[i + 15]
            if rev < 2:
                candidates.append((0, base + i))
            elif i + 36 <= len(mem) and sum(mem[i:i + 36]) & 0xff == 0:
                candidates.append((1, base + i))
        i = mem.find(b"RSD PTR ", i + 1)
    if not candidates:
        sys.exit("no RSDP in the dump")
    rsdp = max(candidates, key=lambda c: (c[0], -c[1]))[1]
    for _, a in candidates:
        print(f"RSDP candidate at 0x{a:x}" + (" (chosen)" if a == rsdp else ""))
    os.makedirs(out, exist_ok=True)
    r = at(rsdp, 36)
    rev = r[15]
    files = {("RSDP", rsdp): at(rsdp, 36 if rev >= 2 else 20)}
    rsdt, = struct.unpack_from("<I", r, 16)
    xsdt = struct.unpack_from("<Q", r, 24)[0] if rev >= 2 else 0

    def table(addr):
        length, = struct.unpack_from("<I", at(addr, 8), 4)
        t = at(addr, length)
        if sum(t) & 0xff:
            print(f"warning: bad checksum at 0x{addr:x}", file=sys.stderr)
        return t

    entries = []
    for root, size in ((xsdt, 8), (rsdt, 4)):
        if not root:
            continue
        t = table(root)
        files[(t[:4].decode(), root)] = t
        for i in range((len(t) - 36) // size):
            e = struct.unpack_from("<Q" if size == 8 else "<I", t, 36 + i * size)[0]
            if e not in entries:
                entries.append(e)
    for e in entries:
        if e == 0:
            print("root entry 0 (null) skipped")
            continue
        t = table(e)
        sig = t[:4].decode()
        files[(sig, e)] = t
        if sig == "FACP":  # FADT: FACS @36 (32-bit), DSDT @40, X_DSDT @140 (ACPI 6.4 §5.2.9)
            dsdt, = struct.unpack_from("<I", t, 40)
            if len(t) >= 148:
                x = struct.unpack_from("<Q", t, 140)[0]
                dsdt = x or dsdt
            if dsdt:
                files[("DSDT", dsdt)] = table(dsdt)
    for (sig, addr), data in files.items():
        with open(os.path.join(out, f"{sig}@0x{addr:x}.bin"), "wb") as f:
            f.write(data)
        print(f"{sig} @ 0x{addr:x} ({len(data)} bytes)")

main()
