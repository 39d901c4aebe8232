"""Command dispatch for tools/mamori (see its docstring for usage)."""
import os
import subprocess
import sys

from . import build, image, paths, setup


def usage():
    with open(os.path.join(paths.ROOT, "tools", "mamori")) as f:
        text = f.read()
    print(text.split('"""')[1].strip())
    return 2


def cmd_run(args):
    from . import run
    return run.run(args)


def cmd_test(args):
    """Builds both trees and runs ctest in each. --fast: without label 'slow'."""
    setup.run()
    build.run([])
    jobs = os.environ.get("MAMORI_TEST_JOBS", "2")
    extra = ["-LE", "slow"] if "--fast" in args else []
    rc = 0
    for tree in (paths.BUILD, paths.BUILD_FUZZ):
        r = subprocess.run(["ctest", "--output-on-failure", "-j", jobs] + extra, cwd=tree)
        rc = rc or r.returncode
    return rc


def cmd_bench(args):
    from . import bench
    setup.run()
    build.run(["--no-fuzz"])
    return bench.run(args)


def cmd_demo(args):
    setup.run()
    build.run(["--no-fuzz"])
    image.run([])
    return cmd_run(args)


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        return usage()
    cmd, args = argv[0], argv[1:]
    table = {
        "setup": lambda a: setup.run(),
        "build": build.run,
        "image": lambda a: (build.build_main(), image.run(a))[1],
        "run": cmd_run,
        "test": cmd_test,
        "bench": cmd_bench,
        "demo": cmd_demo,
    }
    if cmd not in table:
        print("mamori: unknown command '%s'" % cmd, file=sys.stderr)
        return usage()
    return table[cmd](args)
