#!/usr/bin/env python3
"""kvm.problems(): what `tools/mamori run --kvm` says is missing, on fake
/dev, /sys and /proc trees for each host a user may have."""
import os
import tempfile
import unittest

from mamori_tools import kvm

INTEL_FLAGS = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic vmx ept vpid\n"
NO_VMX_FLAGS = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic hypervisor\n"


class Host:
    def __init__(self, dev_kvm=True, module="kvm_intel", nested="Y", flags=INTEL_FLAGS, dev_mode=0o666):
        self.dir = tempfile.TemporaryDirectory()
        root = self.root = self.dir.name
        os.makedirs(os.path.join(root, "dev"))
        os.makedirs(os.path.join(root, "proc"))
        if dev_kvm:
            p = os.path.join(root, "dev", "kvm")
            open(p, "w").close()
            os.chmod(p, dev_mode)
        if module:
            params = os.path.join(root, "sys", "module", module, "parameters")
            os.makedirs(params)
            if nested is not None:
                with open(os.path.join(params, "nested"), "w") as f:
                    f.write(nested + "\n")
        with open(os.path.join(root, "proc", "cpuinfo"), "w") as f:
            f.write("processor\t: 0\n" + flags)

    def problems(self):
        return kvm.problems(self.root)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.dir.cleanup()


class KvmChecks(unittest.TestCase):
    def test_nested_intel_host_is_ready(self):
        for nested in ("Y", "1"):
            with Host(nested=nested) as h:
                self.assertEqual(h.problems(), [])

    def test_no_dev_kvm(self):
        with Host(dev_kvm=False) as h:
            p = h.problems()
            self.assertEqual(len(p), 1)
            self.assertIn("/dev/kvm is missing", p[0])

    @unittest.skipIf(os.geteuid() == 0, "root may open any file")
    def test_dev_kvm_not_accessible(self):
        with Host(dev_mode=0o600) as h:
            os.chmod(os.path.join(h.root, "dev", "kvm"), 0)
            self.assertIn("group kvm", " ".join(h.problems()))

    def test_nested_off(self):
        for nested in ("N", "0"):
            with Host(nested=nested) as h:
                p = h.problems()
                self.assertEqual(len(p), 1)
                self.assertIn("/sys/module/kvm_intel/parameters/nested is %s: nested VT-x is off" % nested, p[0])
                self.assertIn("options kvm_intel nested=1", p[0])

    def test_nested_parameter_missing(self):
        with Host(nested=None) as h:
            self.assertIn("parameters/nested is missing", " ".join(h.problems()))

    def test_amd_host(self):
        with Host(module="kvm_amd", flags="flags\t\t: fpu svm\n") as h:
            p = h.problems()
            self.assertTrue(any("kvm_intel is missing" in l or "/sys/module/kvm_intel is missing" in l for l in p), p)
            self.assertIn("kvm_amd", " ".join(p))
            self.assertIn("no vmx flag", " ".join(p))

    def test_this_machine_says_something_precise(self):
        """Whatever this host is, the answer is either ready or names a path."""
        for line in kvm.problems():
            self.assertRegex(line, r"^(/dev/kvm|/sys/module/kvm_intel|/proc/cpuinfo)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
