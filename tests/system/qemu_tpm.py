"""QEMU TCG + OVMF + swtpm (tpm-tis or tpm-crb, argv[1]): no VT-x here, so
the VMM must diagnose that precisely and keep the console alive; it must
find the ACPI TPM2 table and the TPM at 0xFED40000 and print its IDs, and
its platform TPM driver (drivers/tpm) must talk to swtpm through QEMU's
interface: properties (swtpm is libtpms: manufacturer IBM), PCR banks, a
GetRandom and a PCR_Read round trip. PCR0 must be non-zero: OVMF measured
the firmware into it, so a zero would mean the driver read something else."""
import re
import sys

from systest import emu, ends_cleanly, mark, run, seen, shell

kind = sys.argv[1] if len(sys.argv) > 1 else "tis"


def body(e):
    e.expect(r"VMM entered", 120)
    e.expect(r"acpi: RSDP rev 2 .* 2 CPUs in the MADT, .*TPM2 table", 60)
    if kind == "tis":
        e.expect(r"acpi: TPM2 start method 6 ", 30)
        # QEMU's tpm-tis: DID_VID 0x00011014 (HARNESS.md), FIFO interface.
        e.expect(r"tpm: FIFO \(PTP\) TPM at 0xfed40000: DID_VID 0x00011014", 30)
    else:
        e.expect(r"acpi: TPM2 start method 7 \(CRB\), control area 0xfed40040", 30)
        e.expect(r"tpm: CRB TPM at 0xfed40000: DID_VID 0x[0-9a-f]{8}", 30)
    iface = "FIFO/TIS" if kind == "tis" else "CRB"
    e.expect(r"tpm: platform TPM: %s at 0xfed40000 \(ACPI TPM2 table\), manufacturer \"IBM\", "
             r"vendor \"SW   TPM\", firmware [0-9a-f]{8}\.[0-9a-f]{8}, banks [^\r\n]*sha256\(24\)" % re.escape(iface), 60)
    m = e.expect(r"tpm: round trip: GetRandom 16 bytes, PCR_Read sha256 PCR0 ([0-9a-f]{64})", 60)
    pcr0 = m.group(1).decode()
    assert pcr0 != "0" * 64, "PCR0 reads as zero: OVMF measures into it"
    seen(e, r"cpu1 INFO  cpu1: application processor online", 60)
    seen(e, r"cpu1 WARN  vmx: no VMX: CPUID.1:ECX.VMX\[bit 5\] = 0 \(AuthenticAMD, an AMD CPU: SVM is not supported\)", 60)
    seen(e, r"cpu0 WARN  vmx: no VMX: CPUID.1:ECX.VMX\[bit 5\] = 0", 60)
    e.expect(r"2 CPUs online, 0 VMX-capable", 60)
    e.expect(r"mamori> ", 30)
    shell(e, "acpi", r"TPM2: start method %d" % (6 if kind == "tis" else 7))
    shell(e, "cpus", r"cpu1 apic 1 no-vmx")
    # `tpm info` queries the TPM again: same PCR0 (nothing extended since),
    # fresh random bytes.
    shell(e, "tpm info", r"pcr0       sha256 %s" % pcr0)
    pos = mark(e)
    e.send("poweroff\r")
    e.expect(r"asking the firmware to power off", 30)
    ends_cleanly(e, "poweroff", pos)


run("qemu_tpm_" + kind, body, lambda img: emu.Qemu(img, tpm=kind, cpus=2, timeout=240))
