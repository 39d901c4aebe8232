#!/usr/bin/env python3
"""Host-mode state: the sealed state directory across processes (same EK,
NV, PCRs after Shutdown(STATE)), wrong key / corrupted / truncated files
refused without touching them, one process per directory, no committed
change lost when the process is killed, and state moved into a fresh
process over swtpm's control channel (GET_STATEBLOB / SET_STATEBLOB)."""
import hashlib
import os
import signal
import subprocess
import tempfile

from vtpm_harness import (BLOB_PERMANENT, BLOB_VOLATILE, BLOB_SAVESTATE, Service, TestFailure, check, log,
                          make_key_file, run_main, tpm2)

NV_INDEX = "0x1500020"
COUNTER_INDEX = "0x1500021"
PCR_DIGEST = "cd" * 32
TPM_BAD_PARAMETER = 3
TPM_BAD_ORDINAL = 10


def dir_digest(d):
    h = hashlib.sha256()
    for name in sorted(os.listdir(d)):
        if name.endswith(".sealed"):
            with open(os.path.join(d, name), "rb") as f:
                h.update(name.encode() + f.read())
    return h.hexdigest()


def fingerprint(t, work):
    """What must survive: EK public, NV contents, PCR 10 (sha256)."""
    ek = os.path.join(work, "ek.pub")
    tpm2(t, "createek", "-c", os.path.join(work, "ek.ctx"), "-G", "ecc", "-u", ek)
    tpm2(t, "flushcontext", "-t")
    with open(ek, "rb") as f:
        ek_pub = f.read()
    nv = tpm2(t, "nvread", NV_INDEX, "-C", "o", "-s", "16")
    pcr = tpm2(t, "pcrread", "sha256:10").decode()
    return ek_pub, nv, pcr


def start_fails(binary, state, key, expect):
    r = subprocess.run([binary, "--server", "tcp:2", "--state", state, "--key", "file:" + key],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    err = r.stderr.decode()
    check(r.returncode != 0, "service started although: " + expect)
    check(expect in err, "error message %r does not mention %r" % (err, expect))
    log("refused as expected: " + err.strip())


REGRESSION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "service",
                          "regressions", "libtpms-permanent-oob-1")


def fuzz_edit(template, inp):
    """The edit of tests/fuzz/service/fuzz_state_blob.cpp: u16 truncation,
    then (u16 offset, u8 xor) patches."""
    out = bytearray(template)
    if len(inp) < 2:
        return bytes(out)
    cut = ((inp[0] << 8) | inp[1]) % (len(out) + 1)
    if cut:
        out = out[:len(out) - cut % 64]
    i = 2
    while i + 3 <= len(inp) and out:
        off = ((inp[i] << 8) | inp[i + 1]) % len(out)
        out[off] ^= inp[i + 2]
        i += 3
    return bytes(out)


def crash_regression(binary):
    """A permanent blob that made libtpms 0.9.2's TPMLIB_ValidateState read
    out of bounds (found by the fuzz target) is refused over SET_STATEBLOB,
    and the service survives it."""
    with open(REGRESSION, "rb") as f:
        inp = f.read()
    svc = Service(binary).start()
    try:
        c = svc.ctrl()
        res, template = c.get_blob(BLOB_PERMANENT)  # the manufacture-time blob, as in the fuzz target
        check(res == 0, "GET_STATEBLOB failed")
        check(c.stop() == 0, "stop failed")
        check(c.set_blob(BLOB_PERMANENT, fuzz_edit(template, inp[1:])) == TPM_BAD_PARAMETER,
              "crashing blob not refused")
        check(svc.alive(), "service died on the crashing blob")
        check(c.set_blob(BLOB_PERMANENT, template) == 0 and c.init() == 0, "service unusable afterwards")
        c.close()
        log("crash regression: " + svc.log_text().strip())
    finally:
        svc.stop()


