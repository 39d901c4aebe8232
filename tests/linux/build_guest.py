#!/usr/bin/env python3
"""Builds the real Linux test guest's inputs, in the build tree only, from
Debian 12 packages fetched with `apt-get download` (nothing else is
downloaded; nothing here is committed):

  OUT/vmlinuz        the bzImage of linux-image-cloud-amd64 (Linux x86 boot protocol)
  OUT/vmlinux        the uncompressed ELF kernel taken out of that bzImage's
                     payload (it carries the PVH entry note, XEN_ELFNOTE_PHYS32_ENTRY)
  OUT/initramfs.cpio.gz  busybox-static + tpm2-tools with its library closure
                     + init (tests/linux/init), a newc cpio written here
  OUT/guest.txt      what went in (packages and versions, sizes)

Why the cloud kernel: it is LZ4-compressed and small; HARNESS.md measured
it reaching init in Bochs in 15-18 s, against 60-90 s of XZ for the
generic one. Debian builds tpm_tis and tpm_crb into it.

usage: build_guest.py OUT [--cache DIR]
"""
import argparse
import gzip
import hashlib
import os
import re
import shutil
import stat
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_META = "linux-image-cloud-amd64"
BUSYBOX = "busybox-static"
TOOLS = "tpm2-tools"
# dlopen'ed by libtss2-tctildr (TPM2TOOLS_TCTI=device:...), so no
# DT_NEEDED names it: HARNESS.md.
DLOPENED = ["libtss2-tcti-device.so.0"]
ELF_ROOTS = ["usr/bin/tpm2"]
MULTIARCH = "x86_64-linux-gnu"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, universal_newlines=True, **kw).stdout


APT_DEPENDS = ["apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts",
               "--no-breaks", "--no-replaces", "--no-enhances"]


def parse_depends(out):
    """apt-cache depends output -> {package: [Depends/PreDepends, first alternative]}."""
    graph, cur, alt = {}, None, False
    for line in out.splitlines():
        if line and not line[0].isspace():
            cur, alt = line.strip(), False
            graph.setdefault(cur, [])
            continue
        m = re.match(r"\s+(\|)?(Pre)?Depends: (\S+)", line)
        if m and cur:
            if not alt and not m.group(3).startswith("<"):
                graph[cur].append(m.group(3))
            alt = bool(m.group(1))
    return graph


def is_library_package(name):
    # Debian Policy 8.1: a shared library's package is named after its
    # soname (lib*); zlib1g is the historic exception. Programs among the
    # dependencies (udev rules of tpm-udev, debconf, passwd) are not needed.
    return name.startswith("lib") or name == "zlib1g"


def library_packages():
    """tpm2-tools and every library package it needs, transitively (one
    apt-cache call: it is slow on a loaded machine)."""
    roots = [TOOLS, "libtss2-tcti-device0"]
    graph = parse_depends(run(APT_DEPENDS + ["--recurse"] + roots))
    todo, seen = list(roots), []
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo += [d for d in graph.get(p, []) if is_library_package(d) and d not in seen]
    return sorted(seen)


def kernel_package():
    deps = parse_depends(run(APT_DEPENDS + [KERNEL_META])).get(KERNEL_META, [])
    img = [d for d in deps if d.startswith("linux-image-")]
    if not img:
        sys.exit("build_guest: %s depends on no linux-image-* package: %r" % (KERNEL_META, deps))
    return img[0]


def download(pkgs, cache):
    os.makedirs(cache, exist_ok=True)
    have = {}
    for f in os.listdir(cache):
        if f.endswith(".deb"):
            have[f.split("_")[0]] = f
    missing = [p for p in pkgs if p not in have]
    if missing:
        print("build_guest: apt-get download %s" % " ".join(missing), flush=True)
        subprocess.run(["apt-get", "download"] + missing, check=True, cwd=cache)
        return download(pkgs, cache)
    return {p: os.path.join(cache, have[p]) for p in pkgs}


def extract(deb, root):
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)


