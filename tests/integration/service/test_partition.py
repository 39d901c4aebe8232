#!/usr/bin/env python3
"""Partition mode (fd 0/1 frames, docs/vtpm-protocol.md): state_changed
before the response, get/set state into a new process, and hostile frames."""
import hashlib
import struct

from vtpm_harness import (BLOB_PERMANENT, BLOB_SAVESTATE, BLOB_VOLATILE, F_GET_STATE, F_HASH_DATA,
                          F_HASH_END, F_HASH_START, F_INIT, F_RESULT, F_SET_STATE, F_SHUTDOWN, F_STATE,
                          F_STOP, F_TPM_COMMAND, F_TPM_RESPONSE, FRAME_MAGIC, PartitionClient, TPM_SU_STATE,
                          TPM_CC_SHUTDOWN, check, frame, getrandom_cmd, log, pcr_extend_cmd, pcr_read_cmd,
                          pcr_value, rc_of, run_main, startup_cmd, tpm_cmd)

TPM_RC_FAILURE = 0x101
TPM_RC_INITIALIZE = 0x100
TPM_BAD_PARAMETER = 3
TPM_BAD_ORDINAL = 10
EXIT_FRAMING = 3


def get_state(client, blob_type):
    ftype, arg, payload = client.request(frame(F_GET_STATE, blob_type))
    check(ftype == F_STATE and arg == blob_type, "get_state(%d) answered 0x%02x" % (blob_type, ftype))
    return payload


