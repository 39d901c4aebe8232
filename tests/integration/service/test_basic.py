#!/usr/bin/env python3
"""Startup, GetRandom, PCR_Extend/PCR_Read on the sha1 and sha256 banks,
driven by tpm2-tools over the TCTI named on the command line (swtpm or mssim)."""
import sys

from vtpm_harness import Service, check, log, run_main, tpm2


def main(binary):
    kind = sys.argv[2] if len(sys.argv) > 2 else "tcp"
    svc = Service(binary, kinds=(kind,)).start()
    try:
        t = svc.tcti(kind)
        tpm2(t, "startup", "-c")
        r1 = tpm2(t, "getrandom", "8", "--hex").decode().strip()
        r2 = tpm2(t, "getrandom", "8", "--hex").decode().strip()
        log("getrandom: %s %s" % (r1, r2))
        check(len(r1) == 16 and len(r2) == 16, "getrandom did not return 8 bytes")
        check(r1 != r2, "two GetRandom calls returned the same bytes")
        zero_sha1 = "0x" + "0" * 40
        zero_sha256 = "0x" + "0" * 64
        before = tpm2(t, "pcrread", "sha1:16+sha256:16").decode()
        check(zero_sha1 in before.upper().replace("0X", "0x") and zero_sha256 in before.upper().replace("0X", "0x"),
              "PCR 16 not zero after startup: " + before)
        tpm2(t, "pcrextend", "16:sha1=" + "11" * 20 + ",sha256=" + "22" * 32)
        after = tpm2(t, "pcrread", "sha1:16+sha256:16").decode()
        log(after)
        # Expected values: SHA-x(zero digest || extended digest), TPM 2.0 Part 1 §17.
        import hashlib
        exp1 = hashlib.sha1(bytes(20) + bytes([0x11] * 20)).hexdigest().upper()
        exp256 = hashlib.sha256(bytes(32) + bytes([0x22] * 32)).hexdigest().upper()
        check(exp1 in after.upper(), "sha1 PCR 16 is not SHA1(0..0 || 11..11)")
        check(exp256 in after.upper(), "sha256 PCR 16 is not SHA256(0..0 || 22..22)")
        check(svc.alive(), "service died")
    finally:
        svc.stop()


if __name__ == "__main__":
    run_main(main)
