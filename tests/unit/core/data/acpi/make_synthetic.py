#!/usr/bin/env python3
"""Writes synthetic-q35-crb/: ACPI tables laid out like OVMF on QEMU q35
(2 CPUs, one I/O APIC, ISA overrides, a CRB TPM with event log), in the
capture format described in README.md. Not a capture of real firmware: it
exists so the capture test runs before real captures are dropped in."""
import os, struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "synthetic-q35-crb")

def checksum_fix(b, at, n):
    b[at] = 0
    b[at] = (-sum(b[:n])) & 0xff

def table(sig, body, rev=1):
    t = bytearray(sig + struct.pack("<IBB", 36 + len(body), rev, 0) + b"BOCHS " + b"BXPC    " +
                  struct.pack("<I", 1) + b"BXPC" + struct.pack("<I", 1)) + body
    checksum_fix(t, 9, len(t))
    return bytes(t)

RSDP, XSDT, RSDT = 0x7fb7e014, 0x7fb7d0e8, 0x7fb7d000
FACP, APIC, HPET, MCFG, WAET, TPM2 = 0x7fb79000, 0x7fb78000, 0x7fb77000, 0x7fb76000, 0x7fb75000, 0x7fb74000
tables = {}

madt = struct.pack("<II", 0xfee00000, 1)
madt += struct.pack("<BBBBI", 0, 8, 0, 0, 1)            # CPU 0
madt += struct.pack("<BBBBI", 0, 8, 1, 1, 1)            # CPU 1
madt += struct.pack("<BBBBII", 1, 12, 0, 0, 0xfec00000, 0)
for src, gsi, flags in ((0, 2, 0), (5, 5, 0xd), (9, 9, 0xd), (10, 10, 0xd), (11, 11, 0xd)):
    madt += struct.pack("<BBBBIH", 2, 10, 0, src, gsi, flags)
madt += struct.pack("<BBBHB", 4, 6, 0xff, 0, 1)          # LINT1 NMI on all CPUs
tables[("APIC", APIC)] = table(b"APIC", madt, 3)
tables[("FACP", FACP)] = table(b"FACP", bytes(244 - 36), 5)
tables[("HPET", HPET)] = table(b"HPET", struct.pack("<I", 0x8086a201) + bytes(16))
tables[("MCFG", MCFG)] = table(b"MCFG", bytes(8) + struct.pack("<QHBBI", 0xb0000000, 0, 0, 0xff, 0))
tables[("WAET", WAET)] = table(b"WAET", struct.pack("<I", 2))
tpm2 = struct.pack("<HHQI", 0, 0, 0xfed40040, 7) + bytes(12) + struct.pack("<IQ", 0x10000, 0x7fa4e000)
tables[("TPM2", TPM2)] = table(b"TPM2", tpm2, 4)

addrs = [FACP, APIC, HPET, MCFG, WAET, TPM2]
tables[("XSDT", XSDT)] = table(b"XSDT", b"".join(struct.pack("<Q", a) for a in addrs))
tables[("RSDT", RSDT)] = table(b"RSDT", b"".join(struct.pack("<I", a) for a in addrs))

rsdp = bytearray(b"RSD PTR " + b"\0" + b"BOCHS " + bytes([2]) + struct.pack("<IIQ", RSDT, 36, XSDT) + bytes(4))
checksum_fix(rsdp, 8, 20)
checksum_fix(rsdp, 32, 36)
tables[("RSDP", RSDP)] = bytes(rsdp)

os.makedirs(OUT, exist_ok=True)
for (sig, addr), data in tables.items():
    with open(os.path.join(OUT, f"{sig}@0x{addr:x}.bin"), "wb") as f:
        f.write(data)
with open(os.path.join(OUT, "expect.txt"), "w") as f:
    f.write("# synthetic (make_synthetic.py), modelled on OVMF on QEMU q35 with tpm-crb\n"
            "root XSDT\ncpus 2\nioapics 1\nlapic 0xfee00000\n"
            "tpm2_start_method 7\ntpm2_control_area 0xfed40040\n")
