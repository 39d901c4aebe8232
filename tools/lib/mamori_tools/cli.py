"""Command line of tools/mamori: one argparse parser, one subcommand per
verb. A missing build, package or device ends in one line saying what to
run (prereq.Missing), never in a traceback."""
import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

from . import build, image, paths, prereq, setup

DESCRIPTION = "mamori's driver: set up, build, write the USB image, boot it, test, benchmark."
EPILOG = """The two commands (README.md): `tools/mamori demo` and `tools/mamori test`.
Without the driver: cmake --preset host && cmake --build --preset host && ctest --preset host
(CMakePresets.json: host = build/, fuzz = build-fuzz/, release = build-release/).
Environment: MAMORI_BUILD / MAMORI_BUILD_FUZZ move the trees; MAMORI_BUILD_JOBS (ninja -j);
MAMORI_TEST_JOBS (ctest -j, default 2);
MAMORI_ALLOW_SKIP=1 lets tests skip when a prerequisite is missing (never when CI=true)."""


def add_run_options(p):
    where = p.add_mutually_exclusive_group()
    where.add_argument("--qemu", action="store_true",
                       help="QEMU (TCG) + OVMF + swtpm instead of Bochs: an emulated TPM, no VT-x")
    where.add_argument("--kvm", action="store_true",
                       help="QEMU/KVM with nested VT-x (-enable-kvm -cpu host,+vmx); checks /dev/kvm and "
                            "/sys/module/kvm_intel/parameters/nested first and says what is missing")
    p.add_argument("--crb", action="store_true", help="with --qemu/--kvm: a CRB TPM (tpm-crb) instead of TIS")
    p.add_argument("--cpus", type=int, default=2, metavar="N", help="CPUs of the emulated machine (default 2)")
    p.add_argument("--cpu-model", default="corei7_skylake_x", metavar="M",
                   help="Bochs CPU model (default corei7_skylake_x; e.g. corei7_ivy_bridge_3770k)")
    p.add_argument("--timeout", type=int, default=24 * 3600, metavar="S",
                   help="stop the emulator after S seconds (default one day)")
    p.add_argument("--image", metavar="FILE",
                   help="boot FILE instead of writing build/mamori.img from the build tree")
    p.add_argument("--linux", action="store_true",
                   help="boot tools/mamori-linux.cfg: a Debian Linux guest (2 vCPUs) that runs tpm2-tools "
                        "against its own vTPM, then a shell (vm console linux), beside the exits test guest")
    p.add_argument("--dry-run", action="store_true",
                   help="print the emulator command line (and for --kvm what is missing) without starting it")


