"""`tools/mamori demo --linux` as a user sees it (issue 14, "Demo"): the
image written from tools/mamori-linux.cfg and the build tree
(mamori_tools.image.linux_files, what `run --linux` boots) in Bochs with
the RAM `run --linux` gives it. The Linux guest (two vCPUs, CRB) must bind
tpm_crb from ACPI and pass its whole TPM script, the exits test guest
beside it must pass its TIS and TPM-command checks through its own
engine, and the Linux guest's shell must answer through `vm console`."""
import os
import re
import sys
import time

from systest import FAILURE_TEXT, check, emu, mark, run, seen, text_since
from mamori_tools import image, paths

sys.path.insert(0, os.path.join(paths.ROOT, "tests", "linux"))
import qemu_baseline  # noqa: E402  (the judge of the TPM script's results)

model = sys.argv[1] if len(sys.argv) > 1 else "corei7_skylake_x"


def body(e):
    e.expect(r"mamori: 2 CPUs online", 300)
    # Its measured launch hashes its 23 MB of kernel and initrd in four banks
    # first (docs/measured-launch.md): minutes in Bochs.
    e.expect(r"vm linux: created: 256 MiB", 600)
    seen(e, r"\[exits\] exits: PASS tpm-tis-getrandom", 600)
    seen(e, r"\[exits\] exits: DONE \d+ passed, 0 failed", 600)
    seen(e, r"\[linux\] mamori-linux: init started, kernel \S+, 2 CPUs", 1200)
    done = r"\[linux\] mamori-tpm: done (\d+) ok (\d+) failed"
    seen(e, done, 1200)
    r = {}
    for line in e.log().splitlines():
        x = re.match(r"\[linux\] mamori-tpm: (\S+) (ok|FAIL) ?(.*)", line)
        if x:
            r.setdefault(x.group(1), (x.group(2), x.group(3)))
    qemu_baseline.judge(r, "crb", "MSFT0101:00")
    seen(e, r"\[linux\] mamori-linux: interactive shell", 120)
    e.send("vm console linux\r")
    e.expect(r"attached to linux's console", 30)
    time.sleep(2)
    pos = mark(e)
    e.send("tpm2_pcrread sha256:16 | tail -n 1; echo pcr-read-done\r")
    seen(e, r"\[linux\] pcr-read-done", 120, pos)
    check(re.search(r"\[linux\]\s+16\s*: 0x[0-9A-F]{64}", text_since(e, pos)),
          "tpm2_pcrread typed at the shell printed no PCR 16")
    e.send("\x1d")
    e.expect(r"\[detached from linux\]", 30)
    bad = re.findall(r"[^\n]*(?:%s|contained and stopped|vcpu\d stopped)[^\n]*" % FAILURE_TEXT, e.log())
    check(not bad, "failures reported: %s" % bad)
    print("demo --linux: %s TPM steps ok; exits guest passed" % re.search(done, e.log()).group(1))


run("bochs_demo_linux", body, lambda img: emu.Bochs(img, cpus=2, model=model, megs=1024, timeout=3000),
    files=image.linux_files())
