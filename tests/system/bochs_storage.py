"""The state partition across Bochs boots on one disk image (docs/storage.md):
boot 1 finds the IDE disk, its GPT and the empty state partition, and
`tpm state commit-test` commits generation 1 and then 2 (slots A, B);
Bochs is powered off and boot 2 on the same disk finds generation 2 and
commits 3 (slot A, counter 3), and Bochs is killed right after (a power
cut once the commit has returned). The host then flips a byte in slot A's
payload: boot 3 reports slot A invalid and falls back to generation 2 in
slot B, and its next commit (generation 3 again) goes over the broken slot. One CPU, no
guests: the VMM's own boot only, to keep the three boots short."""
import os
import shutil
import signal
import struct

from systest import build_dir, check, emu, mark, run, seen, shell, text_since
from mamori_tools import image

STATE = {}
CONFIG = "console = com1\nbaud = 115200\nlog = info\n"
SLOT_SECTORS = image.STATE_SECTORS // 2


def files():
    return {"vmm.elf": os.path.join(build_dir(), "vmm", "vmm.elf")}


def state_first_lba(img):
    """The state partition's first LBA from the GPT sgdisk wrote (entry 2)."""
    with open(img, "rb") as f:
        f.seek(image.SECTOR)
        hdr = f.read(92)
        entry_lba, _, entry_size = struct.unpack_from("<QII", hdr, 72)
        f.seek(entry_lba * image.SECTOR + entry_size)
        first, last = struct.unpack_from("<QQ", f.read(entry_size), 32)
    check(last - first + 1 == image.STATE_SECTORS, "state partition is %d sectors" % (last - first + 1))
    return first


def power_off(e, img, cut=False):
    """`poweroff` (cut: SIGKILL to Bochs, a power cut right after the
    commit returned), then the disk Bochs wrote becomes the next boot's."""
    pos = mark(e)
    if cut:
        os.killpg(e.proc.pid, signal.SIGKILL)
        e.proc.wait(30)
    else:
        e.send("poweroff\r")
        e.expect(r"asking the firmware to power off", 30)
        why = e.powered_off(60)
        check(why is None, why)
    check("PANIC" not in text_since(e, pos), "panic before power-off")
    shutil.copyfile(e.disk, img)
    # What this boot found and did, for the ctest log.
    for line in e.log().splitlines():
        if "storage" in line or "commit-test:" in line or "stage: tpm" in line:
            print(line.strip())


def boot(img, steps, cut=False):
    e = emu.Bochs(img, cpus=1, model="corei7_skylake_x", timeout=300)
    try:
        with e:
            e.expect(r"mamori> ", 240)
            steps(e)
            power_off(e, img, cut)
    except Exception:
        print("----- serial log of this boot -----")
        print(e.log())
        raise


def body(e):
    img = STATE["img"]
    # Boot 1: a fresh image, the partition never written.
    e.expect(r"storage: ata0 [^\n]*, \d+ sectors; state partition 2 found \(LBA \d+-\d+\), no valid record", 240)
    e.expect(r"mamori> ", 120)
    shell(e, "tpm state", r"slot A: LBA \d+-\d+, empty\r?\n  slot B: LBA \d+-\d+, empty")
    shell(e, "tpm state commit-test", r"committed generation 1 \(slot A\), counter 1")
    shell(e, "tpm state commit-test", r"committed generation 2 \(slot B\), counter 2")
    shell(e, "tpm state", r"slot A: [^\n]*valid, generation 1[^\n]*\r?\n  slot B: [^\n]*valid, generation 2[^\n]*\(newest\)")
    power_off(e, img)

    # Boot 2: the same disk.
    def boot2(b):
        seen(b, r"state partition 2 found \(LBA \d+-\d+\), generation 2 in slot B")
        shell(b, "tpm state commit-test", r"committed generation 3 \(slot A\), counter 3")
    boot(img, boot2, cut=True)

    # Flip one byte of slot A's payload (generation 3, the newest).
    first = state_first_lba(img)
    with open(img, "r+b") as f:
        off = (first + 1) * image.SECTOR + 3
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x20]))

    # Boot 3: slot A refused, generation 2 from slot B; the next commit repairs A.
    def boot3(b):
        seen(b, r"storage: state slot A invalid: digest mismatch \(torn or altered\), using the other slot")
        seen(b, r"state partition 2 found \(LBA \d+-\d+\), generation 2 in slot B")
        shell(b, "tpm state", r"slot A: [^\n]*digest mismatch[^\n]*generation 3")
        shell(b, "tpm state commit-test", r"committed generation 3 \(slot A\), counter 3")
    boot(img, boot3)


def factory(img):
    # The image run() made: keep a copy that the boots pass on to each other.
    STATE["img"] = img + ".boots"
    shutil.copyfile(img, STATE["img"])
    return emu.Bochs(STATE["img"], cpus=1, model="corei7_skylake_x", timeout=300)


run("bochs_storage", body, factory, files=files(), config_text=CONFIG)
