#!/usr/bin/env python3
"""Hostile input on the host-mode sockets: commands whose header size lies,
undersized/oversized/empty commands, a client that stalls mid-command,
garbage on the control channel and on the mssim ports. Each gets a clear
error (or the connection is closed), and the TPM keeps serving."""
import socket
import struct
import time

from vtpm_harness import (CMD_GET_STATEBLOB, CMD_SET_LOCALITY, CMD_SET_STATEBLOB, Service, check, data_exchange,
                          getrandom_cmd, log, rc_of, recv_exact, run_main, startup_cmd, tpm2)

TPM_RC_COMMAND_SIZE = 0x142
TPM_BAD_PARAMETER = 3
TPM_BAD_ORDINAL = 10
TPM_BAD_LOCALITY = 61
MESSAGE_TIMEOUT_S = 2.0


def healthy(svc):
    port = svc.ports["tcp"]
    rsp = data_exchange(port, getrandom_cmd(8))
    check(rc_of(rsp) == 0 and len(rsp) == 20, "TPM not healthy: %r" % rsp)
    check(svc.alive(), "service died")


def main(binary):
    svc = Service(binary, kinds=("tcp", "mssim")).start()
    try:
        port = svc.ports["tcp"]
        check(rc_of(data_exchange(port, startup_cmd())) == 0, "startup failed")
        healthy(svc)
        # commandSize below the header, above the buffer, and absurd.
        for size in (0, 9, 4097, 0xFFFFFFFF):
            hdr = struct.pack(">HII", 0x8001, size, 0x17B)
            rsp = data_exchange(port, hdr + b"\x00\x08")
            check(rc_of(rsp) == TPM_RC_COMMAND_SIZE, "size %d: response %r" % (size, rsp))
            healthy(svc)
        # Header claims more than is sent, then the client stalls: dropped
        # after the message deadline; meanwhile nothing is executed.
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(struct.pack(">HII", 0x8001, 200, 0x17B) + b"\x00\x08")
        t0 = time.time()
        s.settimeout(MESSAGE_TIMEOUT_S * 3)
        got = s.recv(100)
        waited = time.time() - t0
        s.close()
        check(got == b"", "a short command got a response: %r" % got)
        check(waited < MESSAGE_TIMEOUT_S * 2.5, "stalled client held the server %.1fs" % waited)
        healthy(svc)
        # Two commands in one segment are both framed and answered.
        with socket.create_connection(("127.0.0.1", port)) as s2:
            s2.sendall(getrandom_cmd(4) + getrandom_cmd(6))
            a = recv_exact(s2, 16)
            b = recv_exact(s2, 18)
            check(rc_of(a) == 0 and rc_of(b) == 0, "pipelined commands failed")
        # A command split across segments is reassembled.
        with socket.create_connection(("127.0.0.1", port)) as s3:
            cmd = getrandom_cmd(8)
            for i in range(len(cmd)):
                s3.sendall(cmd[i:i + 1])
                time.sleep(0.01)
            check(rc_of(recv_exact(s3, 20)) == 0, "split command failed")
        # A malformed command body reaches libtpms and gets a TPM error.
        junk = struct.pack(">HII", 0x8001, 20, 0x17B) + b"\xff" * 10
        check(rc_of(data_exchange(port, junk)) != 0, "malformed GetRandom succeeded")
        bad_tag = struct.pack(">HII", 0x1234, 12, 0x17B) + b"\x00\x08"
        check(rc_of(data_exchange(port, bad_tag)) != 0, "bad tag accepted")
        # Empty connection.
        socket.create_connection(("127.0.0.1", port)).close()
        healthy(svc)

        # Control channel.
        ctrl = port + 1
        with socket.create_connection(("127.0.0.1", ctrl)) as c:
            c.sendall(struct.pack(">I", 0x77))
            check(struct.unpack(">I", recv_exact(c, 4))[0] == TPM_BAD_ORDINAL, "unknown ctrl command")
        with socket.create_connection(("127.0.0.1", ctrl)) as c:
            c.sendall(struct.pack(">IB", CMD_SET_LOCALITY, 9))
            check(struct.unpack(">I", recv_exact(c, 4))[0] == TPM_BAD_LOCALITY, "locality 9 accepted")
        # SET_LOCALITY in both client forms: u8 alone (tcti-swtpm) and the
        # 4-byte union with padding (QEMU); the stream stays in step.
        with socket.create_connection(("127.0.0.1", ctrl)) as c:
            c.sendall(struct.pack(">IB", CMD_SET_LOCALITY, 0))
            check(struct.unpack(">I", recv_exact(c, 4))[0] == 0, "1-byte SET_LOCALITY")
            c.sendall(struct.pack(">IB3s", CMD_SET_LOCALITY, 0, b"\xaa\xbb\xcc"))
            check(struct.unpack(">I", recv_exact(c, 4))[0] == 0, "4-byte SET_LOCALITY")
            c.sendall(struct.pack(">IB", CMD_SET_LOCALITY, 0))
            check(struct.unpack(">I", recv_exact(c, 4))[0] == 0, "SET_LOCALITY after a padded one")
        with socket.create_connection(("127.0.0.1", ctrl)) as c:
            c.sendall(struct.pack(">IIII", CMD_SET_STATEBLOB, 0, 1, 0x7FFFFFFF))
            check(struct.unpack(">I", recv_exact(c, 4))[0] == TPM_BAD_PARAMETER, "2 GiB blob accepted")
        with socket.create_connection(("127.0.0.1", ctrl)) as c:
            c.sendall(struct.pack(">IIII", CMD_GET_STATEBLOB, 0, 99, 0))
            res = struct.unpack(">IIII", recv_exact(c, 16))[0]
            check(res == TPM_BAD_PARAMETER, "blob type 99 accepted")
        with socket.create_connection(("127.0.0.1", ctrl)) as c:
            c.sendall(b"\x00\x00")  # half a command code, then silence
            c.settimeout(MESSAGE_TIMEOUT_S * 3)
            check(c.recv(10) == b"", "half a ctrl command got an answer")
        healthy(svc)

        # mssim command port: size out of range, size disagreeing with header.
        mport = svc.ports["mssim"]
        with socket.create_connection(("127.0.0.1", mport)) as m:
            m.sendall(struct.pack(">IBI", 8, 0, 100000))
            m.settimeout(MESSAGE_TIMEOUT_S * 3)
            check(m.recv(10) == b"", "oversized mssim command not refused")
        with socket.create_connection(("127.0.0.1", mport)) as m:
            cmd = bytearray(getrandom_cmd(8))
            cmd[5] = 30
            m.sendall(struct.pack(">IBI", 8, 0, len(cmd)) + bytes(cmd))
            size = struct.unpack(">I", recv_exact(m, 4))[0]
            rsp = recv_exact(m, size)
            recv_exact(m, 4)
            check(rc_of(rsp) == TPM_RC_COMMAND_SIZE, "mssim size mismatch not refused: %r" % rsp)
        with socket.create_connection(("127.0.0.1", mport + 1)) as m:
            m.sendall(struct.pack(">I", 0xdead))
            m.settimeout(MESSAGE_TIMEOUT_S * 3)
            check(m.recv(10) == b"", "unknown platform code answered")
        healthy(svc)
        tpm2(svc.tcti("mssim"), "getrandom", "4")
        log("hostile input handled; service healthy")
    finally:
        svc.stop()


if __name__ == "__main__":
    run_main(main)
