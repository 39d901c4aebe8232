#!/usr/bin/env python3
"""QEMU migration of a VM whose TPM is vtpm-service: QEMU's tpm_emulator
backend saves the TPM with CMD_GET_STATEBLOB (permanent, volatile,
savestate) and restores it into a second, fresh vtpm-service with CMD_STOP,
CMD_SET_STATEBLOB and CMD_INIT. After the migration the destination TPM
must hold the source's PCRs 0-7 (extended by OVMF) and its EK. (This also
needs QEMU's 4-byte SET_LOCALITY requests to be read correctly.)"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from mamori_tools.prereq import test_requires
from vtpm_harness import Service, check, log, run_main, tpm2
from test_qemu_ovmf import OVMF_CODE, OVMF_VARS, pcrs_extended

BOOT_TIMEOUT_S = 150
MIGRATE_TIMEOUT_S = 120
PCRS = "sha256:0,1,2,3,4,5,6,7"


class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            msg = json.loads(self.f.readline())
            if "return" in msg or "error" in msg:
                check("error" not in msg, "QMP %s: %s" % (name, msg.get("error")))
                return msg["return"]


def qemu_args(qemu, work, ctrl, tag):
    vars_copy = os.path.join(work, "vars-%s.fd" % tag)
    if not os.path.exists(vars_copy):
        shutil.copy(OVMF_VARS, vars_copy)
    return [qemu, "-machine", "q35,accel=tcg", "-m", "256", "-nodefaults", "-nic", "none", "-display", "none",
            "-serial", "null",
            "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
            "-drive", "if=pflash,format=raw,file=" + vars_copy,
            "-chardev", "socket,id=chrtpm,path=" + ctrl,
            "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
            "-device", "tpm-tis,tpmdev=tpm0",
            "-qmp", "unix:%s,server=on,wait=off" % os.path.join(work, "qmp-%s.sock" % tag)]


def ek_public(svc, work):
    out = os.path.join(work, "ek-%d.pub" % svc.ports["tcp"])
    tpm2(svc.tcti(), "createek", "-c", os.path.join(work, "ek.ctx"), "-G", "rsa", "-u", out)
    tpm2(svc.tcti(), "flushcontext", "-t")
    with open(out, "rb") as f:
        return f.read()


def stop_vm(vm):
    if vm.poll() is None:
        vm.terminate()
        try:
            vm.wait(10)
        except subprocess.TimeoutExpired:
            vm.kill()
            vm.wait()


def main(binary):
    # Missing: an error naming the package, a skip only if allowed (prereq.py).
    test_requires(["qemu-system-x86_64", OVMF_CODE, OVMF_VARS])
    qemu = shutil.which("qemu-system-x86_64")
    with tempfile.TemporaryDirectory() as work:
        image = os.path.join(work, "vm.state")
        src_ctrl = os.path.join(work, "src.ctrl")
        dst_ctrl = os.path.join(work, "dst.ctrl")
        src = Service(binary, kinds=("tcp",), extra=["--server", "unix:" + src_ctrl]).start()
        dst = Service(binary, kinds=("tcp",), extra=["--server", "unix:" + dst_ctrl]).start()
        vms = []
        try:
            src_log = open(os.path.join(work, "qemu-src.log"), "w")
            vm = subprocess.Popen(qemu_args(qemu, work, src_ctrl, "src"), stdin=subprocess.DEVNULL,
                                  stdout=src_log, stderr=subprocess.STDOUT)
            vms.append(vm)
            t0 = time.time()
            src_pcrs = None
            while time.time() - t0 < BOOT_TIMEOUT_S:
                time.sleep(2)
                check(vm.poll() is None, "source QEMU exited")
                r = tpm2(src.tcti(), "pcrread", PCRS, check_rc=False)
                if r.returncode == 0 and pcrs_extended(r.stdout.decode()) == set(range(8)):
                    src_pcrs = r.stdout
                    break
            check(src_pcrs is not None, "OVMF did not extend PCRs 0-7 on the source")
            qmp = Qmp(os.path.join(work, "qmp-src.sock"))
            qmp.cmd("stop")
            # PCRs may have moved between our read and the stop: read again.
            src_pcrs = tpm2(src.tcti(), "pcrread", PCRS)
            # (QEMU ends the source vtpm-service with CMD_SHUTDOWN when it
            # quits, so everything about the source is read now.)
            src_ek = ek_public(src, work)
            qmp.cmd("migrate", uri="exec:cat > " + image)
            t1 = time.time()
            while True:
                info = qmp.cmd("query-migrate")
                status = info.get("status")
                if status in ("completed", "failed", "cancelled"):
                    break
                check(time.time() - t1 < MIGRATE_TIMEOUT_S, "migration did not finish")
                time.sleep(0.5)
            check(status == "completed", "source migration %s: %s" % (status, info.get("error-desc")))
            stop_vm(vm)

            dvm = subprocess.Popen(qemu_args(qemu, work, dst_ctrl, "dst") + ["-incoming", "exec:cat " + image],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            vms.append(dvm)
            dq = Qmp(os.path.join(work, "qmp-dst.sock"))
            t2 = time.time()
            while True:
                status = dq.cmd("query-migrate").get("status")
                if status in ("completed", "failed"):
                    break
                check(time.time() - t2 < MIGRATE_TIMEOUT_S, "incoming migration did not finish")
                time.sleep(0.5)
            check(status == "completed", "destination migration status: %s" % status)
            dst_pcrs = tpm2(dst.tcti(), "pcrread", PCRS)
            log("source PCRs:\n" + src_pcrs.decode())
            check(dst_pcrs == src_pcrs, "destination PCRs differ:\n" + dst_pcrs.decode())
            check(ek_public(dst, work) == src_ek, "EK differs after migration")
            log("QEMU migration moved the vTPM: PCRs 0-7 and EK equal (%.0fs)" % (time.time() - t0))
        finally:
            for v in vms:
                stop_vm(v)
            log("source log: " + src.log_text().strip())
            log("destination log: " + dst.log_text().strip())
            src.stop()
            dst.stop()


if __name__ == "__main__":
    run_main(main)
