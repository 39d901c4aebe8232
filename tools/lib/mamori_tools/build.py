"""Configure and build: build/ (gcc: VMM, loader, host tests) and
build-fuzz/ (clang: libFuzzer targets)."""
import os
import subprocess

from . import paths


def _configure(build_dir, extra, env=None):
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        subprocess.run(["cmake", "-S", paths.ROOT, "-B", build_dir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
                       + extra, check=True, env=env)


def build_main(targets=None):
    _configure(paths.BUILD, [])
    cmd = ["ninja", "-C", paths.BUILD]
    if targets:
        cmd += targets
    subprocess.run(cmd, check=True)


def build_fuzz():
    env = dict(os.environ, CC="clang-14", CXX="clang++-14")
    _configure(paths.BUILD_FUZZ, ["-DMAMORI_FUZZ=ON", "-DMAMORI_FREESTANDING=OFF", "-DMAMORI_SANITIZE=ON"], env)
    subprocess.run(["ninja", "-C", paths.BUILD_FUZZ], check=True)


def run(args):
    build_main()
    if "--no-fuzz" not in args:
        build_fuzz()
    return 0
