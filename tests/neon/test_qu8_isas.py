"""End to end in 8-bit: both released quantized models (configs/, with
model.precision: int8 added; the TF-slim one keeps its uint8 weights, up to
255 after the zero point) give with every kernel variant this CPU can run
(MNV3_ISA forced) the reference's output, bitwise (every 8-bit kernel is
exact; a zero's sign aside), and the same with 3 threads on the first
SIMD variant; and the outputs are not the float ones, so that
int8 really ran. The kernels are tested one by one (test_qu8_kernels);
this checks that the plan picks them and feeds them their packing: a
cheap stand-in, for qemu, for tests/tflite/test_int8_network.py (every
photo against the numpy model).

    test_qu8_isas.py TEST_KERNELS_EXE   (MNV3_RUN and MNV3_SOURCE_ROOT set;
                                         the models from ../shared/models)
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tflite"))
import tflite_testutil as tu  # noqa: E402


def int8_config(config):
    """A copy of config, beside it (its paths are relative), in int8."""
    with open(config, encoding="utf-8") as f:
        text = f.read()
    if "\nmodel:\n" not in text:
        sys.exit(f"{config}: no model: section")
    path = os.path.join(os.path.dirname(config), "int8-" + os.path.basename(config))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("\nmodel:\n", "\nmodel:\n  precision: int8\n", 1))
    return path


def run(config, inp, out, isa, threads=1):
    subprocess.run([os.environ["MNV3_RUN"], "--config", config, "--input-tensor", inp,
                    "--shape", "1,3,224,224", "--output", out, "--threads", str(threads)],
                   check=True, env=dict(os.environ, MNV3_ISA=isa))
    with open(out, "rb") as f:
        return f.read()


def same(got, want):
    """Equal logits (-0.0 == 0.0: kernels.h leaves a zero's sign open)."""
    return np.array_equal(np.frombuffer(got, np.float32), np.frombuffer(want, np.float32))


def main():
    isas = subprocess.run([sys.argv[1], "--list"], check=True, capture_output=True,
                          text=True).stdout.split()
    simd = [isa for isa in isas if isa != "scalar"]
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(f"{'PASS' if ok else 'FAIL'} {what}")
        passed += ok
        failed += not ok

    tree = tu.Tree()
    try:
        with tempfile.TemporaryDirectory() as d:
            inp = os.path.join(d, "in.f32")
            out = os.path.join(d, "out.f32")
            np.random.default_rng(17).uniform(-1, 1, (1, 3, 224, 224)).astype("<f4").tofile(inp)
            for model, name in tu.CONFIGS.items():
                config = int8_config(tree.config(model))
                want = run(config, inp, out, "scalar")
                check(want != run(tree.config(model), inp, out, "scalar"),
                      f"{name}: int8 output differs from float32's")
                for isa in simd:
                    one = run(config, inp, out, isa)
                    check(same(one, want), f"{name} int8: {isa} equals scalar")
                    if isa == simd[0]:
                        check(run(config, inp, out, isa, threads=3) == one,
                              f"{name} int8: {isa} with 3 threads == 1 thread")
    finally:
        tree.close()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
