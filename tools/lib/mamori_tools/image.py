"""The bootable USB image: GPT, one EFI System Partition (FAT32) holding
\\EFI\\BOOT\\BOOTX64.EFI and \\mamori\\ (vmm.elf, mamori.cfg, and whatever
else the config needs). Exactly what a user dd's to a stick."""
import os
import shutil
import subprocess
import tempfile

from . import paths

SECTOR = 512
# A multiple of Bochs' default flat-disk geometry (16 heads x 63 sectors).
CYLINDER = 16 * 63 * SECTOR
CYLINDERS = 160
FIRST_LBA = 2048
GPT_BACKUP_SECTORS = 34


def _run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s%s" % (cmd[0], r.stdout, r.stderr))
    return r.stdout


def default_files():
    """{name under \\mamori\\: host path}"""
    files = {"vmm.elf": paths.build_file("vmm", "vmm.elf"), "mamori.cfg": paths.default_config()}
    svc = paths.build_file("vtpm", "service", "vtpm-service")
    if os.path.exists(svc):
        files["vtpm-service"] = svc
    # The test guests the demo configuration runs (tests/guests/).
    for guest in ("hello", "exits", "spin", "hostile"):
        p = paths.build_file("tests", "guests", guest + ".elf")
        if os.path.exists(p):
            files[guest + ".elf"] = p
    return files


def write_image(out, efi=None, files=None, omit=(), raw_files=None):
    """Writes the image. files: {name: path}; raw_files: {name: bytes}
    (tests use these to plant corrupt files); omit: names to leave out."""
    efi = efi or paths.build_file("boot", "BOOTX64.EFI")
    files = dict(files if files is not None else default_files())
    for name in omit:
        files.pop(name, None)
    total = CYLINDERS * CYLINDER
    part_sectors = total // SECTOR - GPT_BACKUP_SECTORS - FIRST_LBA
    with tempfile.TemporaryDirectory() as tmp:
        fat = os.path.join(tmp, "esp.fat")
        _run(["mkfs.fat", "-F", "32", "-s", "1", "-n", "MAMORI", "-C", fat, str(part_sectors * SECTOR // 1024)])
        _run(["mmd", "-i", fat, "::/EFI", "::/EFI/BOOT", "::/mamori"])
        _run(["mcopy", "-i", fat, efi, "::/EFI/BOOT/BOOTX64.EFI"])
        for name, src in files.items():
            _run(["mcopy", "-i", fat, src, "::/mamori/" + name])
        for name, data in (raw_files or {}).items():
            p = os.path.join(tmp, "raw-" + name)
            with open(p, "wb") as f:
                f.write(data)
            _run(["mcopy", "-i", fat, p, "::/mamori/" + name])
        tmp_img = out + ".tmp"
        with open(tmp_img, "wb") as f:
            f.truncate(total)
        # sgdisk without -q: HARNESS.md saw -q write no partition once.
        _run(["sgdisk", "-o", "-n", "1:%d:+%d" % (FIRST_LBA, part_sectors - 1), "-t", "1:EF00",
              "-c", "1:mamori ESP", tmp_img])
        with open(tmp_img, "r+b") as img, open(fat, "rb") as src:
            img.seek(FIRST_LBA * SECTOR)
            shutil.copyfileobj(src, img, 1 << 20)
        os.replace(tmp_img, out)
    return out


def run(args):
    out = paths.default_image()
    if "-o" in args:
        out = args[args.index("-o") + 1]
    write_image(out)
    print("image: %s (%d MiB) — write it with: sudo dd if=%s of=/dev/sdX bs=4M conv=fsync"
          % (out, os.path.getsize(out) >> 20, out))
    return 0
