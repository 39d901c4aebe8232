"""Bochs corei7_ivy_bridge_3770k: VMX without 1 GiB EPT pages. The VMM
must say so (a warning: guests use 2 MiB pages) and still be VMX-ready."""
from systest import emu, run


def body(e):
    e.expect(r"VMM entered", 180)
    e.expect(r"EPT 4-level 2M,", 120)
    e.expect(r"vmx: EPT: 1 GiB pages not supported \(guests use 2 MiB pages\)", 60)
    e.expect(r"mamori: 1 CPUs online, all 1 entered and left VMX root operation", 60)
    e.expect(r"mamori> ", 30)


run("bochs_ivybridge", body, lambda img: emu.Bochs(img, cpus=1, model="corei7_ivy_bridge_3770k", timeout=400))
