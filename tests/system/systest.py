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

from mamori_tools import emu, image, paths, prereq  # noqa: E402


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
        try:
            img = make_image(tmp, **image_args)
            e = emulator_factory(img)
        except prereq.Missing as ex:
            # An emulator, firmware or image tool is not installed: an
            # error unless skipping is allowed (prereq.py, docs/development.md).
            prereq.missing_exit([str(ex)], name)
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


def mark(e):
    """Where the log ends now: pass it to seen(since=...) to look only at
    what comes after a command."""
    return len(e.serial.buf)


def text_since(e, pos):
    return bytes(e.serial.buf[pos:]).decode("utf-8", "replace")


def seen(e, pattern, timeout=60, since=0):
    """Waits until `pattern` appears in the log after byte `since` (mark()),
    in any order relative to other expect()/seen() calls."""
    import re
    deadline = time.monotonic() + timeout
    while not re.search(pattern, bytes(e.serial.buf[since:]).decode("utf-8", "replace")):
        if time.monotonic() > deadline:
            raise Failure("not seen within %d s%s: %r" % (timeout, " after byte %d" % since if since else "", pattern))
        time.sleep(0.5)


# What the VMM prints when it fails: a panic (vmm/panic.cpp), a CPU
# exception report, a guest or VMM triple fault.
FAILURE_TEXT = r"PANIC|CPU exception|[Tt]riple fault|all CPUs stopped"


def ends_cleanly(e, want, pos, timeout=60):
    """After a `poweroff` or `reboot` typed at byte `pos` of the log: the
    emulator must end by itself the way `want` ("poweroff" or "reset")
    says, with its own status for that (emu.Bochs.powered_off,
    emu.Qemu.ended), and nothing after `pos` may report a failure. A
    triple fault or a panic also ends an emulator: they fail here."""
    import re
    if isinstance(e, emu.Bochs):
        check(want == "poweroff", "Bochs tests check power-off only")
        why = e.powered_off(timeout)
    else:
        why = e.ended(want, timeout)
    check(why is None, why)
    bad = re.findall(r"[^\n]*(?:%s)[^\n]*" % FAILURE_TEXT, text_since(e, pos))
    check(not bad, "failure reported after the %s request: %s" % (want, bad))


def shell(e, command, expect, timeout=60):
    """Types a command on the serial console and waits for `expect`, then the prompt."""
    e.send(command + "\r")
    m = e.expect(expect, timeout)
    e.expect("mamori> ", timeout)
    return m
