"""QEMU TCG + OVMF + swtpm (tpm-tis or tpm-crb, argv[1]): no VT-x here, so
the VMM must diagnose that precisely and keep the console alive; it must
find the ACPI TPM2 table and the TPM at 0xFED40000 and print its IDs, and
its platform TPM driver (drivers/tpm) must talk to swtpm through QEMU's
interface: properties (swtpm is libtpms: manufacturer IBM), PCR banks, a
GetRandom and a PCR_Read round trip, and in `tpm info` a CreatePrimary of
the storage key (its Name: SHA-256 nameAlg + digest). PCR0 must be non-zero: OVMF measured
the firmware into it, so a zero would mean the driver read something else."""
import os
import re
import subprocess
import sys
import time

from systest import check, emu, ends_cleanly, mark, prereq, run, seen, shell

# tpm2-tools, for the cross-check of the storage key (check_srk_with_tpm2_tools).
TPM2_TOOLS = ["tpm2_createprimary", "tpm2_readpublic"]

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
    m = shell(e, "tpm info", r"pcr0       sha256 %s\r?\nsrk        ECC P-256 storage key, name (000b[0-9a-f]{64})" % pcr0)
    srk_name = m.group(1).decode()
    pos = mark(e)
    e.send("poweroff\r")
    e.expect(r"asking the firmware to power off", 30)
    ends_cleanly(e, "poweroff", pos)
    check_srk_with_tpm2_tools(e, srk_name)


def check_srk_with_tpm2_tools(e, srk_name):
    """The storage key the VMM's driver created must be the one tpm2-tools
    creates from the same template on the same swtpm state (the owner seed
    survives; PCRs do not, so PCR 0 cannot be compared this way)."""
    e.swtpm.wait(timeout=30)  # --terminate: it ends with QEMU and saves its state
    port = emu.free_port()
    ctrl = port + 1  # the swtpm TCTI talks to the control channel at port + 1
    state = os.path.join(e.tmp, "tpm")
    tpm = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                            "--server", "type=tcp,port=%d" % port, "--ctrl", "type=tcp,port=%d" % ctrl,
                            "--flags", "not-need-init,startup-clear"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        tcti = "swtpm:port=%d" % port
        ctx = os.path.join(e.tmp, "srk.ctx")
        for _ in range(50):
            r = subprocess.run(["tpm2_createprimary", "-T", tcti, "-C", "o", "-g", "sha256", "-G", "ecc256:aes128cfb",
                                "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt",
                                "-c", ctx], capture_output=True, text=True)
            if r.returncode == 0:
                break
            time.sleep(0.1)  # swtpm not listening yet
        check(r.returncode == 0, "tpm2_createprimary failed: %s" % r.stderr)
        r = subprocess.run(["tpm2_readpublic", "-T", tcti, "-c", ctx], capture_output=True, text=True)
        m = re.search(r"^name: ([0-9a-f]+)$", r.stdout, re.M)
        check(m is not None, "tpm2_readpublic printed no name: %s %s" % (r.stdout, r.stderr))
        check(m.group(1) == srk_name, "storage key names differ: VMM %s, tpm2-tools %s" % (srk_name, m.group(1)))
    finally:
        tpm.kill()
        tpm.wait()


def qemu(img):
    for name, package in prereq.absent(TPM2_TOOLS):
        raise prereq.Missing(prereq.message(name, package))
    return emu.Qemu(img, tpm=kind, cpus=2, timeout=240)


run("qemu_tpm_" + kind, body, qemu)
