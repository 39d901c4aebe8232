"""Shared by the system tests: build a USB image from the build tree, boot
it in an emulator with a time limit, assert on the serial log, and print
the whole log when an assertion fails (ctest shows it)."""
import os
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "lib"))

from mamori_tools import emu, image, paths  # noqa: E402


def build_dir():
    return os.environ.get("MAMORI_BUILD", paths.BUILD)


def make_image(tmpdir, files=None, omit=(), raw_files=None, config_text=None):
    b = build_dir()
    paths.BUILD = b
    f = dict(files if files is not None else image.default_files())
    if config_text is not None:
        p = os.path.join(tmpdir, "mamori.cfg")
        with open(p, "w") as fh:
            fh.write(config_text)
        f["mamori.cfg"] = p
    out = os.path.join(tmpdir, "test.img")
    return image.write_image(out, efi=os.path.join(b, "boot", "BOOTX64.EFI"), files=f, omit=omit,
                             raw_files=raw_files)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(name, body, emulator_factory, **image_args):
    """body(e) drives the booted emulator `e`; exceptions fail the test."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mamori-systest-") as tmp:
        img = make_image(tmp, **image_args)
        e = emulator_factory(img)
        try:
            with e:
                body(e)
        except Exception as ex:  # noqa: BLE001 - report everything, then fail
            print("FAIL %s after %.1f s: %s" % (name, time.monotonic() - t0, ex))
            traceback.print_exc()
            print("----- serial log -----")
            print(e.log())
            if hasattr(e, "bochs_output"):
                print(e.bochs_output())
            sys.exit(1)
    print("PASS %s (%.1f s)" % (name, time.monotonic() - t0))
    sys.exit(0)


def seen(e, pattern, timeout=60):
    """Waits until `pattern` appears anywhere in the log (order-free)."""
    import re
    deadline = time.monotonic() + timeout
    while not re.search(pattern, e.log()):
        if time.monotonic() > deadline:
            raise Failure("not seen within %d s: %r" % (timeout, pattern))
        time.sleep(0.5)


def shell(e, command, expect, timeout=60):
    """Types a command on the serial console and waits for `expect`, then the prompt."""
    e.send(command + "\r")
    m = e.expect(expect, timeout)
    e.expect("mamori> ", timeout)
    return m
