#!/usr/bin/env python3
"""Baseline for the Linux test guest, before mamori boots it: QEMU 7.2 TCG
(q35, -nodefaults, serial on stdio) boots the guest inputs that
build_guest.py made from Debian packages, with swtpm behind QEMU's
tpm-tis or tpm-crb device, and no TPM options on the kernel command line:
Linux must find the TPM through QEMU's ACPI (MSFT0101) and bind tpm_tis
resp. tpm_crb, and every step of the guest's TPM script must succeed.

  qemu_baseline.py TPM KERNEL [shell]
    TPM     tis | crb
    KERNEL  bzimage: vmlinuz through the Linux x86 boot protocol
            pvh:     the ELF vmlinux through its PVH entry note
    shell   after the script, the guest's interactive shell must answer a
            typed command

Results are judged from the guest's "mamori-tpm:" lines (tests/linux/init),
some recomputed here (the PCR extend), each with a time limit."""
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tools", "lib"))
from mamori_tools.emu import SerialLog  # noqa: E402

STEPS = ["device", "getrandom", "pcrread", "pcrextend", "sign", "nv", "ekpub"]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def boot(tmp, kernel, initrd, tpm, cmdline, timeout):
    state = os.path.join(tmp, "tpm")
    os.makedirs(state)
    sock = os.path.join(tmp, "swtpm.sock")
    swtpm = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                              "--ctrl", "type=unixio,path=" + sock, "--terminate"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    cmd = ["timeout", "-s", "INT", "-k", "5", str(timeout), "qemu-system-x86_64",
           "-machine", "q35,accel=tcg", "-cpu", "max", "-m", "512", "-smp", "1",
           "-nodefaults", "-nic", "none", "-display", "none", "-serial", "stdio", "-no-reboot",
           "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
           "-chardev", "socket,id=chrtpm,path=" + sock, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
           "-device", "tpm-%s,tpmdev=tpm0" % tpm]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log = SerialLog()

    def reader():
        while True:
            data = os.read(proc.stdout.fileno(), 4096)
            if not data:
                break
            log.feed(data)
        log.close()
    threading.Thread(target=reader, daemon=True).start()
    return proc, swtpm, log


def results(log, timeout):
    """Waits for the script's last line; returns {step: (status, detail)}."""
    log.expect(r"mamori-tpm: done (\d+) ok (\d+) failed", timeout)
    out = {}
    for m in re.finditer(r"mamori-tpm: (\S+) (ok|FAIL) ?([^\r\n]*)", log.text()):
        out.setdefault(m.group(1), (m.group(2), m.group(3)))
    return out


def judge(r, tpm, device):
    failed = {k: v for k, v in r.items() if v[0] != "ok"}
    check(not failed, "TPM steps failed: %r" % failed)
    for s in STEPS:
        check(s in r, "no result line for step %r" % s)
    drv = {"tis": "tpm_tis", "crb": "tpm_crb"}[tpm]
    check(re.fullmatch(r"driver=%s device=%s tpm_version_major=2" % (drv, device), r["device"][1]),
          "TPM not bound by %s to %s: %r" % (drv, device, r["device"][1]))
    check(re.fullmatch(r"bytes=[0-9a-f]{32}", r["getrandom"][1]), "getrandom: %r" % r["getrandom"][1])
    check(re.fullmatch(r"pcr0=[0-9A-Fa-f]{64}", r["pcrread"][1]), "pcrread: %r" % r["pcrread"][1])
    m = re.fullmatch(r"before=([0-9A-Fa-f]{64}) digest=([0-9a-f]{64}) after=([0-9A-Fa-f]{64})", r["pcrextend"][1])
    check(m, "pcrextend: %r" % r["pcrextend"][1])
    # TPM 2.0 Part 1 §17.2: PCR_Extend sets PCR := H(PCR || digest).
    want = hashlib.sha256(bytes.fromhex(m.group(1)) + bytes.fromhex(m.group(2))).hexdigest()
    check(m.group(3).lower() == want, "PCR 16 after extend is %s, SHA256(before||digest) is %s" % (m.group(3), want))
    check(re.fullmatch(r"sha256=[0-9a-f]{64}", r["ekpub"][1]), "ekpub: %r" % r["ekpub"][1])
    check(r["nv"][1].startswith("read back "), "nv: %r" % r["nv"][1])


