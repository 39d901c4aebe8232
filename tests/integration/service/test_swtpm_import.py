#!/usr/bin/env python3
"""A TPM running in swtpm 0.7 is exported with CMD_GET_STATEBLOB (swtpm's
blob envelope, unencrypted) and imported into a fresh vtpm-service with
CMD_STOP, CMD_SET_STATEBLOB, CMD_INIT: the running TPM continues there with
the same PCRs, NV and EK."""
import os
import shutil
import subprocess
import sys
import tempfile

from mamori_tools.prereq import test_requires
from vtpm_harness import (BLOB_PERMANENT, BLOB_SAVESTATE, BLOB_VOLATILE, CtrlClient, Service, check,
                          free_port_pair, log, run_main, tpm2, wait_listening)


def ek_public(tcti, work, tag):
    out = os.path.join(work, "ek-%s.pub" % tag)
    tpm2(tcti, "createek", "-c", os.path.join(work, "ek.ctx"), "-G", "ecc", "-u", out)
    tpm2(tcti, "flushcontext", "-t")
    with open(out, "rb") as f:
        return f.read()


def main(binary):
    test_requires(["swtpm"])   # an error naming the package, a skip only if allowed (prereq.py)
    swtpm = shutil.which("swtpm")
    with tempfile.TemporaryDirectory() as work:
        port = free_port_pair()
        sw = subprocess.Popen([swtpm, "socket", "--tpm2", "--tpmstate", "dir=" + work,
                               "--server", "type=tcp,port=%d" % port, "--ctrl", "type=tcp,port=%d" % (port + 1),
                               "--flags", "not-need-init,startup-clear"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        svc = None
        try:
            check(wait_listening(port + 1, sw), "swtpm did not start")
            t = "swtpm:host=127.0.0.1,port=%d" % port
            tpm2(t, "pcrextend", "16:sha256=" + "ab" * 32)
            tpm2(t, "nvdefine", "0x1500050", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite")
            tpm2(t, "nvwrite", "0x1500050", "-C", "o", "-i", "-", input_bytes=b"swtp")
            pcrs = tpm2(t, "pcrread", "sha256:0,16")
            ek = ek_public(t, work, "swtpm")
            c = CtrlClient(port + 1)
            blobs = {}
            for bt in (BLOB_PERMANENT, BLOB_VOLATILE, BLOB_SAVESTATE):
                res, data = c.get_blob(bt)
                blobs[bt] = data if res == 0 else b""
            check(blobs[BLOB_PERMANENT][:1] == b"\x02", "swtpm blob is not in swtpm's envelope")
            c.close()
            sw.terminate()
            sw.wait(10)

            svc = Service(binary).start()
            cc = svc.ctrl()
            check(cc.stop() == 0, "stop")
            for bt in (BLOB_PERMANENT, BLOB_VOLATILE, BLOB_SAVESTATE):
                check(cc.set_blob(bt, blobs[bt]) == 0, "SET_STATEBLOB(%d) of a swtpm blob refused: %s"
                      % (bt, svc.log_text()))
            check(cc.init() == 0, "init")
            cc.close()
            ts = svc.tcti()
            check(tpm2(ts, "pcrread", "sha256:0,16") == pcrs, "PCRs differ after import")
            check(tpm2(ts, "nvread", "0x1500050", "-C", "o", "-s", "4") == b"swtp", "NV differs after import")
            check(ek_public(ts, work, "vtpm") == ek, "EK differs after import")
            log("swtpm state imported: PCRs, NV and EK equal")
        finally:
            if sw.poll() is None:
                sw.kill()
                sw.wait()
            if svc:
                svc.stop()


if __name__ == "__main__":
    run_main(main)
