#!/usr/bin/env python3
"""Host-side structure check of a built test guest (ctest guests_image_<name>).

  check_image.py <name>.elf [<name>.elf32]

<name>.elf is what mamori loads: ELF64 x86-64 ET_EXEC (vmm/core/elf64.cpp
refuses anything else) holding 32-bit code. Checked: ELF64 header fields the
VMM validates, every PT_LOAD at p_paddr >= 1 MiB with p_vaddr == p_paddr
(paging is off at entry, Multiboot 0.6.96 section 3.2), no W+X segment,
entry inside an executable PT_LOAD, and the Multiboot header (magic,
checksum, no unsupported required flags) 4-byte aligned in the first 8 KiB
(section 3.1.1). <name>.elf32, the ELF32 i386 build QEMU boots, gets the
same checks and must agree on entry and segments.
"""
import os
import struct
import sys

ONE_MIB = 1 << 20
MB_MAGIC = 0x1BADB002
MB_SEARCH = 8192            # header within the first 8 KiB of the file
MB_ALIGN = 4
MB_FLAGS_SUPPORTED = 0x3 | (1 << 16)  # page-align, memory info; a.out kludge fields
PT_LOAD, PT_INTERP = 1, 3
PF_X, PF_W = 1, 2
ET_EXEC = 2
EM_386, EM_X86_64 = 3, 62


# The checker's own verdict "refused" (a Python traceback exits with 1, a
# usage error with 2): --self-test tells a refusal from a crash by it.
REFUSED = 3


def fail(path, msg):
    print(f"FAIL {path}: {msg}")
    sys.exit(REFUSED)


