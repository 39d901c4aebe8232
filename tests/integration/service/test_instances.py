#!/usr/bin/env python3
"""16 vtpm-service instances at once, driven in parallel: each gets its own
PCR extends and NV contents and must see only its own."""
import hashlib
import threading

from vtpm_harness import Service, TestFailure, check, log, run_main, tpm2

INSTANCES = 16
ROUNDS = 5
NV_INDEX = "0x1500040"


def drive(svc, i, errors):
    try:
        t = svc.tcti()
        tpm2(t, "startup", "-c")
        tpm2(t, "nvdefine", NV_INDEX, "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite")
        tpm2(t, "nvwrite", NV_INDEX, "-C", "o", "-i", "-", input_bytes=b"inst%04d" % i)
        value = bytes(32)
        for r in range(ROUNDS):
            digest = hashlib.sha256(b"instance %d round %d" % (i, r)).digest()
            tpm2(t, "pcrextend", "23:sha256=" + digest.hex())
            value = hashlib.sha256(value + digest).digest()
        out = tpm2(t, "pcrread", "sha256:23").decode().upper()
        check(value.hex().upper() in out, "instance %d: PCR 23 holds another instance's extends" % i)
        check(tpm2(t, "nvread", NV_INDEX, "-C", "o", "-s", "8") == b"inst%04d" % i, "instance %d: NV" % i)
    except (TestFailure, Exception) as e:  # collected and reported by the main thread
        errors.append("instance %d: %s" % (i, e))


def main(binary):
    services = []
    try:
        for _ in range(INSTANCES):
            services.append(Service(binary).start())
        check(len({s.ports["tcp"] for s in services}) == INSTANCES, "port clash")
        errors = []
        threads = [threading.Thread(target=drive, args=(s, i, errors)) for i, s in enumerate(services)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        check(not errors, "; ".join(errors))
        check(all(s.alive() for s in services), "an instance died")
        log("%d instances ok" % INSTANCES)
    finally:
        for s in services:
            s.stop()


if __name__ == "__main__":
    run_main(main)
