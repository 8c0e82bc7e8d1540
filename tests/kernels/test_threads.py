"""End to end: for every kernel variant this CPU can run (MNV3_ISA forced;
one of those that share their float kernels), the engine's output is
bitwise the same with 1, 2 and 3 threads, and with
the fused expansion + depthwise steps turned off (MNV3_FUSE=0), on seeded
random torchvision models at odd input sizes (rows and channels split
unevenly, 7x7-like late layers split over channels, big early layers
fused). The same models quantized (mnv3-run --quantize on the photos in
../shared/media/images) give bitwise the same output with 1, 2 and 3
threads, and, with every variant, the reference's output (every step of
an 8-bit plan is exact; a zero's sign aside, which kernels.h leaves
open).

    test_threads.py TEST_KERNELS_EXE   (MNV3_RUN and MNV3_SOURCE_ROOT set;
                                        MNV3_QUANTIZE_RUN optional)
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import torchmodels  # noqa: E402

# name: (architecture, width, classes, height, width)
CASES = {
    "large-0.75-97x131": ("mobilenet_v3_large", 0.75, 1000, 97, 131),
    "small-1.0-224": ("mobilenet_v3_small", 1.0, 1000, 224, 224),
    "lraspp-5-129x161": ("lraspp_mobilenet_v3_large", 1.0, 5, 129, 161),
}


def run(config, x, workdir, isa, threads, fuse="1"):
    n, c, h, w = x.shape
    inp = os.path.join(workdir, "in.f32")
    out = os.path.join(workdir, f"out-{isa}-{threads}-{fuse}.f32")
    x.astype("<f4").tofile(inp)
    env = dict(os.environ, MNV3_ISA=isa, MNV3_FUSE=fuse)
    subprocess.run([os.environ["MNV3_RUN"], "--config", config, "--input-tensor", inp,
                    "--shape", f"{n},{c},{h},{w}", "--output", out,
                    "--threads", str(threads)], check=True, env=env)
    with open(out, "rb") as f:
        return f.read()


IMAGES = os.path.join(os.environ["MNV3_SOURCE_ROOT"], "..", "shared", "media", "images")
# Calibration decodes photos, which a build without GStreamer (the AArch64
# cross build under qemu) cannot: MNV3_QUANTIZE_RUN names a host build's
# mnv3-run for it.
QUANTIZE_RUN = os.environ.get("MNV3_QUANTIZE_RUN", os.environ["MNV3_RUN"])


def main():
    def isas(option):
        return subprocess.run([sys.argv[1], option], check=True, capture_output=True,
                              text=True).stdout.split()

    # A table with another's float kernels (neondot, avxvnni, avx512vnni) would repeat its float
    # runs; its 8-bit kernels are its own.
    float_isas, int8_isas = isas("--list-float"), isas("--list")
    passed = failed = 0

    def check(same, what):
        nonlocal passed, failed
        print(f"{'PASS' if same else 'FAIL'} {what}")
        passed += same
        failed += not same

    for name, (arch, width, classes, h, w) in CASES.items():
        model = torchmodels.build(arch, width, classes, seed=7)
        x = np.random.default_rng(7).standard_normal((1, 3, h, w)).astype(np.float32)
        with tempfile.TemporaryDirectory() as d:
            config = torchmodels.save(model, d, arch, width, classes, (h, w))
            int8 = os.path.join(d, "int8.yaml")
            subprocess.run([QUANTIZE_RUN, "--config", config, "--quantize", IMAGES,
                            "--output", int8], check=True, stderr=subprocess.DEVNULL)
            reference = np.frombuffer(run(int8, x, d, "scalar", 1), np.float32)
            for isa in float_isas:
                one = run(config, x, d, isa, 1)
                others = [("2 threads", run(config, x, d, isa, 2)),
                          ("3 threads", run(config, x, d, isa, 3)),
                          ("unfused", run(config, x, d, isa, 1, fuse="0"))]
                for what, result in others:
                    check(result == one, f"{name} {isa}: {what} vs 1 thread fused")
            for isa in int8_isas:
                one = run(int8, x, d, isa, 1)
                for threads in (2, 3):
                    check(run(int8, x, d, isa, threads) == one,
                          f"{name} int8 {isa}: {threads} threads vs 1")
                got = np.frombuffer(one, np.float32)
                check(np.array_equal(got, reference),
                      f"{name} int8 {isa}: the reference's output (max difference "
                      f"{np.abs(got - reference).max():.3g})")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