def main(binary):
    a = PartitionClient([binary])
    # Before init the TPM answers every command with TPM_RC_FAILURE.
    check(rc_of(a.command(getrandom_cmd(8))) == TPM_RC_FAILURE, "command before init did not fail")
    check(a.result(frame(F_INIT)) == 0, "init failed")
    check(any(t == BLOB_PERMANENT for t, _ in a.changes), "first init (manufacture) sent no state_changed")
    n = len(a.changes)
    check(rc_of(a.command(startup_cmd())) == 0, "Startup(CLEAR) failed")
    check(len(a.changes) > n, "Startup committed no state_changed before its response")
    rsp = a.command(getrandom_cmd(16))
    check(rc_of(rsp) == 0 and len(rsp) == 10 + 2 + 16, "GetRandom(16) response %r" % rsp)
    # Locality-4 hash sequence (H-CRTM, TPM 2.0 Part 1 §34.3) is accepted.
    check(a.result(frame(F_HASH_START)) == 0, "hash_start failed")
    check(a.result(frame(F_HASH_DATA, 0, b"crtm")) == 0, "hash_data failed")
    check(a.result(frame(F_HASH_END)) == 0, "hash_end failed")
    # PCR 10 (preserved by Shutdown(STATE), PC Client PTP) extended, then Shutdown(STATE): the shutdown state
    # must reach the holder before the Shutdown response.
    digest = hashlib.sha256(b"partition").digest()
    check(rc_of(a.command(pcr_extend_cmd(10, digest))) == 0, "PCR_Extend failed")
    pcr10 = pcr_value(a.command(pcr_read_cmd(10)))
    check(pcr10 == hashlib.sha256(bytes(32) + digest).digest(), "PCR10 value wrong")
    n = len(a.changes)
    check(rc_of(a.command(tpm_cmd(TPM_CC_SHUTDOWN, struct.pack(">H", TPM_SU_STATE)))) == 0, "Shutdown failed")
    check(len(a.changes) > n and a.changes[-1][0] == BLOB_PERMANENT,
          "Shutdown(STATE) sent no permanent state_changed before its response")
    perm = get_state(a, BLOB_PERMANENT)
    check(perm == a.state[BLOB_PERMANENT], "holder copy differs from get_state(permanent)")
    vol = get_state(a, BLOB_VOLATILE)
    check(len(vol) > 0, "volatile state of a running TPM is empty")
    check(get_state(a, BLOB_SAVESTATE) == b"", "a TPM 2.0 savestate blob is not empty")
    # set_state is refused while running.
    check(a.result(frame(F_SET_STATE, BLOB_PERMANENT, perm)) == TPM_BAD_ORDINAL, "set_state while running")

    # Hostile frames: each gets a clear error, the process stays healthy.
    lying = bytearray(getrandom_cmd(8))
    lying[5] = 40  # header says 40 bytes, frame carries 12
    check(a.result(frame(F_TPM_COMMAND, 0, bytes(lying))) == TPM_BAD_PARAMETER, "lying size accepted")
    check(a.result(frame(F_TPM_COMMAND, 5, getrandom_cmd(8))) == TPM_BAD_PARAMETER, "locality 5 accepted")
    check(a.result(frame(F_TPM_COMMAND, 0, b"")) == TPM_BAD_PARAMETER, "empty command accepted")
    check(a.result(frame(F_TPM_COMMAND, 0, bytes(5000))) == TPM_BAD_PARAMETER, "oversized command accepted")
    check(a.result(frame(0x55)) == TPM_BAD_PARAMETER, "unknown frame type accepted")
    check(a.result(frame(F_GET_STATE, 7)) == TPM_BAD_PARAMETER, "bad blob type accepted")
    check(rc_of(a.command(getrandom_cmd(8))) == 0, "TPM unhealthy after hostile frames")

    # Stopped: corrupted and truncated blobs are refused, the held state stays.
    check(a.result(frame(F_STOP)) == 0, "stop failed")
    bad = bytearray(perm)
    bad[3] ^= 0xFF
    check(a.result(frame(F_SET_STATE, BLOB_PERMANENT, bytes(bad))) == TPM_BAD_PARAMETER, "bad magic accepted")
    check(a.result(frame(F_SET_STATE, BLOB_PERMANENT, perm[: len(perm) // 2])) == TPM_BAD_PARAMETER,
          "truncated blob accepted")
    check(a.result(frame(F_SET_STATE, BLOB_VOLATILE, vol[:100])) == TPM_BAD_PARAMETER, "truncated volatile accepted")
    check(a.result(frame(F_SET_STATE, BLOB_SAVESTATE, b"junk")) == TPM_BAD_PARAMETER, "savestate blob accepted")
    check(get_state(a, BLOB_PERMANENT) == perm, "a refused set_state changed the held state")
    check(a.result(frame(F_SHUTDOWN)) == 0, "shutdown frame failed")
    check(a.close() == 0, "exit status after shutdown frame")

    # A new process restores from the holder's copy: Startup(STATE) resumes PCR 10.
    b = PartitionClient([binary])
    check(b.result(frame(F_SET_STATE, BLOB_PERMANENT, a.state[BLOB_PERMANENT])) == 0, "set_state failed")
    check(b.state.get(BLOB_PERMANENT) == a.state[BLOB_PERMANENT], "set_state not confirmed by state_changed")
    check(b.result(frame(F_INIT)) == 0, "init from restored state failed")
    check(rc_of(b.command(startup_cmd(TPM_SU_STATE))) == 0, "Startup(STATE) after restore failed")
    check(pcr_value(b.command(pcr_read_cmd(10))) == pcr10, "PCR10 not resumed in the new process")
    # Framing loss: bad magic ends the process cleanly with status 3.
    b.send_raw(b"XXXX" + bytes(8))
    ftype, arg, payload = b.read_frame()
    check(ftype == F_RESULT and struct.unpack("<I", payload)[0] == TPM_BAD_PARAMETER, "no error for bad magic")
    rc = b.close()
    check(rc == EXIT_FRAMING, "exit status %d after bad magic, expected %d" % (rc, EXIT_FRAMING))
    # A process whose input ends mid-frame exits cleanly too.
    c = PartitionClient([binary])
    c.send_raw(FRAME_MAGIC + b"\x01\x01")
    check(c.close() == EXIT_FRAMING, "truncated header did not end with status 3")
    # H-CRTM: a hash sequence between _TPM_Init and TPM2_Startup sets PCR 0
    # to SHA-256(0..04 || SHA-256(data)) (TPM 2.0 Part 1 §34.3, PC Client PTP).
    d = PartitionClient([binary])
    check(d.result(frame(F_INIT)) == 0, "init failed")
    check(d.result(frame(F_HASH_START)) == 0 and d.result(frame(F_HASH_DATA, 0, b"h-crtm image")) == 0
          and d.result(frame(F_HASH_END)) == 0, "hash sequence failed")
    check(rc_of(d.command(startup_cmd())) == 0, "Startup after H-CRTM failed")
    expected = hashlib.sha256(bytes(31) + b"\x04" + hashlib.sha256(b"h-crtm image").digest()).digest()
    check(pcr_value(d.command(pcr_read_cmd(0))) == expected, "PCR 0 does not hold the H-CRTM measurement")
    # Migration in partition mode: permanent + volatile into a new process,
    # init, and the TPM continues without TPM2_Startup (docs/vtpm-protocol.md §1.5).
    perm_d, vol_d = get_state(d, BLOB_PERMANENT), get_state(d, BLOB_VOLATILE)
    check(d.close() == 0, "exit status on EOF")
    e = PartitionClient([binary])
    check(e.result(frame(F_SET_STATE, BLOB_PERMANENT, perm_d)) == 0, "set_state(permanent)")
    check(e.result(frame(F_SET_STATE, BLOB_VOLATILE, vol_d)) == 0, "set_state(volatile)")
    check(e.result(frame(F_INIT)) == 0, "init after migration")
    check(pcr_value(e.command(pcr_read_cmd(0))) == expected, "PCR 0 lost in partition-mode migration")
    check(e.close() == 0, "exit status on EOF")
    log("partition mode ok; %d state_changed frames" % len(a.changes))


if __name__ == "__main__":
    run_main(main)
