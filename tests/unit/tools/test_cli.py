#!/usr/bin/env python3
"""tools/mamori's command line: every option is in --help, `test` hands
its filters to ctest, the package check is one dpkg-query, skipped tests
are found, and every subcommand answers a missing build, package or
device with one line saying what to run, never a traceback."""
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from mamori_tools import cli, paths, setup

MAMORI = os.path.join(paths.ROOT, "tools", "mamori")

OPTIONS = {
    "setup": [],
    "build": ["--no-fuzz", "-j"],
    "image": ["-o", "--output", "--no-build", "--depfile"],
    "run": ["--qemu", "--kvm", "--crb", "--cpus", "--cpu-model", "--timeout", "--image", "--linux", "--dry-run"],
    "test": ["--fast", "-R", "-E", "-L", "-LE", "-j", "--allow-skip", "--no-setup", "--no-build", "--no-fuzz"],
    "bench": ["--cpu-model", "--linux"],
    "demo": ["--qemu", "--kvm", "--crb", "--cpus", "--cpu-model", "--timeout", "--linux"],
}


def mamori(args, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("CI", None)
    e.update(env or {})
    return subprocess.run([sys.executable, MAMORI] + args, capture_output=True, text=True, env=e, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class Help(unittest.TestCase):
    def test_every_option_is_in_help(self):
        top = mamori(["--help"])
        self.assertEqual(top.returncode, 0)
        for cmd, opts in OPTIONS.items():
            self.assertIn(cmd, top.stdout)
            h = mamori([cmd, "--help"])
            self.assertEqual(h.returncode, 0, h.stderr)
            for o in opts:
                self.assertRegex(h.stdout, r"(^|[\s\[,])%s\b" % o.replace("-", r"\-"), "%s --help lacks %s" % (cmd, o))

    def test_unknown_command_and_option(self):
        for args in (["frobnicate"], ["run", "--frobnicate"], []):
            r = mamori(args)
            self.assertEqual(r.returncode, 2)
            self.assertIn("usage:", r.stderr)
            self.assertNotIn("Traceback", r.stderr)


class TestArguments(unittest.TestCase):
    def filters(self, *argv):
        return cli.ctest_filters(cli.parser().parse_args(["test"] + list(argv)))

    def test_filters_reach_ctest(self):
        self.assertEqual(self.filters("-R", "vmx_", "-L", "unit"), ["-R", "vmx_", "-L", "unit"])
        self.assertEqual(self.filters("-E", "fuzz"), ["-E", "fuzz"])
        self.assertEqual(self.filters("--fast"), ["-LE", "slow"])
        self.assertEqual(self.filters("--fast", "-LE", "qemu"), ["-LE", "qemu|slow"])
        self.assertEqual(self.filters("-L", "unit", "--", "--repeat", "until-fail:3"),
                         ["-L", "unit", "--repeat", "until-fail:3"])
        self.assertEqual(self.filters(), [])

    def test_ctest_runs_with_no_tests_error(self):
        with tempfile.TemporaryDirectory() as b:
            open(os.path.join(b, "CTestTestfile.cmake"), "w").close()
            calls = []

            def fake_run(cmd, **kw):
                calls.append(cmd)
                return subprocess.CompletedProcess(cmd, 0, "Total Tests: 3\n", "")
            with mock.patch.object(paths, "BUILD", b), mock.patch("subprocess.run", fake_run):
                rc = cli.cmd_test(cli.parser().parse_args(["test", "--no-setup", "--no-build", "--no-fuzz",
                                                           "-R", "x"]))
            self.assertEqual(rc, 0)
            run = [c for c in calls if "-N" not in c]
            self.assertEqual(len(run), 1)
            self.assertIn("--no-tests=error", run[0])
            self.assertEqual(run[0][-2:], ["-R", "x"])


class Setup(unittest.TestCase):
    def test_one_dpkg_query_when_nothing_is_missing(self):
        calls = []
        real = subprocess.run

        def counting(cmd, **kw):
            calls.append(cmd)
            return real(cmd, **kw)
        with mock.patch("subprocess.run", counting):
            need = setup.missing(setup.wanted())
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0][0], "dpkg-query")
        if not need:
            with mock.patch("subprocess.run", counting):
                setup.ensure()
            self.assertEqual(len(calls), 2, "ensure() ran more than one check with nothing missing")

    def test_missing_package_is_named(self):
        self.assertEqual(setup.missing(["coreutils", "mamori-no-such-package"]), ["mamori-no-such-package"])


