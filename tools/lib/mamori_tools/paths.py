"""Where things are: the repository, build trees, firmware."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("MAMORI_BUILD", os.path.join(ROOT, "build"))
BUILD_FUZZ = os.environ.get("MAMORI_BUILD_FUZZ", os.path.join(ROOT, "build-fuzz"))
OVMF_BOCHS = "/usr/share/OVMF/OVMF_CODE.fd"        # 2 MiB: Bochs refuses the 4M one
OVMF_QEMU_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_QEMU_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
VGABIOS = "/usr/share/vgabios/vgabios.bin"


def build_file(*parts):
    return os.path.join(BUILD, *parts)


def default_image():
    return build_file("mamori.img")


def default_config():
    return os.path.join(ROOT, "tools", "mamori.cfg")


def linux_demo_config():
    """`demo --linux`: a Linux guest with its vTPM beside a test guest."""
    return os.path.join(ROOT, "tools", "mamori-linux.cfg")
