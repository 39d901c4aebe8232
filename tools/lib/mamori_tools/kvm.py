"""Can this host run mamori under QEMU/KVM with nested VT-x?

mamori needs VT-x inside the QEMU guest, so the host's KVM must be Intel's
(kvm_intel) with nested virtualization on (module parameter `nested`,
Linux Documentation/virt/kvm/nested-vmx.rst), and /dev/kvm must be
usable by this user. Each check says plainly what is missing and what to
do; `root` lets the unit test (tests/tools/test_kvm.py) point the checks at
a fake /dev and /sys."""
import os


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def problems(root="/"):
    """[] if nested VT-x under KVM is available, else one line per problem."""
    p = lambda *parts: os.path.join(root, *parts)
    out = []
    dev = p("dev", "kvm")
    if not os.path.exists(dev):
        out.append("/dev/kvm is missing: this kernel offers no KVM (on a VM, enable nested virtualization "
                   "in its host; on bare metal, enable VT-x in the firmware and `modprobe kvm_intel`)")
    elif not os.access(dev, os.R_OK | os.W_OK):
        out.append("/dev/kvm is not usable by this user: add yourself to group kvm "
                   "(`sudo adduser $USER kvm`, then log in again)")
    mod = p("sys", "module", "kvm_intel")
    if not os.path.isdir(mod):
        others = [m for m in ("kvm_amd", "kvm_pvm") if os.path.isdir(p("sys", "module", m))]
        why = (" (this kernel's KVM is %s, which offers no VT-x to a guest)" % others[0]) if others else ""
        out.append("/sys/module/kvm_intel is missing: kvm_intel is not loaded%s; mamori needs Intel VT-x "
                   "(`modprobe kvm_intel nested=1` on an Intel host)" % why)
    else:
        nested = _read(os.path.join(mod, "parameters", "nested"))
        if nested is None:
            out.append("/sys/module/kvm_intel/parameters/nested is missing: this kvm_intel has no nested VT-x")
        elif nested not in ("Y", "y", "1"):
            out.append("/sys/module/kvm_intel/parameters/nested is %s: nested VT-x is off "
                       "(`echo 'options kvm_intel nested=1' | sudo tee /etc/modprobe.d/kvm-nested.conf`, "
                       "then `sudo modprobe -r kvm_intel && sudo modprobe kvm_intel`)" % nested)
    cpuinfo = _read(p("proc", "cpuinfo")) or ""
    flags = next((l.split(":", 1)[1].split() for l in cpuinfo.splitlines() if l.startswith("flags")), [])
    if "vmx" not in flags:
        out.append("/proc/cpuinfo shows no vmx flag: this CPU (or the VM it is) offers no VT-x")
    return out
