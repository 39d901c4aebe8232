"""The bootable USB image: GPT, one EFI System Partition (FAT32) holding
\\EFI\\BOOT\\BOOTX64.EFI and \\mamori\\ (vmm.elf, mamori.cfg, and whatever
else the config needs), and after it mamori's state partition (4 MiB,
type STATE_TYPE_GUID, all zeros: never written; docs/storage.md).
Exactly what a user dd's to a stick."""
import os
import shutil
import subprocess
import tempfile

from . import paths, prereq

SECTOR = 512
# A multiple of Bochs' default flat-disk geometry (16 heads x 63 sectors).
CYLINDER = 16 * 63 * SECTOR
CYLINDERS = 160  # 80 MiB: the test guests; more when the files need it (cylinders_for)
FIRST_LBA = 2048
GPT_BACKUP_SECTORS = 34
# mamori's state partition (vmm/storage/gpt.hpp kStatePartitionType, docs/storage.md).
STATE_TYPE_GUID = "D4CA0AA0-9AB0-45D6-BE11-8DCF59C3D4B7"
STATE_SECTORS = 8192  # 4 MiB: two record slots of 2 MiB
ALIGN = 2048  # 1 MiB partition alignment, as sgdisk's default


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


TOOLS = ("mkfs.fat", "mmd", "mcopy", "sgdisk")


def config_images(cfg):
    """The files a mamori.cfg loads (`image =`/`kernel =`, `initrd =` and
    the first word of `module =` lines, docs/config.md)."""
    names = []
    with open(cfg) as f:
        for line in f:
            key, _, value = line.split("#", 1)[0].partition("=")
            key, value = key.strip(), value.strip()
            if key in ("image", "kernel", "initrd", "module") and value:
                names.append(value.split()[0])
    return names


def cylinders_for(paths_, extra_bytes=0):
    """Cylinders for an image holding these files (and extra_bytes more):
    CYLINDERS, or enough for their bytes plus a quarter and 16 MiB for
    FAT32 and cluster slack (a Linux guest's vmlinux alone is ~50 MB, an
    initramfs 5-25 MB)."""
    need = sum(os.path.getsize(p) for p in paths_ if os.path.exists(p)) + extra_bytes
    need += need // 4 + (16 << 20)
    return max(CYLINDERS, -(-need // CYLINDER))


def check_inputs(efi, files):
    """Raises prereq.Missing if the build tree lacks a file the image needs
    (the loader, the VMM, what the config loads) or a tool is missing."""
    for tool in TOOLS:
        prereq.program(tool)
    hint = "run tools/mamori build --no-fuzz"
    for name, path in [("BOOTX64.EFI", efi)] + sorted(files.items()):
        if not os.path.exists(path):
            raise prereq.Missing("%s is not built (%s): %s" % (name, path, hint))
    cfg = files.get("mamori.cfg")
    if cfg:
        for name in config_images(cfg):
            if name not in files:
                raise prereq.Missing("%s loads %s, which is not built: %s" % (cfg, name, hint))


def write_image(out, efi=None, files=None, omit=(), raw_files=None, depfile=None):
    """Writes the image. files: {name: path}; raw_files: {name: bytes}
    (tests use these to plant corrupt files); omit: names to leave out.
    depfile: also write a Makefile-style list of the inputs (for the
    `image` build target, tools/CMakeLists.txt)."""
    efi = efi or paths.build_file("boot", "BOOTX64.EFI")
    files = dict(files if files is not None else default_files())
    for name in omit:
        files.pop(name, None)
    for tool in TOOLS:
        prereq.program(tool)
    raw_bytes = sum(len(d) for d in (raw_files or {}).values())
    total = cylinders_for([efi] + list(files.values()), raw_bytes) * CYLINDER
    # The state partition sits last, 1 MiB-aligned, before the backup GPT;
    # the ESP takes everything from FIRST_LBA up to it.
    state_first = (total // SECTOR - GPT_BACKUP_SECTORS - STATE_SECTORS) // ALIGN * ALIGN
    part_sectors = state_first - FIRST_LBA
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
        _run(["sgdisk", "-o", "-n", "1:%d:%d" % (FIRST_LBA, state_first - 1), "-t", "1:EF00",
              "-c", "1:mamori ESP",
              "-n", "2:%d:%d" % (state_first, state_first + STATE_SECTORS - 1), "-t", "2:" + STATE_TYPE_GUID,
              "-c", "2:mamori state", tmp_img])
        with open(tmp_img, "r+b") as img, open(fat, "rb") as src:
            img.seek(FIRST_LBA * SECTOR)
            shutil.copyfileobj(src, img, 1 << 20)
        os.replace(tmp_img, out)
    if depfile:
        inputs = [efi] + list(files.values()) + [os.path.abspath(__file__)]
        with open(depfile, "w") as f:
            f.write("%s: %s\n" % (_dep_escape(out), " \\\n  ".join(_dep_escape(i) for i in inputs)))
    return out


def _dep_escape(path):
    return path.replace(" ", "\\ ")


def linux_files():
    """The Linux demo's files: tools/mamori-linux.cfg and the Debian kernel
    and initramfs the build tree makes (target linux_guest, tests/linux)."""
    files = default_files()
    files["mamori.cfg"] = paths.linux_demo_config()
    for name in ("vmlinuz", "initramfs.cpio.gz"):
        files[name] = paths.build_file("tests", "linux", name)
    return files


def write_default(out, depfile=None, linux=False):
    """The image `tools/mamori image` and the `image` build target write:
    the build tree's loader, VMM, service and guests, tools/mamori.cfg
    (linux: the Linux demo's, linux_files())."""
    efi = paths.build_file("boot", "BOOTX64.EFI")
    files = linux_files() if linux else default_files()
    check_inputs(efi, files)
    write_image(out, efi=efi, files=files, depfile=depfile)
    return out


def report(out):
    print("image: %s (%d MiB) — write it with: sudo dd if=%s of=/dev/sdX bs=4M conv=fsync"
          % (out, os.path.getsize(out) >> 20, out))
