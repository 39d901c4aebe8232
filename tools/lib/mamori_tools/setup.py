"""Install the Debian packages the project needs, only those missing."""
import os
import subprocess

from . import paths


def wanted():
    out = []
    with open(os.path.join(paths.ROOT, "tools", "packages.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def missing(pkgs):
    res = []
    for p in pkgs:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            res.append(p)
    return res


def run():
    need = missing(wanted())
    if not need:
        print("setup: all %d packages present" % len(wanted()))
        return 0
    print("setup: installing %s" % " ".join(need))
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + need, check=True, env=env)
    return 0
