"""Emulator runners shared by `tools/mamori run`, the system tests and the
benchmarks: Bochs+OVMF (VT-x emulated) and QEMU+OVMF+swtpm (TPM emulated).
Facts they rely on are in ../shared/design/HARNESS.md.

Each runner boots a *copy* of the image (Bochs opens flat disks read-write),
exposes the guest's COM1 as a byte stream (`read`, `expect`, `send`) and
always stops the emulator (time limit, context manager)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from . import paths


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SerialLog:
    """Accumulates bytes from a reader thread; expect() waits for a regex."""

    def __init__(self, logfile=None):
        self.buf = bytearray()
        self.cv = threading.Condition()
        self.closed = False
        self.logfile = logfile
        self.pos = 0  # expect() searches from here

    def feed(self, data):
        with self.cv:
            self.buf += data
            if self.logfile:
                self.logfile.write(data)
                self.logfile.flush()
            self.cv.notify_all()

    def close(self):
        with self.cv:
            self.closed = True
            self.cv.notify_all()

    def text(self):
        with self.cv:
            return self.buf.decode("utf-8", "replace")

    def expect(self, pattern, timeout):
        """Waits until `pattern` appears after the previous match; returns
        the match. Raises TimeoutError (with the log) otherwise."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    why = "emulator exited" if self.closed else "timed out after %.0f s" % timeout
                    raise TimeoutError("%s waiting for %r" % (why, pattern))
                self.cv.wait(min(left, 0.5))


class Emulator:
    name = "emulator"

    def __init__(self, image, timeout=300, workdir=None, echo=None):
        self.tmp = tempfile.mkdtemp(prefix="mamori-%s-" % self.name, dir=workdir)
        self.disk = os.path.join(self.tmp, "disk.img")
        shutil.copyfile(image, self.disk)
        self.timeout = timeout
        self.serial = SerialLog(echo)
        self.proc = None
        self.reader = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def expect(self, pattern, timeout=120):
        return self.serial.expect(pattern, timeout)

    def log(self):
        return self.serial.text()

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self._cleanup()
        self.serial.close()
        if os.environ.get("MAMORI_KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _cleanup(self):
        pass


class Bochs(Emulator):
    """Bochs 2.7 + OVMF (2 MiB image); COM1 is a TCP socket Bochs serves."""
    name = "bochs"

    def __init__(self, image, cpus=2, model="corei7_skylake_x", megs=512, ips=10000000, **kw):
        super().__init__(image, **kw)
        self.cpus, self.model, self.megs, self.ips = cpus, model, megs, ips
        self.sock = None

    def config(self, port):
        return "\n".join([
            "megs: %d" % self.megs,
            "romimage: file=%s" % paths.OVMF_BOCHS,
            "vgaromimage: file=%s" % paths.VGABIOS,
            "cpu: model=%s, count=%d, ips=%d, reset_on_triple_fault=0" % (self.model, self.cpus, self.ips),
            "clock: sync=none",
            "pci: enabled=1, chipset=i440fx",
            "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
            "ata0-master: type=disk, mode=flat, path=%s" % self.disk,
            "boot: disk",
            "com1: enabled=1, mode=socket-server, dev=127.0.0.1:%d" % port,
            "display_library: term",
            "log: %s" % os.path.join(self.tmp, "bochs.log"),
            "panic: action=fatal",
            "error: action=report",
            "info: action=ignore",
            "debug: action=ignore",
            "magic_break: enabled=1",
            "port_e9_hack: enabled=1",
            "speaker: enabled=0",
            "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
            "",
        ])

    def start(self):
        port = free_port()
        rc = os.path.join(self.tmp, "bochsrc")
        with open(rc, "w") as f:
            f.write(self.config(port))
        cont = os.path.join(self.tmp, "debugger.rc")
        with open(cont, "w") as f:
            f.write("continue\nquit\n")
        env = dict(os.environ, TERM="dumb")
        # `timeout -s INT`: Bochs' term display ignores SIGTERM (HARNESS.md).
        cmd = ["timeout", "-s", "INT", "-k", "5", str(self.timeout), "bochs", "-q", "-f", rc, "-rc", cont]
        self.stdout = open(os.path.join(self.tmp, "bochs.out"), "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=subprocess.STDOUT,
                                     env=env, cwd=self.tmp, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bochs did not open its serial socket:\n" + self.bochs_output())
                time.sleep(0.2)
        self.sock.settimeout(None)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    break
                self.serial.feed(data)
        except OSError:
            pass
        self.serial.close()

    def send(self, text, char_delay=0.02):
        """Types text on the serial line (slowly: Bochs' UART has a small FIFO)."""
        for b in text.encode():
            self.sock.sendall(bytes([b]))
            time.sleep(char_delay)

    def bochs_output(self):
        out = ""
        for name in ("bochs.out", "bochs.log"):
            p = os.path.join(self.tmp, name)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out += "--- %s ---\n%s\n" % (name, f.read()[-4000:].decode("utf-8", "replace"))
        return out

    def _cleanup(self):
        if self.sock:
            self.sock.close()


class Qemu(Emulator):
    """QEMU (TCG) + OVMF + swtpm; COM1 on a pipe (stdin/stdout)."""
    name = "qemu"

    def __init__(self, image, tpm="tis", cpus=2, mem=512, accel="tcg", **kw):
        super().__init__(image, **kw)
        self.tpm, self.cpus, self.mem, self.accel = tpm, cpus, mem, accel
        self.swtpm = None

    def start(self):
        vars_copy = os.path.join(self.tmp, "vars.fd")
        shutil.copyfile(paths.OVMF_QEMU_VARS, vars_copy)
        cmd = ["timeout", "-s", "INT", "-k", "5", str(self.timeout), "qemu-system-x86_64",
               "-machine", "q35,accel=%s" % self.accel, "-cpu", "host" if self.accel == "kvm" else "max", "-smp", str(self.cpus), "-m", str(self.mem),
               "-nodefaults", "-nic", "none", "-display", "none", "-serial", "stdio", "-no-reboot",
               "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s" % paths.OVMF_QEMU_CODE,
               "-drive", "if=pflash,format=raw,unit=1,file=%s" % vars_copy,
               "-drive", "format=raw,file=%s" % self.disk,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
        if self.tpm:
            state = os.path.join(self.tmp, "tpm")
            os.makedirs(state)
            sock = os.path.join(self.tmp, "swtpm.sock")
            self.swtpm = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                                           "--ctrl", "type=unixio,path=" + sock, "--terminate"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True)
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            cmd += ["-chardev", "socket,id=chrtpm,path=" + sock, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                    "-device", "tpm-%s,tpmdev=tpm0" % self.tpm]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = os.read(self.proc.stdout.fileno(), 4096)
            if not data:
                break
            self.serial.feed(data)
        self.serial.close()

    def send(self, text, char_delay=0.01):
        for b in text.encode():
            self.proc.stdin.write(bytes([b]))
            self.proc.stdin.flush()
            time.sleep(char_delay)

    def _cleanup(self):
        if self.swtpm and self.swtpm.poll() is None:
            self.swtpm.kill()
            self.swtpm.wait()
