"""`tools/mamori run`: boot the USB image with the serial console on this
terminal. Bochs+OVMF by default (VT-x emulated); --qemu for QEMU+OVMF+swtpm
(TPM emulated, no VT-x); --kvm for QEMU/KVM with nested VT-x where the
host offers it (kvm.py says what is missing otherwise). Ctrl-] leaves."""
import os
import select
import sys
import termios
import tty

from . import emu, image, kvm, paths, prereq

ESCAPE = 0x1D  # Ctrl-]


def emulator(args, img):
    if args.kvm:
        return emu.Qemu(img, tpm="crb" if args.crb else "tis", cpus=args.cpus, timeout=args.timeout, accel="kvm")
    if args.qemu:
        return emu.Qemu(img, tpm="crb" if args.crb else "tis", cpus=args.cpus, timeout=args.timeout)
    return emu.Bochs(img, cpus=args.cpus, model=args.cpu_model, megs=megs(args), timeout=args.timeout)


def megs(args):
    """Emulated RAM: the Linux demo's guest has 256 MiB of its own."""
    return 1024 if args.linux else 512


def dry_run(args, img):
    """--dry-run: what `run` would start, and for --kvm what is missing."""
    rc = 0
    if args.kvm:
        gone = kvm.problems()
        for line in gone:
            print("run --kvm: missing: " + line)
        print("run --kvm: nested VT-x available" if not gone else "run --kvm: would refuse to start")
        rc = 1 if gone else 0
    if args.kvm or args.qemu:
        cmd = emu.qemu_command("kvm" if args.kvm else "tcg", args.cpus, 512, "<copy of %s>" % paths.OVMF_QEMU_VARS,
                               "<copy of %s>" % img, "crb" if args.crb else "tis", "<swtpm control socket>")
    else:
        cmd = ["bochs", "-q", "-f", "<bochsrc: cpu model=%s, count=%d, megs=%d, OVMF %s, disk: copy of %s>"
               % (args.cpu_model, args.cpus, megs(args), paths.OVMF_BOCHS, img)]
    if args.linux:
        print("config: %s" % paths.linux_demo_config())
    print(" ".join(cmd))
    return rc


def run(args):
    img = args.image or (paths.build_file("mamori-linux.img") if args.linux else paths.default_image())
    if args.dry_run:
        return dry_run(args, img)
    if args.kvm:
        gone = kvm.problems()
        if gone:
            for line in gone:
                print("run --kvm: missing: " + line, file=sys.stderr)
            raise prereq.Missing("run --kvm: no nested VT-x on this host (details above); "
                                 "use Bochs (the default) or --qemu")
    if not args.image:
        # Always the current build (the `image` target writes the default one).
        image.write_default(img, linux=args.linux)
    elif not os.path.exists(img):
        raise prereq.Missing("%s does not exist: write one with tools/mamori image -o %s" % (img, img))
    e = emulator(args, img)
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