def parser():
    ap = argparse.ArgumentParser(prog="tools/mamori", description=DESCRIPTION, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("setup", help="install the Debian packages of tools/packages.txt that are missing")

    p = sub.add_parser("build", help="configure (CMake presets) and build build/ and build-fuzz/")
    p.add_argument("--no-fuzz", action="store_true", help="only build/ (gcc), not the clang fuzz tree")
    p.add_argument("-j", dest="jobs", metavar="N", help="ninja jobs at once (default $MAMORI_BUILD_JOBS or ninja's)")
    p.add_argument("targets", nargs="*", metavar="TARGET", help="ninja targets in build/ (default: all)")

    p = sub.add_parser("image", help="write the bootable GPT/FAT32 USB image (build target `image`)")
    p.add_argument("-o", "--output", metavar="FILE", help="where (default build/mamori.img)")
    p.add_argument("--no-build", action="store_true",
                   help="write it from the build tree as it is (what `ninja -C build image` runs)")
    p.add_argument("--depfile", metavar="FILE", help="also write a Makefile-style list of its inputs")

    p = sub.add_parser("run", help="boot the image, serial console on this terminal (Ctrl-] quits)")
    add_run_options(p)

    p = sub.add_parser("test", help="set up, build both trees, run ctest in each (arguments go to ctest)",
                       description="Runs ctest in build/ and build-fuzz/. A missing prerequisite fails "
                                   "the run unless --allow-skip (never under CI=true). Arguments after "
                                   "`--` go to ctest as they are.")
    p.add_argument("--fast", action="store_true", help="leave out the tests labelled slow (ctest -LE slow)")
    p.add_argument("-R", dest="regex", metavar="REGEX", help="only tests whose name matches (ctest -R)")
    p.add_argument("-E", dest="exclude", metavar="REGEX", help="leave out tests whose name matches (ctest -E)")
    p.add_argument("-L", dest="label", metavar="LABEL", help="only tests with a matching label (ctest -L)")
    p.add_argument("-LE", dest="label_exclude", metavar="LABEL", help="leave out matching labels (ctest -LE)")
    p.add_argument("-j", dest="jobs", metavar="N", default=os.environ.get("MAMORI_TEST_JOBS", "2"),
                   help="tests run at once (default $MAMORI_TEST_JOBS or 2)")
    p.add_argument("--allow-skip", action="store_true",
                   help="a test whose prerequisite is missing skips instead of failing (MAMORI_ALLOW_SKIP=1); "
                        "ignored under CI=true")
    p.add_argument("--no-setup", action="store_true", help="do not check for missing Debian packages")
    p.add_argument("--no-build", action="store_true", help="test the trees as they are")
    p.add_argument("--no-fuzz", action="store_true", help="only build/, not build-fuzz/")
    p.add_argument("ctest_args", nargs=argparse.REMAINDER, metavar="-- CTEST-ARGS",
                   help="more ctest arguments, after --")

    p = sub.add_parser("bench", help="run the benchmarks (docs/benchmarks.md), Markdown on stdout")
    p.add_argument("--cpu-model", default="corei7_skylake_x", metavar="M", help="Bochs CPU model")
    p.add_argument("--linux", action="store_true",
                   help="only the Linux-guest benchmark: boot to init under mamori against GRUB without it, "
                        "exits by reason, TPM commands per second (about 30 minutes in Bochs)")

    p = sub.add_parser("expected-pcrs",
                       help="the PCR values and event log a guest's measured launch gives, from the boot "
                            "volume's files alone (docs/measured-launch.md)")
    p.add_argument("config", metavar="CONFIG", help="the mamori.cfg of the boot volume")
    p.add_argument("--vm", required=True, metavar="NAME", help="the guest ([vm NAME] section)")
    p.add_argument("--dir", metavar="DIR",
                   help="the boot volume's \\mamori\\ folder (default: the files `tools/mamori image` "
                        "would put there, then CONFIG's folder)")
    p.add_argument("--file", action="append", default=[], metavar="NAME=PATH",
                   help="the file NAME of the boot volume is PATH (repeatable)")
    p.add_argument("--banks", default="sha1,sha256,sha384,sha512", metavar="LIST",
                   help="the guest TPM's allocated PCR banks, in its order (default: libtpms's, all four)")
    p.add_argument("--log", metavar="OUT", help="also write the event log the guest must show to OUT")

    p = sub.add_parser("demo", help="setup + build + image + run: the one-command demo")
    add_run_options(p)
    return ap


# ---- test ----------------------------------------------------------------------

def ctest_filters(a):
    out = []
    label_exclude = "|".join(x for x in (a.label_exclude, "slow" if a.fast else None) if x)
    for flag, value in (("-R", a.regex), ("-E", a.exclude), ("-L", a.label), ("-LE", label_exclude)):
        if value:
            out += [flag, value]
    extra = list(a.ctest_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    return out + extra


def count_tests(tree, filters):
    r = subprocess.run(["ctest", "-N"] + filters, cwd=tree, capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("Total Tests:"):
            return int(line.split(":")[1])
    return 0


def skipped_tests(junit):
    """Names of the tests ctest recorded as skipped (exit 77 with
    SKIP_RETURN_CODE, or a missing requirement) in its JUnit file."""
    if not os.path.exists(junit):
        return []
    root = ElementTree.parse(junit).getroot()
    return [tc.get("name") for tc in root.iter("testcase")
            if tc.find("skipped") is not None or tc.get("status") in ("notrun", "disabled")]


def cmd_test(a):
    if a.allow_skip:
        os.environ["MAMORI_ALLOW_SKIP"] = "1"
    allow = prereq.skip_allowed()
    if a.allow_skip and not allow:
        print("test: --allow-skip is ignored under CI=true: a missing prerequisite fails the run", flush=True)
    if not a.no_setup:
        setup.ensure(allow_missing=allow)
    if not a.no_build:
        build.run(no_fuzz=a.no_fuzz)
    prereq.program("ctest", "cmake")
    filters = ctest_filters(a)
    trees = [paths.BUILD] + ([] if a.no_fuzz else [paths.BUILD_FUZZ])
    for tree in trees:
        if not os.path.exists(os.path.join(tree, "CTestTestfile.cmake")):
            raise prereq.Missing("%s is not configured: run tools/mamori build%s" % (tree, " --no-fuzz" * a.no_fuzz))
    # With a filter, a tree none of whose tests match is left out; no
    # test at all is an error (--no-tests=error), as in the presets.
    selected = [t for t in trees if count_tests(t, filters)] if filters else trees
    if not selected:
        raise prereq.Missing("no test matches %s in %s" % (" ".join(filters), ", ".join(trees)))
    rc, skipped = 0, []
    for tree in selected:
        junit = os.path.join(tree, "Testing", "mamori-junit.xml")
        if os.path.exists(junit):
            os.remove(junit)
        cmd = ["ctest", "--output-on-failure", "--no-tests=error", "-j", str(a.jobs), "--output-junit", junit]
        print("test: %s (in %s)" % (" ".join(cmd + filters), tree), flush=True)
        r = subprocess.run(cmd + filters, cwd=tree)
        rc = rc or r.returncode
        skipped += skipped_tests(junit)
    if skipped:
        print("test: %d skipped: %s" % (len(skipped), ", ".join(skipped)))
        if not allow:
            print("test: FAIL: skipped tests count as failures (a missing prerequisite is an error; "
                  "--allow-skip to accept, never under CI=true)")
            rc = rc or 1
    return rc


# ---- the others ----------------------------------------------------------------

def cmd_image(a):
    out = os.path.abspath(a.output) if a.output else paths.default_image()
    if a.no_build:
        image.write_default(out, depfile=a.depfile)
    else:
        # The build target writes build/mamori.img (same code, --no-build).
        build.build_main(["image"])
        if out != paths.default_image():
            shutil.copyfile(paths.default_image(), out)
    image.report(out)
    return 0


def cmd_run(a):
    from . import run
    return run.run(a)


def cmd_bench(a):
    from . import bench
    setup.ensure()
    build.run(no_fuzz=True)
    return bench.run(a)


def expected_pcrs_command(config, vm, files, directory=None, banks=None, log=None):
    """The mamori-expected-pcrs command line (tools/measure) for a guest
    of `config`, `files` = {name on the boot volume: host path}."""
    tool = paths.build_file("tools", "measure", "mamori-expected-pcrs")
    if not os.path.exists(tool):
        raise prereq.Missing("%s is not built: run `tools/mamori build`" % tool)
    cmd = [tool, "--config", config, "--vm", vm, "--dir", directory or os.path.dirname(os.path.abspath(config))]
    for name, path in sorted(files.items()):
        cmd += ["--file", "%s=%s" % (name, path)]
    if banks:
        cmd += ["--banks", banks]
    if log:
        cmd += ["--log", log]
    return cmd


def cmd_expected_pcrs(a):
    files = {} if a.dir else image.default_files()
    for f in a.file:
        name, eq, path = f.partition("=")
        if not eq or not name:
            print("mamori expected-pcrs: --file wants NAME=PATH, not %r" % f, file=sys.stderr)
            return 2
        files[name] = path
    return subprocess.run(expected_pcrs_command(a.config, a.vm, files, a.dir, a.banks, a.log)).returncode


def cmd_demo(a):
    setup.ensure()
    build.build_main()  # all: the Linux guest's kernel and initramfs too (target linux_guest)
    return cmd_run(a)


COMMANDS = {
    "setup": lambda a: setup.run(),
    "build": lambda a: build.run(no_fuzz=a.no_fuzz, targets=a.targets, jobs=a.jobs),
    "image": cmd_image,
    "run": cmd_run,
    "test": cmd_test,
    "bench": cmd_bench,
    "demo": cmd_demo,
    "expected-pcrs": cmd_expected_pcrs,
}


def main(argv):
    a = parser().parse_args(argv)
    try:
        return COMMANDS[a.command](a)
    except prereq.Missing as ex:
        print("mamori %s: %s" % (a.command, ex), file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as ex:
        cmd = ex.cmd if isinstance(ex.cmd, str) else " ".join(str(c) for c in ex.cmd)
        print("mamori %s: `%s` failed with status %d (its messages are above)" % (a.command, cmd, ex.returncode),
              file=sys.stderr)
        return 1
    except FileNotFoundError as ex:
        # A program started without a prerequisite check.
        name = ex.filename or str(ex)
        print("mamori %s: %s" % (a.command, prereq.message(name, prereq.package_of(os.path.basename(name)))),
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mamori %s: interrupted" % a.command, file=sys.stderr)
        return 130
