#!/usr/bin/env python3
"""The QEMU command lines of `tools/mamori run --qemu` and `run --kvm`
(emu.qemu_command) against the installed QEMU 7.2: every device, CPU and
machine they name exists, and QEMU itself accepts the whole line (started
with -S, so no guest code runs: no KVM is needed to check the TCG line,
and the KVM line either starts or fails only for want of KVM)."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from mamori_tools import emu, kvm, paths, prereq

QEMU = "qemu-system-x86_64"


def opt(cmd, flag):
    """Every value given to `flag` in cmd."""
    return [cmd[i + 1] for i, a in enumerate(cmd) if a == flag]


def qemu_out(*args):
    return subprocess.run([QEMU] + list(args), capture_output=True, text=True, timeout=60).stdout


class Swtpm:
    def __init__(self, work):
        self.sock = os.path.join(work, "swtpm.sock")
        os.makedirs(os.path.join(work, "state"))
        self.proc = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + os.path.join(work, "state"),
                                      "--ctrl", "type=unixio,path=" + self.sock, "--terminate"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(self.sock):
                break
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def start_paused(cmd, seconds=4):
    """Runs cmd + -S for `seconds`: (still running?, output)."""
    p = subprocess.Popen(cmd + ["-S"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=seconds)
        return False, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        return True, out.decode(errors="replace")


class QemuCommand(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="mamori-qemu-cmd-")
        cls.disk = os.path.join(cls.work, "disk.img")
        with open(cls.disk, "wb") as f:
            f.truncate(1 << 20)
        cls.vars = os.path.join(cls.work, "vars.fd")
        shutil.copyfile(paths.OVMF_QEMU_VARS, cls.vars)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def cmd(self, accel, tpm="tis", sock="/nonexistent.sock"):
        return emu.qemu_command(accel, 2, 512, self.vars, self.disk, tpm, sock, os.path.join(self.work, "dbg.log"))

    def test_kvm_line(self):
        c = self.cmd("kvm")
        self.assertIn("-enable-kvm", c)
        self.assertEqual(opt(c, "-cpu"), ["host,+vmx"])
        self.assertEqual(opt(c, "-machine"), ["q35"])          # no accel= besides -enable-kvm
        self.assertFalse(any("accel=tcg" in a for a in c))

    def test_tcg_line(self):
        c = self.cmd("tcg")
        self.assertNotIn("-enable-kvm", c)
        self.assertEqual(opt(c, "-machine"), ["q35,accel=tcg"])
        self.assertEqual(opt(c, "-cpu"), ["max"])

    def test_firmware_and_tpm(self):
        for accel in ("kvm", "tcg"):
            for tpm in ("tis", "crb"):
                c = self.cmd(accel, tpm, "/run/x.sock")
                drives = opt(c, "-drive")
                self.assertIn("if=pflash,format=raw,unit=0,readonly=on,file=%s" % paths.OVMF_QEMU_CODE, drives)
                self.assertIn("if=pflash,format=raw,unit=1,file=%s" % self.vars, drives)
                self.assertIn("tpm-%s,tpmdev=tpm0" % tpm, opt(c, "-device"))
                self.assertEqual(opt(c, "-tpmdev"), ["emulator,id=tpm0,chardev=chrtpm"])
                self.assertEqual(opt(c, "-chardev"), ["socket,id=chrtpm,path=/run/x.sock"])
        self.assertEqual(opt(self.cmd("kvm", None), "-tpmdev"), [])

    def test_qemu_is_7_2(self):
        self.assertRegex(qemu_out("--version"), r"QEMU emulator version 7\.2")

    def test_names_exist_in_this_qemu(self):
        devices = qemu_out("-device", "help")
        for c in (self.cmd("kvm", "tis"), self.cmd("kvm", "crb")):
            for d in opt(c, "-device"):
                self.assertRegex(devices, r'name "%s"' % re.escape(d.split(",")[0]))
        cpus = qemu_out("-cpu", "help")
        self.assertRegex(cpus, r"\bhost\b")
        self.assertRegex(cpus.split("Recognized CPUID flags:")[1], r"\bvmx\b")
        self.assertRegex(qemu_out("-machine", "help"), r"\bq35\b")

    def test_qemu_accepts_the_tcg_line(self):
        """All of it: firmware drives, disk, debug exit, debug log, trace, TPM."""
        for tpm in ("tis", "crb"):
            sw = Swtpm(os.path.join(self.work, "sw-" + tpm))
            try:
                running, out = start_paused(self.cmd("tcg", tpm, sw.sock))
            finally:
                sw.close()
            self.assertTrue(running, "QEMU refused the TCG line (tpm-%s):\n%s" % (tpm, out))

    def test_qemu_accepts_the_kvm_line(self):
        sw = Swtpm(os.path.join(self.work, "sw-kvm"))
        try:
            running, out = start_paused(self.cmd("kvm", "tis", sw.sock))
        finally:
            sw.close()
        usable = os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)
        if usable and kvm.problems():
            # A KVM without VT-x: QEMU warns that vmx is unavailable, then
            # either starts (kvm_pvm) or aborts setting a VT-x-only MSR
            # (kvm_amd on AMD EPYC: "failed to set MSR 0x10a"). Either way
            # kvm.problems() is what refuses to boot mamori there, before
            # QEMU is started.
            self.assertRegex(out, r"vmx|VMX", "QEMU did not warn that VT-x is missing")
        elif usable:
            self.assertTrue(running, "QEMU refused the KVM line:\n" + out)
        else:
            self.assertFalse(running)
            self.assertRegex(out, r"(?i)kvm", out)
            self.assertNotRegex(out, r"(?i)invalid|unsupported|not found|parameter", out)


if __name__ == "__main__":
    prereq.test_requires([QEMU, "swtpm", paths.OVMF_QEMU_CODE, paths.OVMF_QEMU_VARS], "tools_qemu_command_test")
    unittest.main(verbosity=2)