# --- ELF: the DT_NEEDED names of a shared object (System V gABI, dynamic section)
def elf_needed(path):
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"\x7fELF" or d[4] != 2:
        return []
    phoff, = struct.unpack_from("<Q", d, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", d, 0x36)
    loads, dyn = [], None
    for i in range(phnum):
        p_type, _, p_off, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_off, p_filesz))
        elif p_type == 2:
            dyn = (p_off, p_filesz)
    if not dyn:
        return []

    def off(vaddr):
        for v, o, n in loads:
            if v <= vaddr < v + n:
                return vaddr - v + o
        raise ValueError("%s: address 0x%x in no PT_LOAD" % (path, vaddr))
    strtab, needed = None, []
    for i in range(dyn[1] // 16):
        tag, val = struct.unpack_from("<qQ", d, dyn[0] + 16 * i)
        if tag == 0:
            break
        if tag == 5:
            strtab = off(val)
        elif tag == 1:
            needed.append(val)
    return [d[strtab + n:d.index(b"\0", strtab + n)].decode() for n in needed]


def find_lib(root, soname):
    for d in ("lib/%s" % MULTIARCH, "usr/lib/%s" % MULTIARCH, "lib64", "lib", "usr/lib"):
        p = os.path.join(root, d, soname)
        if os.path.lexists(p):
            return p
    return None


def closure(root):
    """Shared objects needed by ELF_ROOTS and DLOPENED, transitively."""
    libs = {}
    todo = [os.path.join(root, r) for r in ELF_ROOTS]
    for so in DLOPENED:
        p = find_lib(root, so)
        if not p:
            sys.exit("build_guest: %s (dlopen'ed) is in none of the packages" % so)
        libs[so] = p
        todo.append(p)
    while todo:
        for so in elf_needed(os.path.realpath(todo.pop())):
            if so in libs:
                continue
            p = find_lib(root, so)
            if not p:
                sys.exit("build_guest: %s is needed but in none of the packages" % so)
            libs[so] = p
            todo.append(p)
    return libs


# --- newc cpio (the initramfs format: Documentation/driver-api/early-userspace/buffer-format.rst)
class Cpio:
    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b"", nlink=1):
        name_b = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        self.ino += 1
        self.out += hdr + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o755):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def node(self, name, mode, major, minor):
        name_b = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, 0, 0, 0, major, minor, len(name_b), 0))
        self.ino += 1
        self.out += hdr + name_b
        self.out += b"\0" * (-len(self.out) % 4)

    def trailer(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.out)


def busybox_applets(bb):
    out = subprocess.run([bb, "--list"], check=True, stdout=subprocess.PIPE).stdout.decode()
    return [a for a in out.split() if a and a != "busybox"]


def build_initramfs(stage, libs):
    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/" + MULTIARCH, "lib64", "etc", "root"):
        c.dir(d)
    # The console must exist before devtmpfs is mounted: the kernel opens
    # /dev/console for init's stdin/out/err (init/main.c, console_on_rootfs).
    c.node("dev/console", stat.S_IFCHR | 0o600, 5, 1)
    bb = os.path.join(stage, "bin", "busybox")
    with open(bb, "rb") as f:
        c.file("bin/busybox", f.read())
    for a in busybox_applets(bb):
        c.symlink("bin/" + a, "busybox")
    with open(os.path.join(stage, "usr", "bin", "tpm2"), "rb") as f:
        c.file("bin/tpm2", f.read())
    # tpm2-tools 5.x: one binary, tpm2_* are symlinks to it.
    for n in sorted(os.listdir(os.path.join(stage, "usr", "bin"))):
        if n.startswith("tpm2_"):
            c.symlink("bin/" + n, "tpm2")
    for so, p in sorted(libs.items()):
        with open(os.path.realpath(p), "rb") as f:
            c.file("lib/%s/%s" % (MULTIARCH, so), f.read())
    c.symlink("lib64/ld-linux-x86-64.so.2", "/lib/%s/ld-linux-x86-64.so.2" % MULTIARCH)
    with open(os.path.join(HERE, "init"), "rb") as f:
        c.file("init", f.read())
    return c.trailer()


# --- the vmlinux inside a bzImage (what scripts/extract-vmlinux does, but
# located by the setup header's payload_offset/payload_length, boot
# protocol 2.08+, instead of a search for compression magics).
PAYLOAD_MAGIC = [(b"\x02\x21\x4c\x18", ["lz4", "-dc"]),
                 (b"\xfd7zXZ\x00", ["xz", "-dc"]),
                 (b"\x1f\x8b", ["gzip", "-dc"]),
                 (b"\x28\xb5\x2f\xfd", ["zstd", "-dc"])]


