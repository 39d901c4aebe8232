"""Install the Debian packages the project needs (tools/packages.txt),
only those missing. The check is one dpkg-query call; apt runs only when
something is missing."""
import os
import shutil
import subprocess

from . import paths, prereq


def wanted():
    out = []
    with open(os.path.join(paths.ROOT, "tools", "packages.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def missing(pkgs):
    """The packages of `pkgs` that are not installed (one dpkg-query run)."""
    if not shutil.which("dpkg-query"):
        raise prereq.Missing("dpkg-query is missing: mamori's tools expect Debian 12 (or install the packages "
                             "of tools/packages.txt by hand)")
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\\n"] + pkgs,
                       capture_output=True, text=True)
    installed = {line.split()[0] for line in r.stdout.splitlines() if line.split()[1:2] == ["ii"]}
    return [p for p in pkgs if p not in installed]


def install(need):
    print("setup: installing %s" % " ".join(need), flush=True)
    if os.geteuid() == 0:
        sudo = []
    elif shutil.which("sudo"):
        sudo = ["sudo"]
    else:
        raise prereq.Missing("packages missing (%s) and not root, no sudo: as root run apt-get install %s"
                             % (" ".join(need), " ".join(need)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + need, check=True, env=env)


def run(quiet=False):
    """Installs what is missing; returns 0."""
    need = missing(wanted())
    if not need:
        if not quiet:
            print("setup: all %d packages present" % len(wanted()))
        return 0
    install(need)
    return 0


def ensure(allow_missing=False):
    """For `tools/mamori test/bench/demo`: one quick check; installs what
    is missing. With allow_missing (--allow-skip), a failed install is
    reported and the tests that need the package will say so and skip."""
    need = missing(wanted())
    if not need:
        return []
    try:
        install(need)
    except (prereq.Missing, subprocess.CalledProcessError) as ex:
        if not allow_missing:
            raise prereq.Missing("Debian packages missing: %s (%s)" % (" ".join(need), ex))
        print("setup: could not install %s (%s); --allow-skip: the tests needing them skip"
              % (" ".join(need), ex), flush=True)
        return need
    return []
