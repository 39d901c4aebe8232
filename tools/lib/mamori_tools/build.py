"""Configure and build the trees of CMakePresets.json: build/ (preset
host: gcc, the VMM, loader, image, host tests) and build-fuzz/ (preset
fuzz: clang, libFuzzer targets). The presets are the one definition of
each tree; this only runs them."""
import os
import subprocess

from . import paths, prereq

PRESET_DIRS = {"host": lambda: paths.BUILD, "fuzz": lambda: paths.BUILD_FUZZ}
NEEDS = {"host": ("cmake", "ninja", "g++"), "fuzz": ("cmake", "ninja", "clang-14", "clang++-14")}


def _configure(preset):
    build_dir = PRESET_DIRS[preset]()
    for tool in NEEDS[preset]:
        prereq.program(tool)
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        # -B overrides the preset's binaryDir when MAMORI_BUILD(_FUZZ) moved it.
        subprocess.run(["cmake", "--preset", preset, "-B", build_dir], check=True, cwd=paths.ROOT)
    return build_dir


def _jobs():
    j = os.environ.get("MAMORI_BUILD_JOBS")
    return ["-j", j] if j else []


def build_main(targets=None):
    build_dir = _configure("host")
    subprocess.run(["ninja", "-C", build_dir] + _jobs() + list(targets or []), check=True)


def build_fuzz():
    build_dir = _configure("fuzz")
    subprocess.run(["ninja", "-C", build_dir] + _jobs(), check=True)


def run(no_fuzz=False, targets=None, jobs=None):
    if jobs:
        os.environ["MAMORI_BUILD_JOBS"] = str(jobs)
    build_main(targets)
    if not no_fuzz:
        build_fuzz()
    return 0