def main(binary):
    with tempfile.TemporaryDirectory() as work:
        state = os.path.join(work, "state")
        key = make_key_file(work)
        svc = Service(binary, state_dir=state, key_file=key).start()
        t = svc.tcti()
        tpm2(t, "startup", "-c")
        tpm2(t, "nvdefine", NV_INDEX, "-C", "o", "-s", "16", "-a", "ownerread|ownerwrite")
        nvfile = os.path.join(work, "nv.bin")
        with open(nvfile, "wb") as f:
            f.write(b"persist-me-0123!")
        tpm2(t, "nvwrite", NV_INDEX, "-C", "o", "-i", nvfile)
        tpm2(t, "pcrextend", "10:sha256=" + PCR_DIGEST)
        before = fingerprint(t, work)
        tpm2(t, "shutdown")  # TPM_SU_STATE
        check(svc.stop() is not None, "service not stopped")
        check(os.path.exists(os.path.join(state, "permanent.sealed")), "no sealed permanent state written")
        with open(os.path.join(state, "permanent.sealed"), "rb") as f:
            sealed = f.read()
        check(b"persist-me-0123!" not in sealed, "NV contents visible in the sealed file")

        # New process, same directory, the key now through an inherited
        # pipe (--key fd:N): Startup(STATE) resumes everything.
        with open(key) as kf:
            key_hex = kf.read()
        rfd, wfd = os.pipe()
        os.write(wfd, key_hex.encode())
        os.close(wfd)
        svc = Service(binary, state_dir=state, key_spec="fd:%d" % rfd, pass_fds=(rfd,)).start(attempts=1)
        os.close(rfd)
        t = svc.tcti()
        tpm2(t, "startup")
        after = fingerprint(t, work)
        check(after[0] == before[0], "EK public differs after restart")
        check(after[1] == b"persist-me-0123!", "NV differs after restart: %r" % after[1])
        check(after[2] == before[2], "PCR 10 not resumed: %s vs %s" % (after[2], before[2]))
        # A second process on the same directory is refused while the first runs.
        start_fails(binary, state, key, "in use")
        svc.stop()

        # Wrong key, corrupted file, truncated file: refused, files untouched.
        good = dir_digest(state)
        other_key = make_key_file(work, os.urandom(32).hex(), name="other.key")
        start_fails(binary, state, other_key, "authentication failed")
        check(dir_digest(state) == good, "state changed by a refused start (wrong key)")
        perm_path = os.path.join(state, "permanent.sealed")
        with open(perm_path, "rb") as f:
            original = f.read()
        corrupted = bytearray(original)
        corrupted[len(corrupted) // 2] ^= 0x40
        with open(perm_path, "wb") as f:
            f.write(corrupted)
        start_fails(binary, state, key, "authentication failed")
        with open(perm_path, "wb") as f:
            f.write(original[:100])
        start_fails(binary, state, key, "length does not match")
        with open(perm_path, "wb") as f:
            f.write(original)

        # Killed at arbitrary moments: every increment that was answered survives.
        svc = Service(binary, state_dir=state, key_file=key).start()
        t = svc.tcti()
        tpm2(t, "startup", "-c")
        tpm2(t, "nvdefine", COUNTER_INDEX, "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite|nt=counter")
        confirmed = 0
        for round_no in range(4):
            for _ in range(3 + round_no):
                tpm2(t, "nvincrement", COUNTER_INDEX, "-C", "o")
                confirmed += 1
            svc.proc.send_signal(signal.SIGKILL)
            svc.proc.wait()
            svc.proc = None
            svc = Service(binary, state_dir=state, key_file=key).start()
            t = svc.tcti()
            tpm2(t, "startup", "-c")
            value = int.from_bytes(tpm2(t, "nvread", COUNTER_INDEX, "-C", "o", "-s", "8"), "big")
            # TPM 2.0 Part 1 §37.2.3: counters may jump ahead after an
            # unorderly shutdown, never back.
            check(value >= confirmed, "counter %d < %d confirmed increments after SIGKILL" % (value, confirmed))
            confirmed = value
        log("counter after kills: %d" % confirmed)
        leftovers = [n for n in os.listdir(state) if n.endswith(".tmp")]
        log("leftover temporary files: %s" % leftovers)
        svc.stop()

        # Migration through the control channel into a fresh process.
        src = Service(binary).start()
        dst = Service(binary).start()
        try:
            ts, td = src.tcti(), dst.tcti()
            tpm2(ts, "startup", "-c")
            tpm2(ts, "nvdefine", NV_INDEX, "-C", "o", "-s", "16", "-a", "ownerread|ownerwrite")
            tpm2(ts, "nvwrite", NV_INDEX, "-C", "o", "-i", nvfile)
            tpm2(ts, "pcrextend", "10:sha256=" + PCR_DIGEST)
            src_fp = fingerprint(ts, work)
            cs = src.ctrl()
            blobs = {}
            for bt in (BLOB_PERMANENT, BLOB_VOLATILE, BLOB_SAVESTATE):
                res, data = cs.get_blob(bt)
                check(res == 0, "GET_STATEBLOB(%d) result %d" % (bt, res))
                blobs[bt] = data
            check(len(blobs[BLOB_PERMANENT]) > 0 and len(blobs[BLOB_VOLATILE]) > 0, "empty state blobs")
            cd = dst.ctrl()
            check(cd.set_blob(BLOB_PERMANENT, blobs[BLOB_PERMANENT]) == TPM_BAD_ORDINAL,
                  "SET_STATEBLOB accepted while running")
            check(cd.stop() == 0, "CMD_STOP failed")
            bad = bytearray(blobs[BLOB_PERMANENT])
            bad[-1] ^= 1
            check(cd.set_blob(BLOB_PERMANENT, bytes(bad)) == TPM_BAD_PARAMETER, "corrupted blob accepted")
            check(cd.set_blob(BLOB_PERMANENT, blobs[BLOB_PERMANENT][:64]) == TPM_BAD_PARAMETER,
                  "truncated blob accepted")
            check(cd.set_blob(BLOB_PERMANENT, blobs[BLOB_PERMANENT], flags=2) == TPM_BAD_PARAMETER,
                  "blob flagged encrypted accepted")
            for bt in (BLOB_PERMANENT, BLOB_VOLATILE, BLOB_SAVESTATE):
                check(cd.set_blob(bt, blobs[bt]) == 0, "SET_STATEBLOB(%d) failed" % bt)
            check(cd.init() == 0, "CMD_INIT after SET_STATEBLOB failed")
            # The volatile state came along: the TPM is already started.
            dst_fp = fingerprint(td, work)
            check(dst_fp == src_fp, "migrated TPM differs (EK, NV or PCR 10)")
            cs.close()
            cd.close()
        finally:
            src.stop()
            dst.stop()
        crash_regression(binary)
        log("state tests ok")


if __name__ == "__main__":
    run_main(main)
