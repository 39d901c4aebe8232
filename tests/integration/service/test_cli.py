#!/usr/bin/env python3
"""Command line: bad options are refused with a clear message and status 2;
--help works; a port in use is reported; CMD_SHUTDOWN ends the process;
a STORE_VOLATILE'd state is resumed once and then consumed."""
import os
import socket
import struct
import subprocess
import tempfile

from vtpm_harness import (CMD_SHUTDOWN, CMD_STORE_VOLATILE, Service, check, log, make_key_file, run_main,
                          tpm2)

EXIT_USAGE = 2


def run(binary, *args):
    return subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=30)


def refused(binary, args, text):
    r = run(binary, *args)
    err = r.stderr.decode()
    check(r.returncode == EXIT_USAGE, "%s: exit %d, expected %d" % (args, r.returncode, EXIT_USAGE))
    check(text in err, "%s: message %r lacks %r" % (args, err, text))


PT_INTERP = 3
PT_DYNAMIC = 2


def program_header_types(path):
    """Program header types of an ELF64 little-endian file (ELF spec, e_phoff/e_phentsize/e_phnum)."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    check(data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not an ELF64 LE file")
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]


def main(binary):
    # The same bytes must run inside the service partition: a static ELF
    # with no interpreter and no dynamic section.
    types = program_header_types(binary)
    check(PT_INTERP not in types and PT_DYNAMIC not in types, "vtpm-service is not statically linked")
    r = run(binary, "--help")
    check(r.returncode == 0 and b"--server tcp:PORT" in r.stdout, "--help")
    refused(binary, ["--bogus"], "unknown option")
    refused(binary, ["--server"], "needs a value")
    refused(binary, ["--server", "tcp:0"], "bad port")
    refused(binary, ["--server", "tcp:65535"], "bad port")
    refused(binary, ["--server", "tcp:12x"], "bad port")
    refused(binary, ["--server", "udp:5"], "unknown server kind")
    refused(binary, ["--server", "unix:"], "bad unix socket path")
    refused(binary, ["--server", "tcp:3000", "--state", "/tmp/x"], "--state needs --key")
    refused(binary, ["--server", "tcp:3000", "--key", "file:/k"], "--key is only used with --state")
    refused(binary, ["--state", "/tmp/x", "--key", "file:/k"], "host-mode option")
    with tempfile.TemporaryDirectory() as work:
        bad_key = os.path.join(work, "short.key")
        with open(bad_key, "w") as f:
            f.write("abcd")
        r = run(binary, "--server", "tcp:3000", "--state", os.path.join(work, "s"), "--key", "file:" + bad_key)
        check(r.returncode != 0 and b"32 raw bytes or 64 hex digits" in r.stderr, "short key accepted")

        # unix:PATH never deletes a file that is not a socket.
        victim = os.path.join(work, "precious.txt")
        with open(victim, "w") as f:
            f.write("keep")
        r = run(binary, "--server", "unix:" + victim)
        check(r.returncode != 0 and b"not a socket" in r.stderr, "unix:FILE not refused")
        check(open(victim).read() == "keep", "unix:FILE deleted a file")

        svc = Service(binary).start()
        busy = svc.ports["tcp"]
        r = run(binary, "--server", "tcp:%d" % busy)
        check(r.returncode != 0 and b"cannot listen" in r.stderr, "port in use not reported")
        c = svc.ctrl()
        check(c.result(CMD_SHUTDOWN) == 0, "CMD_SHUTDOWN failed")
        svc.proc.wait(10)
        check(svc.proc.returncode == 0, "exit status %d after CMD_SHUTDOWN" % svc.proc.returncode)
        svc.proc = None

        # Volatile state: stored, resumed once at the next start, then consumed.
        state = os.path.join(work, "state")
        key = make_key_file(work)
        svc = Service(binary, state_dir=state, key_file=key).start()
        t = svc.tcti()
        tpm2(t, "startup", "-c")
        tpm2(t, "pcrextend", "16:sha256=" + "77" * 32)
        pcr = tpm2(t, "pcrread", "sha256:16")
        check(svc.ctrl().result(CMD_STORE_VOLATILE) == 0, "STORE_VOLATILE failed")
        check(os.path.exists(os.path.join(state, "volatile.sealed")), "no volatile.sealed")
        svc.stop()
        svc = Service(binary, state_dir=state, key_file=key).start()
        # Resumed: no Startup needed, PCR 16 (not kept by Shutdown(STATE)) is back.
        check(tpm2(svc.tcti(), "pcrread", "sha256:16") == pcr, "volatile state not resumed")
        check(not os.path.exists(os.path.join(state, "volatile.sealed")), "volatile state not consumed")
        svc.stop()
    log("command line ok")


if __name__ == "__main__":
    run_main(main)
