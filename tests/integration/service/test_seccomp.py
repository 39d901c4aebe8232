#!/usr/bin/env python3
"""Partition mode under a seccomp filter: the broad tpm2-tools workload
(30+ distinct TPM 2.0 commands) runs through a swtpm-to-frame bridge into a
vtpm-service that may only make the allowlisted system calls; any other
call kills it. Also checks that every committed state change reached the
holder before the response: the last state_changed permanent blob equals
the permanent state the service reports afterwards."""
import os
import signal
import sys
import tempfile

from vtpm_harness import (F_GET_STATE, F_INIT, F_STATE, PartitionBridge, PartitionClient, check, frame,
                          log, run_main, tools_workload, BLOB_PERMANENT)

MIN_DISTINCT_COMMANDS = 30


def main(binary):
    launcher = sys.argv[2]
    client = PartitionClient([launcher, binary])
    bridge = None
    try:
        check(client.result(frame(F_INIT)) == 0, "init failed")
        bridge = PartitionBridge(client)
        with tempfile.TemporaryDirectory() as work:
            tools_workload(bridge.tcti(), work)
        check(not bridge.errors, "bridge errors: %s" % bridge.errors)
        log("distinct TPM command codes: %d: %s" % (len(bridge.codes), sorted(hex(c) for c in bridge.codes)))
        check(len(bridge.codes) >= MIN_DISTINCT_COMMANDS,
              "only %d distinct commands in the workload" % len(bridge.codes))
        check(client.proc.poll() is None, "service died (seccomp kill?) %s" % client.proc.returncode)
        ftype, arg, blob = client.request(frame(F_GET_STATE, BLOB_PERMANENT))
        check(ftype == F_STATE and arg == BLOB_PERMANENT, "get_state answered 0x%02x" % ftype)
        check(client.state.get(BLOB_PERMANENT) == blob,
              "the holder's copy (from state_changed frames) differs from the service's permanent state")
        log("state_changed frames received: %d" % len(client.changes))
        check(len(client.changes) > 5, "too few state_changed frames")
    finally:
        if bridge:
            bridge.close()
    rc = client.close()
    check(rc == 0, "service exit status %d (%s)" % (rc, "killed by SIGSYS: a system call outside the allowlist"
                                                      if rc == -signal.SIGSYS else client.stderr_text()))


if __name__ == "__main__":
    run_main(main)