def parse(path, data):
    if data[:4] != b"\x7fELF":
        fail(path, "not an ELF file")
    cls, enc = data[4], data[5]
    if enc != 1:
        fail(path, "not little-endian")
    if cls == 2:
        (e_type, e_machine, e_version, e_entry, e_phoff, _shoff, _flags, e_ehsize,
         e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
        ph_fmt, ph_size = "<IIQQQQQQ", 56
        want_machine, want_ehsize = EM_X86_64, 64
    elif cls == 1:
        (e_type, e_machine, e_version, e_entry, e_phoff, _shoff, _flags, e_ehsize,
         e_phentsize, e_phnum) = struct.unpack_from("<HHIIIIIHHH", data, 16)
        ph_fmt, ph_size = "<IIIIIIII", 32
        want_machine, want_ehsize = EM_386, 52
    else:
        fail(path, f"bad EI_CLASS {cls}")
    if e_type != ET_EXEC:
        fail(path, f"e_type {e_type}, want ET_EXEC")
    if e_machine != want_machine:
        fail(path, f"e_machine {e_machine}, want {want_machine}")
    if e_version != 1 or e_ehsize != want_ehsize or e_phentsize != ph_size:
        fail(path, "bad e_version / e_ehsize / e_phentsize")
    if e_phnum == 0 or e_phoff + e_phnum * ph_size > len(data):
        fail(path, "program header table missing or outside the file")
    loads = []
    for i in range(e_phnum):
        f = struct.unpack_from(ph_fmt, data, e_phoff + i * ph_size)
        if cls == 2:
            p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align = f
        else:
            p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align = f
        if p_type == PT_INTERP:
            fail(path, "PT_INTERP: must be static")
        if p_type != PT_LOAD:
            continue
        if p_memsz == 0 or p_filesz > p_memsz:
            fail(path, f"segment {i}: bad sizes")
        if p_filesz and p_offset + p_filesz > len(data):
            fail(path, f"segment {i}: outside the file")
        if p_paddr < ONE_MIB:
            fail(path, f"segment {i}: p_paddr {p_paddr:#x} below 1 MiB")
        if p_paddr + p_memsz > 1 << 32:
            fail(path, f"segment {i}: ends above 4 GiB (32-bit guest)")
        if p_vaddr != p_paddr:
            fail(path, f"segment {i}: p_vaddr {p_vaddr:#x} != p_paddr {p_paddr:#x} (paging is off)")
        if p_flags & PF_W and p_flags & PF_X:
            fail(path, f"segment {i}: writable and executable")
        if p_align > 1 and (p_vaddr - p_offset) % p_align:
            fail(path, f"segment {i}: vaddr/offset not congruent mod p_align")
        loads.append((p_paddr, p_memsz, p_flags, p_offset, p_filesz))
    if not loads:
        fail(path, "no PT_LOAD segment")
    spans = sorted((p, p + m) for p, m, *_ in loads)
    for (a0, a1), (b0, _b1) in zip(spans, spans[1:]):
        if b0 < a1:
            fail(path, "PT_LOAD segments overlap")
    if not any(p <= e_entry < p + m and fl & PF_X for p, m, fl, *_ in loads):
        fail(path, f"entry {e_entry:#x} not inside an executable PT_LOAD")
    return e_entry, loads


def check_multiboot(path, data, loads):
    for off in range(0, min(MB_SEARCH, len(data) - 12) + 1, MB_ALIGN):
        magic, flags, checksum = struct.unpack_from("<III", data, off)
        if magic != MB_MAGIC:
            continue
        if (magic + flags + checksum) & 0xFFFFFFFF:
            fail(path, f"Multiboot header at {off:#x}: checksum does not sum to 0")
        if flags & 0xFFFF & ~MB_FLAGS_SUPPORTED:
            fail(path, f"Multiboot header requires unsupported features: flags {flags:#x}")
        if not any(o <= off < o + fs for _p, _m, _f, o, fs in loads):
            fail(path, "Multiboot header not inside a loaded segment")
        return off, flags
    fail(path, f"no Multiboot header in the first {MB_SEARCH} bytes")


def self_test(path):
    """Corrupted copies of a good image must each be refused."""
    import subprocess
    import tempfile
    good = open(path, "rb").read()
    e_entry = struct.unpack_from("<Q", good, 24)[0]
    phoff = struct.unpack_from("<Q", good, 32)[0]
    mb = good.find(struct.pack("<I", MB_MAGIC))

    def patched(off, fmt, value):
        b = bytearray(good)
        struct.pack_into(fmt, b, off, value)
        return bytes(b)

    # case: (corrupted image, the refusal the checker must give for it)
    cases = {
        "ELF32 class": (patched(4, "<B", 1), r"mamori's loader needs ELF64"),
        "bad magic": (patched(0, "<B", 0), r"not an ELF file"),
        "ET_DYN": (patched(16, "<H", 3), r"e_type 3, want ET_EXEC"),
        "i386 machine": (patched(18, "<H", EM_386), r"e_machine 3, want 62"),
        "Multiboot checksum": (patched(mb + 8, "<I", 0), r"Multiboot header at 0x[0-9a-f]+: checksum"),
        "no Multiboot magic": (patched(mb, "<I", 0), r"no Multiboot header in the first 8192 bytes"),
        "entry outside": (patched(24, "<Q", e_entry + (64 << 20)), r"entry 0x[0-9a-f]+ not inside an executable"),
        "paddr below 1 MiB": (patched(phoff + 24, "<Q", 0x1000), r"p_paddr 0x1000 below 1 MiB"),
        "paddr != vaddr": (patched(phoff + 16, "<Q", 0x200000), r"p_vaddr 0x200000 != p_paddr"),
        "W+X segment": (patched(phoff + 4, "<I", PF_X | PF_W | 4), r"writable and executable"),
        "truncated": (good[:0x1008], r"outside the file"),
    }
    import re
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (data, why) in cases.items():
            p = os.path.join(tmp, "case.elf")
            with open(p, "wb") as fh:
                fh.write(data)
            r = subprocess.run([sys.executable, __file__, p], capture_output=True, text=True)
            # Refused by the checker itself, for this reason: its exit
            # code and its FAIL line. A crash (traceback) is no refusal.
            ok = r.returncode == REFUSED and re.fullmatch(r"FAIL %s: .*%s.*" % (re.escape(p), why), r.stdout.strip())
            print(f"{'ok' if ok else 'FAIL'} refuses {name}: exit {r.returncode}: {r.stdout.strip()} "
                  f"(want exit {REFUSED}, /{why}/){r.stderr.strip() and ' stderr: ' + r.stderr.strip()}")
            bad += not ok
        r = subprocess.run([sys.executable, __file__, path], capture_output=True, text=True)
        print(f"{'ok' if r.returncode == 0 else 'FAIL'} accepts the original: {r.stdout.strip()}")
        bad += r.returncode != 0
    return 1 if bad else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        return self_test(sys.argv[2])
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    results = []
    for i, path in enumerate(sys.argv[1:]):
        data = open(path, "rb").read()
        if i == 0 and data[4:5] != b"\x02":
            fail(path, "mamori's loader needs ELF64 (EI_CLASS 2)")
        entry, loads = parse(path, data)
        off, flags = check_multiboot(path, data, loads)
        seg = [(p, m, f) for p, m, f, *_ in loads]
        print(f"ok {path}: entry {entry:#x}, {len(loads)} PT_LOAD "
              + ", ".join(f"{p:#x}+{m:#x}" for p, m, _ in seg)
              + f", Multiboot header at file offset {off:#x} flags {flags:#x}")
        results.append((entry, seg))
    if len(results) == 2 and results[0] != results[1]:
        fail(sys.argv[2], "ELF32 and ELF64 builds disagree on entry or segments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
