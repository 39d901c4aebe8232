#!/usr/bin/env python3
"""The broad tpm2-tools list over one TCTI (swtpm or mssim): startup,
getrandom, PCRs on both banks, ECC and RSA primaries, create/load/sign/
verifysignature, NV ordinary and counter indices, a PCR policy session,
quote, evictcontrol; then clear; then shutdown(state) and a restart of the
process on the same sealed state directory keeping PCRs, NV and keys."""
import os
import sys
import tempfile

from vtpm_harness import Service, check, log, make_key_file, run_main, tools_workload, tpm2

PCR_DIGEST = "5a" * 32


def main(binary):
    kind = sys.argv[2] if len(sys.argv) > 2 else "tcp"
    with tempfile.TemporaryDirectory() as work:
        state = os.path.join(work, "state")
        key = make_key_file(work)
        svc = Service(binary, kinds=(kind,), state_dir=state, key_file=key).start()
        t = svc.tcti(kind)
        persistent_digest = tools_workload(t, work)
        # TPM2_Clear (lockout authority) removes owner objects and NV.
        tpm2(t, "clear", "-c", "l")
        r = tpm2(t, "readpublic", "-c", "0x81000010", check_rc=False)
        check(r.returncode != 0, "persistent key survived TPM2_Clear")
        r = tpm2(t, "nvread", "0x1500016", "-C", "o", "-s", "32", check_rc=False)
        check(r.returncode != 0, "owner NV index survived TPM2_Clear")
        # Fresh owner objects, then shutdown(state) and restart.
        tpm2(t, "createprimary", "-C", "o", "-G", "ecc256", "-c", os.path.join(work, "p.ctx"))
        tpm2(t, "evictcontrol", "-C", "o", "-c", os.path.join(work, "p.ctx"), "0x81000011")
        tpm2(t, "flushcontext", "-t")
        pub_before = tpm2(t, "readpublic", "-c", "0x81000011")
        tpm2(t, "nvdefine", "0x1500030", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite")
        tpm2(t, "nvwrite", "0x1500030", "-C", "o", "-i", "-", input_bytes=b"keep")
        tpm2(t, "pcrextend", "10:sha256=" + PCR_DIGEST)
        pcrs_before = tpm2(t, "pcrread", "sha1:0,10+sha256:0,10")
        tpm2(t, "shutdown")
        svc.stop()
        svc = Service(binary, kinds=(kind,), state_dir=state, key_file=key).start()
        t = svc.tcti(kind)
        tpm2(t, "startup")
        check(tpm2(t, "pcrread", "sha1:0,10+sha256:0,10") == pcrs_before, "PCRs not kept across restart")
        check(tpm2(t, "nvread", "0x1500030", "-C", "o", "-s", "4") == b"keep", "NV not kept across restart")
        check(tpm2(t, "readpublic", "-c", "0x81000011") == pub_before, "persistent key not kept")
        svc.stop()
        log("broad tpm2-tools list ok over %s (persistent key digest %s)" % (kind, persistent_digest[:16]))


if __name__ == "__main__":
    run_main(main)