class Skips(unittest.TestCase):
    def test_junit_skips(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "j.xml")
            with open(p, "w") as f:
                f.write('<testsuite><testcase name="a" status="run"/>'
                        '<testcase name="b" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/></testcase>'
                        '</testsuite>')
            self.assertEqual(cli.skipped_tests(p), ["b"])


class OneLineAnswers(unittest.TestCase):
    """A fresh clone: no build tree; then no tools on PATH at all."""

    def one_line(self, r, want):
        self.assertNotIn("Traceback", r.stderr + r.stdout)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertTrue(lines, "no message")
        self.assertRegex(lines[-1], want)
        self.assertRegex(lines[-1], r"^mamori \w+: ")

    def test_no_build_tree(self):
        with tempfile.TemporaryDirectory() as empty:
            env = {"MAMORI_BUILD": os.path.join(empty, "build"), "MAMORI_BUILD_FUZZ": os.path.join(empty, "fz")}
            for args in (["run"], ["run", "--qemu"], ["run", "--qemu", "--crb"], ["image", "--no-build"],
                         ["test", "--no-setup", "--no-build"]):
                with self.subTest(args=args):
                    self.one_line(mamori(args, env), r"run tools/mamori build")
            self.one_line(mamori(["run", "--image", os.path.join(empty, "x.img")], env), r"tools/mamori image -o")

    def test_no_tools_on_path(self):
        with tempfile.TemporaryDirectory() as empty:
            env = {"PATH": empty, "MAMORI_BUILD": os.path.join(empty, "build"),
                   "MAMORI_BUILD_FUZZ": os.path.join(empty, "fz")}
            for args in (["setup"], ["build"], ["build", "--no-fuzz"], ["image"], ["test"], ["bench"], ["demo"],
                         ["test", "--no-setup"]):
                with self.subTest(args=args):
                    self.one_line(mamori(args, env), r"missing|install|Debian")

    def test_kvm(self):
        from mamori_tools import kvm
        r = mamori(["run", "--kvm"])
        if kvm.problems():
            self.one_line(r, r"run --kvm: no nested VT-x")
            self.assertIn("run --kvm: missing: ", r.stderr)
        d = mamori(["run", "--kvm", "--dry-run"])
        self.assertIn("-enable-kvm -cpu host,+vmx", d.stdout)
        self.assertEqual(d.returncode, 1 if kvm.problems() else 0)

    def test_linux_demo(self):
        # `demo --linux` boots tools/mamori-linux.cfg with enough RAM for its guest ...
        d = mamori(["run", "--linux", "--dry-run"])
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIn("mamori-linux.cfg", d.stdout)
        self.assertIn("megs=1024", d.stdout)
        self.assertIn("mamori-linux.img", d.stdout)
        # ... and its image carries every file that configuration loads, a
        # Linux guest with a TPM among them (the Bochs test boots the same
        # kernel and initramfs: tests/system/bochs_linux.py).
        from mamori_tools import image, paths
        files = image.linux_files()
        names = image.config_images(paths.linux_demo_config())
        self.assertIn("vmlinuz", names)
        for n in names:
            self.assertIn(n, files)
        with open(paths.linux_demo_config()) as f:
            text = f.read()
        self.assertRegex(text, r"\[vm linux\][^\[]*tpm = (on|tis|crb)")
        self.assertRegex(text, r"\[vm linux\][^\[]*cpus = 0-1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