def main():
    tpm = sys.argv[1] if len(sys.argv) > 1 else "tis"
    kind = sys.argv[2] if len(sys.argv) > 2 else "bzimage"
    name = "linux_qemu_%s_%s" % (tpm, kind)
    out = os.environ.get("MAMORI_LINUX_GUEST") or os.path.join(
        os.environ.get("MAMORI_BUILD", os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")), "tests", "linux")
    kernel = os.path.join(out, {"bzimage": "vmlinuz", "pvh": "vmlinux"}[kind])
    initrd = os.path.join(out, "initramfs.cpio.gz")
    for f in (kernel, initrd):
        if not os.path.exists(f):
            print("FAIL: %s missing: build target linux_guest (tests/linux/build_guest.py)" % f)
            return 1
    mode = "tpm-shell" if "shell" in sys.argv[3:] else "tpm"
    cmdline = "console=ttyS0 panic=-1 mamori.test=%s" % mode
    # The ACPI device Linux binds the TPM driver to (QEMU's TPM2 table and
    # MSFT0101 in its DSDT): no TPM options on the command line.
    device = "MSFT0101:00"
    if kind == "pvh":
        # QEMU 7.2's PVH loader puts the initrd just below
        # below_4g_mem_size - acpi_data_size (0x28000), but with a TPM its
        # ACPI area (table log included) starts lower (0x1FFCF000 at 512 MiB):
        # the initrd overwrites the RSDT ("RAMDISK: [mem 0x1f700000-0x1ffd7fff]"
        # over "reserved 0x1ffcf000-"), so Linux finds no ACPI TPM. Measured; the
        # bzImage boots check ACPI binding. Here tpm_tis probes 0xFED40000 itself.
        check_tpm = tpm == "tis"
        if not check_tpm:
            print("FAIL: the PVH boot runs with tpm-tis only (see above)")
            return 1
        cmdline += " tpm_tis.force=1 tpm_tis.interrupts=0"
        device = "tpm_tis"
    t0 = time.monotonic()
    limit = 240
    with tempfile.TemporaryDirectory(prefix="mamori-linux-") as tmp:
        proc, swtpm, log = boot(tmp, kernel, initrd, tpm, cmdline, limit + 30)
        try:
            log.expect(r"Linux version 6\.", 60)
            log.expect(r"%s %s: " % ({"tis": "tpm_tis", "crb": "tpm_crb"}[tpm], device), 120)
            log.expect(r"mamori-linux: init started", 120)
            r = results(log, limit - (time.monotonic() - t0))
            judge(r, tpm, device)
            t_script = time.monotonic() - t0
            # Power down through ACPI; without ACPI (the PVH boot, above) Linux can only halt.
            off = r"reboot: Power down" if kind != "pvh" else r"reboot: System halted"
            if mode == "tpm":
                log.expect(off, 30)
            else:
                log.expect(r"mamori-linux: interactive shell", 30)
                log.expect(r"# ", 30)
                proc.stdin.write(b"echo answer=$((6*7))\n")
                proc.stdin.flush()
                log.expect(r"answer=42", 30)
                proc.stdin.write(b"poweroff -f\n")
                proc.stdin.flush()
                log.expect(off, 30)
            if kind != "pvh":
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    raise Failure("QEMU did not stop after the guest powered off")
        except Exception as ex:  # noqa: BLE001 - report everything, then fail
            print("FAIL %s after %.1f s: %s" % (name, time.monotonic() - t0, ex))
            print("----- serial log -----")
            print(log.text())
            return 1
        finally:
            # Each runs in its own session: signal the whole group, since
            # `timeout` does not pass a SIGKILL on to QEMU (a halted guest
            # would keep its QEMU alive).
            for p in (proc, swtpm):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
    print("PASS %s: %s, %s, TPM script done at %.1f s, total %.1f s" % (
        name, os.path.basename(kernel), ", ".join("%s ok" % s for s in STEPS), t_script, time.monotonic() - t0))
    print("ekpub %s" % r["ekpub"][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