def extract_vmlinux(bzimage, out):
    with open(bzimage, "rb") as f:
        d = f.read()
    setup_sects = d[0x1F1] or 4
    pm = (setup_sects + 1) * 512
    po, pl = struct.unpack_from("<II", d, 0x248)
    payload = d[pm + po:pm + po + pl]
    for magic, cmd in PAYLOAD_MAGIC:
        if payload.startswith(magic):
            # Linux appends the uncompressed size (le32) after the stream
            # (scripts/Makefile.lib size_append): lz4 and gzip warn about
            # or ignore trailing bytes; drop them for the stricter ones.
            body = payload[:-4] if cmd[0] in ("lz4", "xz", "zstd") else payload
            r = subprocess.run(cmd, input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            data = r.stdout
            want, = struct.unpack_from("<I", payload, len(payload) - 4)
            if not data.startswith(b"\x7fELF") or len(data) != want:
                sys.exit("build_guest: %s payload (%s) did not give a %d-byte ELF (%d bytes, rc %d: %s)" % (
                    bzimage, cmd[0], want, len(data), r.returncode, r.stderr.decode()[-200:]))
            with open(out, "wb") as f:
                f.write(data)
            return cmd[0]
    sys.exit("build_guest: %s: payload compression not recognised (%s)" % (bzimage, payload[:8].hex()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cache", help="where the .deb files are kept (default OUT/debs)")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    cache = os.path.abspath(a.cache or os.path.join(out, "debs"))
    os.makedirs(out, exist_ok=True)
    kpkg = kernel_package()
    libpkgs = library_packages()
    debs = download([kpkg, BUSYBOX] + libpkgs, cache)
    stage = os.path.join(out, "stage")
    shutil.rmtree(stage, ignore_errors=True)
    for p in [BUSYBOX] + libpkgs:
        extract(debs[p], stage)
    kstage = os.path.join(out, "kernel-stage")
    shutil.rmtree(kstage, ignore_errors=True)
    extract(debs[kpkg], kstage)
    vmlinuz = [f for f in os.listdir(os.path.join(kstage, "boot")) if f.startswith("vmlinuz-")]
    if len(vmlinuz) != 1:
        sys.exit("build_guest: %s holds %r, not one vmlinuz" % (kpkg, vmlinuz))
    shutil.copyfile(os.path.join(kstage, "boot", vmlinuz[0]), os.path.join(out, "vmlinuz.tmp"))
    os.replace(os.path.join(out, "vmlinuz.tmp"), os.path.join(out, "vmlinuz"))
    comp = extract_vmlinux(os.path.join(out, "vmlinuz"), os.path.join(out, "vmlinux.tmp"))
    os.replace(os.path.join(out, "vmlinux.tmp"), os.path.join(out, "vmlinux"))
    libs = closure(stage)
    cpio = build_initramfs(stage, libs)
    with open(os.path.join(out, "initramfs.cpio.gz.tmp"), "wb") as f:
        f.write(gzip.compress(cpio, 6, mtime=0))
    os.replace(os.path.join(out, "initramfs.cpio.gz.tmp"), os.path.join(out, "initramfs.cpio.gz"))
    shutil.rmtree(stage)
    shutil.rmtree(kstage)
    with open(os.path.join(out, "guest.txt"), "w") as f:
        f.write("kernel %s (%s, payload %s)\n" % (kpkg, vmlinuz[0], comp))
        for p in [BUSYBOX] + libpkgs:
            f.write("package %s\n" % os.path.basename(debs[p]))
        for so in sorted(libs):
            f.write("lib %s\n" % so)
        f.write("initramfs %d bytes uncompressed, %d gzip\n" % (
            len(cpio), os.path.getsize(os.path.join(out, "initramfs.cpio.gz"))))
    print("build_guest: %s: vmlinuz, vmlinux (%s), initramfs.cpio.gz (%d libraries, %.1f MB uncompressed)" % (
        out, comp, len(libs), len(cpio) / 1e6))


if __name__ == "__main__":
    main()
