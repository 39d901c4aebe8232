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

from . import paths, prereq


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

    def requires(self):
        """Programs and files this runner needs (prereq.PACKAGE names them)."""
        return ["timeout"]

    def check_requirements(self):
        """Raises prereq.Missing naming the Debian package of the first
        missing program or firmware file."""
        for name, package in prereq.absent(self.requires()):
            raise prereq.Missing(prereq.message(name, package))

    def __init__(self, image, timeout=300, workdir=None, echo=None):
        self.check_requirements()
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
        """The emulator's exit status once it ends by itself within
        `timeout` s, else None. 124 is `timeout`'s: the time limit hit."""
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

    def requires(self):
        return super().requires() + ["bochs", "/usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so.0.0.0",
                                     paths.OVMF_BOCHS, paths.VGABIOS]

    # Bochs implements ACPI soft-off as a panic it turns fatal itself
    # (iodev/acpi.cc: "ACPI control: soft power off"), then exits with
    # status 1. Any other PANIC line in its log (a triple fault with
    # reset_on_triple_fault=0 is "exception(): 3rd (N) exception with no
    # resolution") is a failure, whatever the status.
    SOFT_OFF = "ACPI control: soft power off"

    def panics(self):
        """Bochs's own PANIC lines (bochs.log), the soft-off one excluded."""
        p = os.path.join(self.tmp, "bochs.log")
        if not os.path.exists(p):
            return []
        with open(p, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return [l for l in text.splitlines() if "PANIC" in l and self.SOFT_OFF not in l]

    def powered_off(self, timeout=60):
        """None if Bochs ended through ACPI soft-off within `timeout` s,
        else what happened instead."""
        rc = self.wait_exit(timeout)
        if rc is None:
            return "Bochs still running %d s after the power-off request" % timeout
        log = self.bochs_output()
        if self.panics():
            return "Bochs stopped on a panic, not a power-off: %s" % "; ".join(self.panics())
        if self.SOFT_OFF not in log:
            return "Bochs exited with status %d without an ACPI soft power-off" % rc
        if rc != 1:
            return "Bochs exited with status %d after the soft power-off (its soft-off status is 1)" % rc
        return None

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
    """QEMU + OVMF + swtpm; COM1 on a pipe (stdin/stdout). accel "tcg"
    (no VT-x: `-cpu max` is an AMD model without VMX, HARNESS.md) or "kvm"
    (`-enable-kvm -cpu host,+vmx`: nested VT-x where the host's kvm_intel
    offers it, see kvm.py)."""
    name = "qemu"

    def __init__(self, image, tpm="tis", cpus=2, mem=512, accel="tcg", **kw):
        self.tpm, self.cpus, self.mem, self.accel = tpm, cpus, mem, accel
        super().__init__(image, **kw)
        self.swtpm = None
        self.debug_log = os.path.join(self.tmp, "qemu-debug.log")

    def requires(self):
        need = super().requires() + ["qemu-system-x86_64", paths.OVMF_QEMU_CODE, paths.OVMF_QEMU_VARS]
        return need + (["swtpm"] if self.tpm else [])

    def command(self, vars_file, disk, tpm_socket=None, debug_log=None):
        """The QEMU command line (without the time limit): a pure function
        of the settings, unit-tested against QEMU 7.2 (tests/tools/)."""
        return qemu_command(self.accel, self.cpus, self.mem, vars_file, disk, self.tpm, tpm_socket, debug_log)

    def start(self):
        vars_copy = os.path.join(self.tmp, "vars.fd")
        shutil.copyfile(paths.OVMF_QEMU_VARS, vars_copy)
        sock = None
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
        cmd = ["timeout", "-s", "INT", "-k", "5", str(self.timeout)] + self.command(
            vars_copy, self.disk, sock, self.debug_log)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def debug_text(self):
        if not os.path.exists(self.debug_log):
            return ""
        with open(self.debug_log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ended(self, want, timeout=60):
        """None if QEMU ended by itself within `timeout` s the way `want`
        says ("poweroff" or "reset"), else what happened instead. QEMU exits
        with status 0 on an ACPI power-off and, under -no-reboot, on any
        reset, a triple fault included: the debug log (-d cpu_reset logs
        "Triple fault", the trace shows the shutdown request and its cause,
        qapi ShutdownCause: 6 = guest-shutdown) tells them apart."""
        rc = self.wait_exit(timeout)
        if rc is None:
            return "QEMU still running %d s after the request" % timeout
        if rc != 0:
            return "QEMU exited with status %d%s" % (rc, " (the time limit)" if rc == 124 else "")
        dbg = self.debug_text()
        if "Triple fault" in dbg:
            return "the CPU triple-faulted (QEMU: Triple fault)"
        causes = [int(c) for c in re.findall(r"qemu_system_shutdown_request reason=(\d+)", dbg)]
        if want == "poweroff" and causes != [SHUTDOWN_CAUSE_GUEST_SHUTDOWN]:
            return "QEMU ended without a guest power-off (shutdown causes %s)" % causes
        if want == "reset" and causes:
            return "QEMU ended through a shutdown request (causes %s), not a reset" % causes
        return None

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


# qapi/run-state.json ShutdownCause, in order: none, host-error,
# host-qmp-quit, host-qmp-system-reset, host-signal, host-ui,
# guest-shutdown, guest-reset, guest-panic, ...
SHUTDOWN_CAUSE_GUEST_SHUTDOWN = 6


def qemu_command(accel, cpus, mem, vars_file, disk, tpm=None, tpm_socket=None, debug_log=None,
                 qemu="qemu-system-x86_64"):
    """QEMU 7.2 options for the q35 machine mamori boots on. KVM:
    -enable-kvm and `-cpu host,+vmx`, the host CPU with VT-x passed
    through (nested: the host's kvm_intel must allow it, kvm.py)."""
    if accel == "kvm":
        cmd = [qemu, "-machine", "q35", "-enable-kvm", "-cpu", "host,+vmx"]
    else:
        cmd = [qemu, "-machine", "q35,accel=%s" % accel, "-cpu", "max"]
    cmd += ["-smp", str(cpus), "-m", str(mem),
            "-nodefaults", "-nic", "none", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s" % paths.OVMF_QEMU_CODE,
            "-drive", "if=pflash,format=raw,unit=1,file=%s" % vars_file,
            "-drive", "format=raw,file=%s" % disk,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if debug_log:
        cmd += ["-d", "cpu_reset", "-D", debug_log, "-trace", "qemu_system_shutdown_request"]
    if tpm:
        cmd += ["-chardev", "socket,id=chrtpm,path=%s" % tpm_socket, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                "-device", "tpm-%s,tpmdev=tpm0" % tpm]
    return cmd
