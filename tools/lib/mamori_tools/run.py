"""`tools/mamori run`: boot the USB image with the serial console on this
terminal. Bochs+OVMF by default (VT-x emulated); --qemu for QEMU+OVMF+swtpm
(TPM emulated, no VT-x); --kvm for QEMU/KVM with nested VT-x where
/dev/kvm offers it. Ctrl-] leaves."""
import os
import select
import sys
import termios
import tty

from . import emu, image, paths

ESCAPE = 0x1D  # Ctrl-]


def kvm_has_vmx():
    if not os.path.exists("/dev/kvm"):
        return False
    with open("/proc/cpuinfo") as f:
        return " vmx" in f.read()


def run(args):
    img = paths.default_image()
    if not os.path.exists(img):
        image.write_image(img)
    cpus = int(args[args.index("--cpus") + 1]) if "--cpus" in args else 2
    model = args[args.index("--cpu-model") + 1] if "--cpu-model" in args else "corei7_skylake_x"
    timeout = int(args[args.index("--timeout") + 1]) if "--timeout" in args else 24 * 3600
    if "--kvm" in args:
        if not kvm_has_vmx():
            print("run: /dev/kvm with VT-x is not available here; use Bochs (default) or --qemu")
            return 1
        e = emu.Qemu(img, tpm="tis", cpus=cpus, timeout=timeout, accel="kvm")
    elif "--qemu" in args:
        e = emu.Qemu(img, tpm="crb" if "--crb" in args else "tis", cpus=cpus, timeout=timeout)
    else:
        e = emu.Bochs(img, cpus=cpus, model=model, timeout=timeout)
    print("mamori: booting %s in %s (serial console here; Ctrl-] quits)" % (img, e.name))
    interactive = sys.stdin.isatty()
    old = termios.tcgetattr(sys.stdin) if interactive else None
    with e:
        try:
            if interactive:
                tty.setraw(sys.stdin.fileno())
            shown = 0
            while True:
                text = e.serial.buf
                if len(text) > shown:
                    os.write(sys.stdout.fileno(), bytes(text[shown:]))
                    shown = len(text)
                if e.proc.poll() is not None and e.serial.closed:
                    break
                r, _, _ = select.select([sys.stdin] if interactive else [], [], [], 0.05)
                if r:
                    data = os.read(sys.stdin.fileno(), 64)
                    if ESCAPE in data:
                        break
                    e.send(data.decode("latin-1"), char_delay=0.005)
        finally:
            if old:
                termios.tcsetattr(sys.stdin, termios.TCSADRAIN, old)
    print("\nmamori: emulator stopped")
    return 0
