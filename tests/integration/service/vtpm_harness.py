"""Shared helpers for the vtpm-service integration tests.

Starts vtpm-service processes on free ports, runs tpm2-tools against them,
and speaks the swtpm control channel and the partition-mode frame protocol
(docs/vtpm-protocol.md) directly where the tools cannot.
"""
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time

TOOL_TIMEOUT = 60


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def log(msg):
    print(msg, flush=True)


def _port_pair_free(base):
    socks = []
    try:
        for p in (base, base + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
            socks.append(s)
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


# One generator per test process, seeded from the PID so that tests running
# in parallel start far apart. Bases are drawn below Linux's default
# ephemeral range (32768..60999) so outgoing client sockets cannot hold them.
_PORT_RNG = random.Random(os.getpid() * 7919 + time.time_ns())
PORT_RANGE = (10000, 32000)


def free_port_pair():
    """A base port N with N and N+1 free."""
    for _ in range(200):
        base = _PORT_RNG.randrange(PORT_RANGE[0], PORT_RANGE[1], 2)
        if _port_pair_free(base):
            return base
    raise TestFailure("no free port pair found")


def wait_listening(port, proc, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Service:
    """One vtpm-service process in host mode."""

    def __init__(self, binary, kinds=("tcp",), state_dir=None, key_file=None, extra=(), wrapper=(),
                 key_spec=None, pass_fds=()):
        self.binary = binary
        self.kinds = kinds
        self.state_dir = state_dir
        self.key_file = key_file
        self.extra = list(extra)
        self.wrapper = list(wrapper)
        self.key_spec = key_spec or (("file:" + key_file) if key_file else None)
        self.pass_fds = tuple(pass_fds)
        self.proc = None
        self.ports = {}
        self.stderr_path = None

    def start(self, attempts=5):
        for _ in range(attempts):
            args = self.wrapper + [self.binary]
            ports = {}
            for kind in self.kinds:
                ports[kind] = free_port_pair()
                args += ["--server", "%s:%d" % (kind, ports[kind])]
            if self.state_dir:
                args += ["--state", self.state_dir, "--key", self.key_spec]
            args += self.extra
            fd, self.stderr_path = tempfile.mkstemp(prefix="vtpm-service-", suffix=".log")
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=fd, pass_fds=self.pass_fds)
            os.close(fd)
            if all(wait_listening(p + 1, self.proc) for p in ports.values()):
                self.ports = ports
                return self
            self.stop()
        raise TestFailure("vtpm-service did not start: " + self.log_text())

    def log_text(self):
        try:
            with open(self.stderr_path) as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def tcti(self, kind="tcp"):
        port = self.ports[kind]
        name = "swtpm" if kind == "tcp" else "mssim"
        return "%s:host=127.0.0.1,port=%d" % (name, port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def ctrl(self):
        return CtrlClient(self.ports["tcp"] + 1)


def tpm2(tcti, *args, check_rc=True, input_bytes=None):
    """Runs one tpm2-tools command against the given TCTI; returns stdout bytes."""
    cmd = ["tpm2_" + args[0], "-T", tcti] + list(args[1:])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TOOL_TIMEOUT,
                       input=input_bytes)
    if check_rc and r.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
    return r.stdout if check_rc else r


def make_key_file(directory, hex_key=None, name="sealing.key"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(hex_key or os.urandom(32).hex())
    return path


def binary_from_argv():
    if len(sys.argv) < 2:
        sys.exit("usage: %s VTPM_SERVICE_BINARY" % sys.argv[0])
    return os.path.abspath(sys.argv[1])


def run_main(fn):
    """Runs a test function and maps failures to an exit status."""
    try:
        fn(binary_from_argv())
    except TestFailure as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    print("PASS", flush=True)


# --- swtpm control channel (swtpm include/swtpm/tpm_ioctl.h) -------------

CMD_GET_CAPABILITY = 0x01
CMD_INIT = 0x02
CMD_SHUTDOWN = 0x03
CMD_GET_TPMESTABLISHED = 0x04
CMD_SET_LOCALITY = 0x05
CMD_CANCEL_TPM_CMD = 0x09
CMD_STORE_VOLATILE = 0x0a
CMD_GET_STATEBLOB = 0x0c
CMD_SET_STATEBLOB = 0x0d
CMD_STOP = 0x0e
CMD_GET_CONFIG = 0x0f
CMD_SET_BUFFERSIZE = 0x11
CMD_GET_INFO = 0x12

BLOB_PERMANENT = 1
BLOB_VOLATILE = 2
BLOB_SAVESTATE = 3


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise TestFailure("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


class CtrlClient:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    def close(self):
        self.sock.close()

    def simple(self, cmd, body=b"", resp_len=4):
        self.sock.sendall(struct.pack(">I", cmd) + body)
        return recv_exact(self.sock, resp_len)

    def result(self, cmd, body=b""):
        return struct.unpack(">I", self.simple(cmd, body))[0]

    def capabilities(self):
        return struct.unpack(">Q", self.simple(CMD_GET_CAPABILITY, resp_len=8))[0]

    def init(self, flags=0):
        return self.result(CMD_INIT, struct.pack(">I", flags))

    def stop(self):
        return self.result(CMD_STOP)

    def get_blob(self, blob_type):
        self.sock.sendall(struct.pack(">IIII", CMD_GET_STATEBLOB, 0, blob_type, 0))
        res, flags, total, length = struct.unpack(">IIII", recv_exact(self.sock, 16))
        data = recv_exact(self.sock, length) if length else b""
        return res, data

    def set_blob(self, blob_type, data, flags=0):
        self.sock.sendall(struct.pack(">IIII", CMD_SET_STATEBLOB, flags, blob_type, len(data)) + data)
        return struct.unpack(">I", recv_exact(self.sock, 4))[0]


def data_exchange(port, payload, read_len=None, timeout=10):
    """Sends raw bytes on the data channel and returns what comes back
    (read until the response size in its header, or until EOF)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        hdr = b""
        try:
            hdr = recv_exact(s, 10)
        except TestFailure:
            return hdr
        size = struct.unpack(">I", hdr[2:6])[0]
        return hdr + recv_exact(s, max(0, size - 10))


# --- TPM 2.0 commands built by hand (TPM 2.0 Part 3) ----------------------

TPM_ST_NO_SESSIONS = 0x8001
TPM_CC_STARTUP = 0x144
TPM_CC_SHUTDOWN = 0x145
TPM_CC_GET_RANDOM = 0x17B
TPM_SU_CLEAR = 0
TPM_SU_STATE = 1


def tpm_cmd(code, body=b""):
    return struct.pack(">HII", TPM_ST_NO_SESSIONS, 10 + len(body), code) + body


def startup_cmd(su=TPM_SU_CLEAR):
    return tpm_cmd(TPM_CC_STARTUP, struct.pack(">H", su))


def getrandom_cmd(n):
    return tpm_cmd(TPM_CC_GET_RANDOM, struct.pack(">H", n))


def rc_of(response):
    check(len(response) >= 10, "short TPM response %r" % response)
    return struct.unpack(">I", response[6:10])[0]


# --- partition mode frames (docs/vtpm-protocol.md) -------------------------

FRAME_MAGIC = b"MVTP"
FRAME_VERSION = 1
F_TPM_COMMAND = 0x01
F_INIT = 0x02
F_STOP = 0x03
F_CANCEL = 0x04
F_GET_STATE = 0x05
F_SET_STATE = 0x06
F_HASH_START = 0x07
F_HASH_DATA = 0x08
F_HASH_END = 0x09
F_SHUTDOWN = 0x0A
F_TPM_RESPONSE = 0x81
F_RESULT = 0x82
F_STATE = 0x83
F_STATE_CHANGED = 0x84


def frame(ftype, arg=0, payload=b""):
    return FRAME_MAGIC + struct.pack("<BBBBI", FRAME_VERSION, ftype, arg, 0, len(payload)) + payload


class PartitionClient:
    """Holder side of partition mode: the role the VMM plays."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.state = {}            # blob type -> latest state_changed payload
        self.changes = []          # (blob type, length) in arrival order

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_frame(self):
        hdr = self.proc.stdout.read(12)
        if len(hdr) < 12:
            raise TestFailure("service closed fd 1 (got %d header bytes); stderr: %s"
                              % (len(hdr), self.stderr_text()))
        check(hdr[:4] == FRAME_MAGIC, "bad response magic %r" % hdr[:4])
        _, ftype, arg, _, length = struct.unpack("<BBBBI", hdr[4:])
        payload = self.proc.stdout.read(length) if length else b""
        check(len(payload) == length, "short response payload")
        return ftype, arg, payload

    def request(self, data):
        """Sends one request; returns (type, arg, payload) of its answer and
        records every state_changed frame that preceded it."""
        self.send_raw(data)
        while True:
            ftype, arg, payload = self.read_frame()
            if ftype == F_STATE_CHANGED:
                self.state[arg] = payload
                self.changes.append((arg, len(payload)))
                continue
            return ftype, arg, payload

    def result(self, data):
        ftype, arg, payload = self.request(data)
        check(ftype == F_RESULT, "expected a result frame, got type 0x%02x" % ftype)
        return struct.unpack("<I", payload)[0]

    def command(self, cmd, locality=0):
        ftype, _, payload = self.request(frame(F_TPM_COMMAND, locality, cmd))
        check(ftype == F_TPM_RESPONSE, "expected a TPM response frame, got 0x%02x" % ftype)
        return payload

    def close(self, timeout=10):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("partition-mode service did not exit on EOF")

    def stderr_text(self):
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read().decode(errors="replace")


# --- a swtpm-protocol front for a partition-mode process -------------------

import threading


class PartitionBridge:
    """Serves swtpm's data channel (and a minimal control channel) on TCP and
    forwards each TPM command as a partition-mode frame, so tpm2-tools can
    drive a partition-mode vtpm-service exactly as the VMM would. Records
    every command code it forwarded."""

    def __init__(self, client):
        self.client = client
        self.lock = threading.Lock()
        self.codes = set()
        self.errors = []
        self.listeners = []
        for _ in range(20):  # another test may take the pair between check and bind
            self.port = free_port_pair()
            try:
                socks = []
                for p in (self.port, self.port + 1):
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    socks.append(s)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", p))
                    s.listen(8)
                break
            except OSError:
                for s in socks:
                    s.close()
        else:
            raise TestFailure("bridge found no free port pair")
        for s, handler in zip(socks, (self._serve_data, self._serve_ctrl)):
            self.listeners.append(s)
            threading.Thread(target=self._accept, args=(s, handler), daemon=True).start()

    def tcti(self):
        return "swtpm:host=127.0.0.1,port=%d" % self.port

    def _accept(self, listener, handler):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    def _serve_data(self, conn):
        with conn:
            while True:
                try:
                    hdr = recv_exact(conn, 10)
                except (TestFailure, OSError):
                    return
                size = struct.unpack(">I", hdr[2:6])[0]
                cmd = hdr + recv_exact(conn, size - 10)
                self.codes.add(struct.unpack(">I", hdr[6:10])[0])
                try:
                    with self.lock:
                        rsp = self.client.command(cmd)
                except TestFailure as e:
                    self.errors.append(str(e))
                    return
                conn.sendall(rsp)

    def _serve_ctrl(self, conn):
        with conn:
            while True:
                try:
                    cmd = struct.unpack(">I", recv_exact(conn, 4))[0]
                except (TestFailure, OSError):
                    return
                if cmd == CMD_SET_LOCALITY:
                    recv_exact(conn, 1)
                conn.sendall(struct.pack(">I", 0))

    def close(self):
        for s in self.listeners:
            s.close()


# --- the broad tpm2-tools workload -----------------------------------------

def tools_workload(tcti, workdir, log_fn=log):
    """Runs a broad tpm2-tools session (30+ distinct TPM 2.0 commands) on a
    freshly powered-on TPM and checks the results it can check."""
    import hashlib

    def t(*args, **kw):
        return tpm2(tcti, *args, **kw)

    def f(name):
        return os.path.join(workdir, name)

    t("startup", "-c")
    t("selftest", "--fulltest")
    t("gettestresult")
    t("getrandom", "32", "-o", f("rand.bin"))
    check(os.path.getsize(f("rand.bin")) == 32, "getrandom wrote no 32 bytes")
    t("stirrandom", f("rand.bin"))
    t("getcap", "properties-fixed")
    t("readclock")
    t("testparms", "rsa2048")
    # PCRs, both banks
    t("pcrextend", "16:sha1=" + "aa" * 20 + ",sha256=" + "bb" * 32)
    out = t("pcrread", "sha256:16").decode().upper()
    exp = hashlib.sha256(bytes(32) + bytes([0xbb] * 32)).hexdigest().upper()
    check(exp in out, "PCR16 sha256 wrong after extend")
    with open(f("event.txt"), "w") as fh:
        fh.write("event data")
    t("pcrevent", "16", f("event.txt"))
    t("pcrreset", "16")
    out = t("pcrread", "sha1:16").decode()
    check("0x" + "0" * 40 in out.replace("0X", "0x"), "PCR16 not reset")
    # hashing
    with open(f("msg.txt"), "w") as fh:
        fh.write("message to sign")
    t("hash", "-g", "sha256", "-o", f("hash.bin"), "-t", f("hash.tkt"), f("msg.txt"))
    # primaries and keys (ECC and RSA)
    t("createprimary", "-C", "o", "-g", "sha256", "-G", "ecc256", "-c", f("ecc_primary.ctx"))
    t("flushcontext", "-t")
    t("createprimary", "-C", "o", "-g", "sha256", "-G", "rsa2048", "-c", f("rsa_primary.ctx"))
    t("flushcontext", "-t")
    t("create", "-C", f("ecc_primary.ctx"), "-G", "ecc256", "-u", f("ecc.pub"), "-r", f("ecc.priv"))
    t("flushcontext", "-t")
    t("load", "-C", f("ecc_primary.ctx"), "-u", f("ecc.pub"), "-r", f("ecc.priv"), "-c", f("ecc.ctx"))
    t("flushcontext", "-t")
    t("sign", "-c", f("ecc.ctx"), "-g", "sha256", "-o", f("ecc.sig"), f("msg.txt"))
    t("flushcontext", "-t")
    t("verifysignature", "-c", f("ecc.ctx"), "-g", "sha256", "-m", f("msg.txt"), "-s", f("ecc.sig"))
    t("flushcontext", "-t")
    t("readpublic", "-c", f("ecc.ctx"), "-o", f("ecc_out.pub"))
    t("flushcontext", "-t")
    t("create", "-C", f("rsa_primary.ctx"), "-G", "rsa2048", "-u", f("rsa.pub"), "-r", f("rsa.priv"))
    t("flushcontext", "-t")
    t("load", "-C", f("rsa_primary.ctx"), "-u", f("rsa.pub"), "-r", f("rsa.priv"), "-c", f("rsa.ctx"))
    t("flushcontext", "-t")
    t("sign", "-c", f("rsa.ctx"), "-g", "sha256", "-o", f("rsa.sig"), f("msg.txt"))
    t("flushcontext", "-t")
    t("verifysignature", "-c", f("rsa.ctx"), "-g", "sha256", "-m", f("msg.txt"), "-s", f("rsa.sig"))
    t("flushcontext", "-t")
    # a tampered message must not verify
    with open(f("msg2.txt"), "w") as fh:
        fh.write("message to sigN")
    r = t("verifysignature", "-c", f("rsa.ctx"), "-g", "sha256", "-m", f("msg2.txt"), "-s", f("rsa.sig"),
          check_rc=False)
    check(r.returncode != 0, "a signature verified over a different message")
    t("rsaencrypt", "-c", f("rsa.ctx"), "-o", f("cipher.bin"), f("msg.txt"))
    t("flushcontext", "-t")
    t("rsadecrypt", "-c", f("rsa.ctx"), "-o", f("plain.bin"), f("cipher.bin"))
    t("flushcontext", "-t")
    check(open(f("plain.bin"), "rb").read() == b"message to sign", "RSA decrypt mismatch")
    t("ecdhkeygen", "-c", f("ecc.ctx"), "-u", f("ecdh.pub"), "-o", f("ecdh.z"))
    t("flushcontext", "-t")
    # symmetric key, HMAC key
    t("create", "-C", f("rsa_primary.ctx"), "-G", "aes128cfb", "-u", f("aes.pub"), "-r", f("aes.priv"))
    t("flushcontext", "-t")
    t("load", "-C", f("rsa_primary.ctx"), "-u", f("aes.pub"), "-r", f("aes.priv"), "-c", f("aes.ctx"))
    t("flushcontext", "-t")
    t("encryptdecrypt", "-c", f("aes.ctx"), "-o", f("aes.enc"), f("msg.txt"))
    t("flushcontext", "-t")
    t("encryptdecrypt", "-d", "-c", f("aes.ctx"), "-o", f("aes.dec"), f("aes.enc"))
    t("flushcontext", "-t")
    check(open(f("aes.dec"), "rb").read() == b"message to sign", "AES round trip mismatch")
    t("flushcontext", "-t")
    t("create", "-C", f("rsa_primary.ctx"), "-G", "hmac", "-c", f("hmac.ctx"))
    t("flushcontext", "-t")
    t("hmac", "-c", f("hmac.ctx"), "--hex", f("msg.txt"))
    t("flushcontext", "-t")
    # sealed data with a PCR policy session
    t("startauthsession", "-S", f("session.ctx"))
    t("policypcr", "-S", f("session.ctx"), "-l", "sha256:0", "-L", f("pcr.policy"))
    t("flushcontext", f("session.ctx"))
    with open(f("secret.txt"), "w") as fh:
        fh.write("sealed secret")
    t("create", "-C", f("rsa_primary.ctx"), "-L", f("pcr.policy"), "-i", f("secret.txt"),
      "-u", f("seal.pub"), "-r", f("seal.priv"))
    t("flushcontext", "-t")
    t("load", "-C", f("rsa_primary.ctx"), "-u", f("seal.pub"), "-r", f("seal.priv"), "-c", f("seal.ctx"))
    t("flushcontext", "-t")
    t("startauthsession", "--policy-session", "-S", f("psession.ctx"))
    t("policypcr", "-S", f("psession.ctx"), "-l", "sha256:0")
    secret = t("unseal", "-p", "session:" + f("psession.ctx"), "-c", f("seal.ctx"))
    t("flushcontext", "-t")
    t("flushcontext", f("psession.ctx"))
    check(secret == b"sealed secret", "unseal under a PCR policy returned %r" % secret)
    # quote
    t("createek", "-c", f("ek.ctx"), "-G", "rsa", "-u", f("ek.pub"))
    t("flushcontext", "-t")
    t("createak", "-C", f("ek.ctx"), "-c", f("ak.ctx"), "-G", "rsa", "-g", "sha256", "-s", "rsassa",
      "-u", f("ak.pub"), "-n", f("ak.name"))
    t("flushcontext", "-t")
    t("quote", "-c", f("ak.ctx"), "-l", "sha256:0,1,16", "-q", "abcdef", "-m", f("quote.msg"),
      "-s", f("quote.sig"), "-o", f("quote.pcrs"), "-g", "sha256")
    t("flushcontext", "-t")
    t("flushcontext", "-s")
    # persistent key
    t("evictcontrol", "-C", "o", "-c", f("ecc_primary.ctx"), "0x81000010")
    t("readpublic", "-c", "0x81000010")
    # NV: ordinary and counter indices
    t("nvdefine", "0x1500016", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite|authread|authwrite")
    with open(f("nv.bin"), "wb") as fh:
        fh.write(b"0123456789abcdef0123456789ABCDEF")
    t("nvwrite", "0x1500016", "-C", "o", "-i", f("nv.bin"))
    check(t("nvread", "0x1500016", "-C", "o", "-s", "32") == b"0123456789abcdef0123456789ABCDEF",
          "NV read back differs")
    t("nvdefine", "0x1500017", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite|nt=counter")
    t("nvincrement", "0x1500017", "-C", "o")
    t("nvincrement", "0x1500017", "-C", "o")
    counter = t("nvread", "0x1500017", "-C", "o", "-s", "8")
    check(struct.unpack(">Q", counter)[0] == 2, "NV counter is %r after two increments" % counter)
    t("nvreadpublic")
    t("nvdefine", "0x1500018", "-C", "o", "-s", "8")
    t("nvundefine", "0x1500018", "-C", "o")
    t("dictionarylockout", "-c")
    t("changeauth", "-c", "o", "ownerpass")
    t("changeauth", "-c", "o", "-p", "ownerpass")
    t("getcap", "handles-persistent")
    return hashlib.sha256(t("readpublic", "-c", "0x81000010")).hexdigest()


TPM_ST_SESSIONS = 0x8002
TPM_CC_PCR_EXTEND = 0x182
TPM_CC_PCR_READ = 0x17E
TPM_RS_PW = 0x40000009
TPM_ALG_SHA256 = 0x000B


def pcr_extend_cmd(pcr, digest32):
    """TPM2_PCR_Extend(pcr, sha256 digest) with an empty password session
    (TPM 2.0 Part 3 §22.2, Part 1 §19.8.3 password authorization)."""
    auth = struct.pack(">IHBH", TPM_RS_PW, 0, 0, 0)
    body = struct.pack(">I", pcr) + struct.pack(">I", len(auth)) + auth
    body += struct.pack(">IH", 1, TPM_ALG_SHA256) + digest32
    return struct.pack(">HII", TPM_ST_SESSIONS, 10 + len(body), TPM_CC_PCR_EXTEND) + body


def pcr_read_cmd(pcr):
    """TPM2_PCR_Read of one sha256 PCR (TPM 2.0 Part 3 §22.4)."""
    select = bytearray(3)
    select[pcr // 8] |= 1 << (pcr % 8)
    body = struct.pack(">IHB", 1, TPM_ALG_SHA256, 3) + bytes(select)
    return tpm_cmd(TPM_CC_PCR_READ, body)


def pcr_value(read_response):
    check(rc_of(read_response) == 0, "PCR_Read failed: 0x%x" % rc_of(read_response))
    return read_response[-32:]
