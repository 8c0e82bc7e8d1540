#!/usr/bin/env python3
"""Every case of files/MANIFEST through the mnv3-run tool ($MNV3_RUN):
a broken file must make it exit with status 1 (not a signal, not a crash)
and print the expected message on stderr; a control must run (--bench 1).
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("MNV3_SOURCE_ROOT", os.path.dirname(os.path.dirname(HERE)))
FILES = os.path.join(SOURCE_ROOT, "tests", "broken", "files")
SHARED = os.path.join(SOURCE_ROOT, "..", "shared")


def rows():
    with open(os.path.join(FILES, "MANIFEST"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            config, weights, expected = line.rstrip("\n").split("\t")
            yield config, weights, expected


def main():
    run = os.environ.get("MNV3_RUN")
    if not run:
        sys.exit("MNV3_RUN is not set (meson sets it to the built mnv3-run)")
    failures, cases = 0, 0
    with tempfile.TemporaryDirectory(prefix="mnv3-broken-") as cwd:
        for config, weights, expected in rows():
            cases += 1
            cmd = [run, "--config", os.path.join(FILES, config), "--bench", "1"]
            if weights.startswith("@shared/"):
                cmd += ["--weights", os.path.join(SHARED, weights[len("@shared/"):])]
            elif weights != "-":
                cmd += ["--weights", os.path.join(FILES, weights)]
            p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                               errors="replace", timeout=120)
            what = "%s + %s" % (config, weights)
            if expected == "OK":
                good = p.returncode == 0
                why = "should run, exit %d: %s" % (p.returncode, p.stderr.strip())
            elif p.returncode < 0:
                good, why = False, "killed by signal %d" % -p.returncode
            else:
                good = p.returncode == 1 and expected in p.stderr and \
                    p.stderr.startswith("mnv3-run: ")
                why = "exit %d, expected \"%s\" in stderr, got: %s" % (
                    p.returncode, expected, p.stderr.strip())
            if good:
                print("ok   %s" % what)
            else:
                failures += 1
                print("FAIL %s: %s" % (what, why))
    print("%d cases, %d failed" % (cases, failures))
    return 1 if failures or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
