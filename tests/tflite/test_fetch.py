#!/usr/bin/python3
"""models/fetch with --from (no network): installs both models with the
right checksums, does nothing the second time, repairs a damaged install,
refuses a corrupted mirror copy without leaving anything behind, and takes
the TF-slim release archive (.tgz) from a mirror as well."""
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflite_testutil as tu  # noqa: E402

SHA256 = {
    tu.UINT8: "da341cf06fa50127a72dcbeb140ee5ee98013630aa044260a4c3d45c43fc89ce",
    tu.INT8: "56b0056cc4255700f9a6445ef350439ca719288bd5b6d01d6f459c7c70aaa4b2",
}

failures = 0


def check(cond, what):
    global failures
    print("%-4s %s" % ("ok" if cond else "FAIL", what))
    failures += not cond


def fetch(*args):
    proc = subprocess.run([tu.FETCH] + list(args), capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def installed_ok(dest):
    return all(os.path.isfile(os.path.join(dest, n)) and
               sha(os.path.join(dest, n)) == SHA256[n] for n in SHA256)


def main():
    tmp = tempfile.mkdtemp(prefix="mnv3-fetch-")
    try:
        dest = os.path.join(tmp, "models")
        rc, out = fetch("--from", tu.SHARED_MODELS, "--dest", dest)
        check(rc == 0 and installed_ok(dest), "install from the mirror (rc %d)" % rc)
        check(out.count("installed in") == 2, "says what it installed")

        rc, out = fetch("--from", tu.SHARED_MODELS, "--dest", dest)
        check(rc == 0 and out.count("already installed") == 2,
              "second run leaves intact files alone (rc %d)" % rc)

        # A damaged install is replaced.
        target = os.path.join(dest, tu.UINT8)
        with open(target, "r+b") as f:
            f.seek(5000)
            f.write(b"\xff\xfe")
        rc, out = fetch("--from", tu.SHARED_MODELS, "--dest", dest)
        check(rc == 0 and installed_ok(dest) and "wrong checksum" in out,
              "a damaged install is fetched again (rc %d)" % rc)

        # A corrupted mirror: clear error, nothing installed, no temp files.
        bad = os.path.join(tmp, "bad-mirror")
        os.makedirs(bad)
        for name in SHA256:
            shutil.copyfile(os.path.join(tu.SHARED_MODELS, name), os.path.join(bad, name))
        with open(os.path.join(bad, tu.INT8), "r+b") as f:
            f.seek(123456)
            byte = f.read(1)
            f.seek(123456)
            f.write(bytes([byte[0] ^ 0x40]))
        dest2 = os.path.join(tmp, "models2")
        rc, out = fetch("--from", bad, "--dest", dest2)
        check(rc == 1 and "checksum mismatch" in out and SHA256[tu.INT8] in out,
              "a corrupted copy is refused with a checksum message (rc %d)" % rc)
        check(not os.path.exists(os.path.join(dest2, tu.INT8)),
              "the corrupted copy is not installed")
        check(os.path.isfile(os.path.join(dest2, tu.UINT8)) and
              sha(os.path.join(dest2, tu.UINT8)) == SHA256[tu.UINT8],
              "the intact model of the same mirror is installed")
        check(sorted(os.listdir(dest2)) == [tu.UINT8], "no temporary files left behind")

        # A mirror holding the release archive instead of the .tflite.
        archive_dir = os.path.join(tmp, "archives")
        os.makedirs(archive_dir)
        with tarfile.open(os.path.join(archive_dir, "v3-small_224_1.0_uint8.tgz"), "w:gz") as tar:
            tar.add(os.path.join(tu.SHARED_MODELS, tu.UINT8),
                    arcname="v3-small_224_1.0_uint8/" + tu.UINT8)
            info = tarfile.TarInfo("v3-small_224_1.0_uint8/README")
            info.size = 5
            tar.addfile(info, io.BytesIO(b"hello"))
        dest3 = os.path.join(tmp, "models3")
        rc, out = fetch("--from", archive_dir, "--dest", dest3, "--only", tu.UINT8)
        check(rc == 0 and sha(os.path.join(dest3, tu.UINT8)) == SHA256[tu.UINT8],
              "extracts the .tflite from a release archive (rc %d)" % rc)

        # A mirror without the files.
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        rc, out = fetch("--from", empty, "--dest", os.path.join(tmp, "models4"))
        check(rc == 1 and "is not in" in out, "a missing file is named (rc %d)" % rc)
        rc, out = fetch("--from", os.path.join(tmp, "nowhere"), "--dest", dest)
        check(rc == 2 and "no such folder" in out, "a missing mirror is named (rc %d)" % rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
