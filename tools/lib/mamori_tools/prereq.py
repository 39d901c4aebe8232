"""Prerequisites: which Debian package provides each program or file the
tools and tests use, and what happens when one is missing.

The policy (docs/development.md, "Missing tools"): a missing prerequisite
is an error that names the Debian package. A developer may opt into
skipping instead with MAMORI_ALLOW_SKIP=1 (`tools/mamori test
--allow-skip`); under CI (CI=true) skipping is never allowed, so a test
that cannot run fails the run instead of turning green.

Standalone on purpose (no relative imports): tests import it from
tools/lib, and CMake runs it as a script for prerequisites missing at
configure time:

  prereq.py --package P --what "tests X, Y"     exits 1, or 77 when skipping is allowed
"""
import os
import shutil
import sys

# program or file -> Debian 12 package (all listed in tools/packages.txt)
PACKAGE = {
    "cmake": "cmake",
    "ninja": "ninja-build",
    "g++": "g++",
    "clang-14": "clang-14",
    "clang++-14": "clang-14",
    "as": "binutils",
    "ld": "binutils",
    "objcopy": "binutils",
    "size": "binutils",
    "mkfs.fat": "dosfstools",
    "mcopy": "mtools",
    "mmd": "mtools",
    "sgdisk": "gdisk",
    "bochs": "bochs",
    "/usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so.0.0.0": "bochs-term",
    "/usr/share/bochs/BIOS-bochs-latest": "bochsbios",
    "/usr/share/vgabios/vgabios.bin": "vgabios",
    "/usr/share/OVMF/OVMF_CODE.fd": "ovmf",
    "/usr/share/OVMF/OVMF_CODE_4M.fd": "ovmf",
    "/usr/share/OVMF/OVMF_VARS_4M.fd": "ovmf",
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-system-i386": "qemu-system-x86",
    "swtpm": "swtpm",
    "swtpm_setup": "swtpm-tools",
    "tpm2_startup": "tpm2-tools",
    "tpm2_pcrread": "tpm2-tools",
    "tpm2_createprimary": "tpm2-tools",
    "tpm2_readpublic": "tpm2-tools",
    "openssl": "openssl",
    "xxd": "xxd",
    "timeout": "coreutils",
    "grub-mkstandalone": "grub-efi-amd64-bin",  # through its dependency grub-common
    "/usr/lib/grub/x86_64-efi/linux.mod": "grub-efi-amd64-bin",
    "libseccomp": "libseccomp-dev",
    "libtpms": "libtpms-dev",
}


class Missing(Exception):
    """A missing build product, package or device. str() is the one line
    `tools/mamori` prints: what is missing and what to run."""


def ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_allowed():
    """MAMORI_ALLOW_SKIP=1 outside CI."""
    return os.environ.get("MAMORI_ALLOW_SKIP", "") not in ("", "0") and not ci()


def package_of(name):
    return PACKAGE.get(name, name)


def message(what, package):
    return "%s is missing: install Debian package %s (tools/mamori setup)" % (what, package)


def find(name):
    """Path of program or file `name`, or None."""
    if name.startswith("/"):
        return name if os.path.exists(name) else None
    return shutil.which(name)


def program(name, package=None):
    """Path of `name` (a program on PATH or an absolute file); raises
    Missing naming its package."""
    p = find(name)
    if p is None:
        raise Missing(message(name, package or package_of(name)))
    return p


def absent(names):
    """[(name, package)] of those in `names` that are missing."""
    return [(n, package_of(n)) for n in names if find(n) is None]


def test_requires(names, test=None):
    """For test scripts: returns if every program/file in `names` is there.
    Otherwise prints one line per missing one and exits: 77 (ctest
    SKIP_RETURN_CODE) when skipping is allowed, else 1."""
    gone = absent(names)
    if gone:
        missing_exit(["%s (Debian package %s)" % g for g in gone], test)


def missing_exit(items, test=None):
    prefix = "%s: " % test if test else ""
    allowed = skip_allowed()
    for item in items:
        print("%sMISSING PREREQUISITE %s" % (prefix, item), flush=True)
    if allowed:
        print("%sskipped (MAMORI_ALLOW_SKIP=1): install it with tools/mamori setup" % prefix, flush=True)
        sys.exit(77)
    print("%sFAIL: a missing prerequisite is an error (run tools/mamori setup; a developer may set "
          "MAMORI_ALLOW_SKIP=1 to skip instead, never under CI=true)" % prefix, flush=True)
    sys.exit(1)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="Stand-in test for a prerequisite missing at configure time.")
    ap.add_argument("--package", required=True, help="the Debian package that is missing")
    ap.add_argument("--what", required=True, help="what it is needed for")
    a = ap.parse_args(argv)
    missing_exit(["Debian package %s, needed for %s: found missing when CMake configured this tree "
                  "(install it, then re-run cmake)" % (a.package, a.what)])


if __name__ == "__main__":
    main(sys.argv[1:])
