#!/usr/bin/env python3
"""QEMU (TCG) + OVMF using vtpm-service as its TPM through -tpmdev emulator:
QEMU connects to the unix control socket and hands over the data channel
with CMD_SET_DATAFD. The same process also serves swtpm TCP, through which
the test reads PCRs 0-7 while the firmware boots: OVMF must have extended
every one of them (they start at zero). The QEMU TPM front-end is the
second argument: tpm-tis (default) or tpm-crb."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from mamori_tools.prereq import test_requires
from vtpm_harness import Service, check, log, run_main, tpm2

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
BOOT_TIMEOUT_S = 150
POLL_INTERVAL_S = 2
ZERO_SHA256 = "0x" + "0" * 64


def pcrs_extended(out):
    """Parses tpm2_pcrread output; returns the PCR indices 0-7 that are non-zero."""
    done = set()
    for line in out.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 2 and parts[0].strip().isdigit():
            idx = int(parts[0].strip())
            if parts[1].strip().lower() != ZERO_SHA256.lower():
                done.add(idx)
    return done


def main(binary):
    # Missing: an error naming the package, a skip only if allowed (prereq.py).
    test_requires(["qemu-system-x86_64", OVMF_CODE, OVMF_VARS])
    qemu = shutil.which("qemu-system-x86_64")
    device = sys.argv[2] if len(sys.argv) > 2 else "tpm-tis"
    with tempfile.TemporaryDirectory() as work:
        ctrl = os.path.join(work, "vtpm.ctrl")
        svc = Service(binary, kinds=("tcp",), extra=["--server", "unix:" + ctrl]).start()
        vars_copy = os.path.join(work, "vars.fd")
        shutil.copy(OVMF_VARS, vars_copy)
        serial = os.path.join(work, "serial.log")
        args = [qemu, "-machine", "q35,accel=tcg", "-m", "256", "-nodefaults", "-nic", "none",
                "-display", "none", "-serial", "file:" + serial,
                "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,file=" + vars_copy,
                "-chardev", "socket,id=chrtpm,path=" + ctrl,
                "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                "-device", device + ",tpmdev=tpm0"]
        qemu_log = open(os.path.join(work, "qemu.log"), "w")
        vm = subprocess.Popen(args, stdout=qemu_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        t = svc.tcti()
        extended = set()
        t0 = time.time()
        try:
            while time.time() - t0 < BOOT_TIMEOUT_S:
                time.sleep(POLL_INTERVAL_S)
                check(vm.poll() is None, "QEMU exited early: " + open(os.path.join(work, "qemu.log")).read())
                check(svc.alive(), "vtpm-service died: " + svc.log_text())
                r = tpm2(t, "pcrread", "sha256:0,1,2,3,4,5,6,7", check_rc=False)
                if r.returncode != 0:
                    continue  # firmware has not sent TPM2_Startup yet
                extended = pcrs_extended(r.stdout.decode())
                if extended == set(range(8)):
                    break
            log("%s: after %.0fs, PCRs extended by OVMF: %s" % (device, time.time() - t0, sorted(extended)))
            log(tpm2(t, "pcrread", "sha256:0,1,2,3,4,5,6,7").decode())
            check(extended == set(range(8)), "PCRs 0-7 not all extended by OVMF: %s" % sorted(extended))
        finally:
            vm.terminate()
            try:
                vm.wait(10)
            except subprocess.TimeoutExpired:
                vm.kill()
                vm.wait()
            qemu_log.close()
            log("vtpm-service log: " + svc.log_text().strip())
            svc.stop()


if __name__ == "__main__":
    run_main(main)
