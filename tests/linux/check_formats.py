#!/usr/bin/env python3
"""The VMM's guest boot format code (vmm/guest_boot, through the host tool
inspect_boot_image) against the real Debian kernel that build_guest.py
extracted: every setup header field it reports is read here again with
struct from the file (Documentation/arch/x86/boot.rst offsets), the PVH
entry is compared with what binutils' `readelf -n` says, and the
initramfs and the bzImage's own payload are refused with what they are.

usage: check_formats.py INSPECT_TOOL GUEST_DIR"""
import os
import re
import struct
import subprocess
import sys


def inspect(tool, path, *args):
    out = subprocess.run([tool, path] + [str(a) for a in args], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def expect(what, got, want):
    if got != want:
        print("FAIL %s: vmm/guest_boot says %r, the file says %r" % (what, got, want))
        sys.exit(1)


def main():
    tool, guest = sys.argv[1], sys.argv[2]
    vmlinuz, vmlinux = os.path.join(guest, "vmlinuz"), os.path.join(guest, "vmlinux")
    initrd = os.path.join(guest, "initramfs.cpio.gz")
    initrd_size = os.path.getsize(initrd)
    with open(vmlinuz, "rb") as f:
        d = f.read()

    r = inspect(tool, vmlinuz, 512, initrd_size, 1500)
    expect("kind", r["kind"], "Linux bzImage")
    u8 = lambda o: d[o]
    u16 = lambda o: struct.unpack_from("<H", d, o)[0]
    u32 = lambda o: struct.unpack_from("<I", d, o)[0]
    u64 = lambda o: struct.unpack_from("<Q", d, o)[0]
    sects = u8(0x1F1) or 4
    for key, want in [("version", u16(0x206)), ("setup_sects", u8(0x1F1)), ("kernel_offset", (sects + 1) * 512),
                      ("kernel_size", len(d) - (sects + 1) * 512), ("loadflags", u8(0x211)),
                      ("code32_start", u32(0x214)), ("kernel_alignment", u32(0x230)),
                      ("relocatable", u8(0x234)), ("xloadflags", u16(0x236)), ("cmdline_size", u32(0x238)),
                      ("initrd_addr_max", u32(0x22C)), ("pref_address", u64(0x258)), ("init_size", u32(0x260)),
                      ("header_end", 0x202 + u8(0x201))]:
        expect(key, int(r[key], 0), want)
    expect("load_address (pref_address of a relocatable kernel)", int(r["load_address"], 0), u64(0x258))
    expect("entry (32-bit entry = load address)", r["entry"], r["load_address"])
    expect("plan", r["plan"], "no error")
    gpa = int(r["initrd_gpa"], 0)
    if not (int(r["load_address"], 0) + int(r["span"], 0) <= gpa and gpa + initrd_size <= 512 << 20
            and gpa + initrd_size <= u32(0x22C) + 1):
        print("FAIL initrd at 0x%x overlaps the kernel or passes the limits" % gpa)
        sys.exit(1)

    r = inspect(tool, vmlinux, 512, initrd_size, 1500)
    expect("kind", r["kind"], "PVH ELF")
    notes = subprocess.run(["readelf", "-n", vmlinux], check=True, stdout=subprocess.PIPE,
                           universal_newlines=True).stdout
    m = re.search(r"Xen\s+0x0+8\s+Unknown note type: \(0x00000012\)\s+description data: ((?:[0-9a-f]{2} ?){8})", notes)
    if not m:
        print("FAIL readelf -n shows no XEN_ELFNOTE_PHYS32_ENTRY (0x12) in %s" % vmlinux)
        sys.exit(1)
    want = struct.unpack("<Q", bytes.fromhex(m.group(1).replace(" ", "")))[0]
    expect("pvh_entry (readelf -n)", int(r["pvh_entry"], 0), want)
    expect("plan", r["plan"], "no error")

    r = inspect(tool, initrd)
    expect("initramfs kind", r["kind"], "refused")
    expect("initramfs message", r["message"], "a gzip file (decompress it: a vmlinux inside?)")
    print("PASS linux_guest_boot_formats: bzImage protocol 0x%x, load 0x%x, init_size 0x%x; PVH entry 0x%x" % (
        u16(0x206), u64(0x258), u32(0x260), want))


if __name__ == "__main__":
    main()
