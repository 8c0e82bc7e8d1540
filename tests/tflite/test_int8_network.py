#!/usr/bin/env python3
"""Google's two quantized MobileNetV3-Small releases (TF-slim uint8, TF-Hub
int8 PTQ) run by the engine in 8 bits (model.precision: int8) give, bitwise,
the logits of the numpy model of the 8-bit arithmetic (qu8_network.py,
tests/lib/qu8ref.py) on every photo in shared/media/images, with every
kernel variant this CPU runs (MNV3_ISA) and 1 and 2 threads. Both take the
same float32 input tensor (the photo preprocessed in numpy), so the
comparison starts at the stem's clamp and quantization of its input."""
import os
import subprocess
import sys
import tempfile

import numpy as np

import qu8_network
import tflite_ref
import tflite_testutil as tu

ISAS = ["scalar", "avx2", "avxvnni", "avx512bw", "avx512vnni", "neonfma", "neondot"]


def same_bits(want, got):
    """Bitwise, but for the sign of a zero (kernels.h leaves it open: see
    tests/kernels/test_qu8_numpy.py); returns how many elements differ."""
    bits = want.view(np.uint32) == got.view(np.uint32)
    return int((~(bits | ((want == 0) & (got == 0)))).sum())


def int8_config(tree, model):
    """A copy of the model's shipped config with model.precision: int8."""
    with open(tree.config(model)) as f:
        text = f.read()
    assert "\nmodel:\n" in text
    path = os.path.join(tree.configs, "int8-" + os.path.basename(tree.config(model)))
    with open(path, "w") as f:
        f.write(text.replace("\nmodel:\n", "\nmodel:\n  precision: int8\n"))
    return path


def main():
    tree = tu.Tree()
    passed = failed = 0
    try:
        tmp = tempfile.mkdtemp(dir=tree.root)
        images = [(os.path.basename(p), tflite_ref.preprocess(p)[0].astype(np.float32))
                  for p in tu.photos()]
        # One more at 225 x 231: TensorFlow's SAME padding then pads the
        # stem's top and left too (at 224 only its bottom and right).
        name, first = images[0]
        images.append((name + " at 225x231", np.pad(first, ((0, 1), (0, 7), (0, 0)), "edge")))
        for model in (tu.UINT8, tu.INT8):
            config = int8_config(tree, model)
            net = qu8_network.Network(tree.model(model))
            for photo, image in images:
                want = net.run_int8(image)
                tensor = os.path.join(tmp, "in.f32")
                image.transpose(2, 0, 1).tofile(tensor)
                for isa in ISAS:
                    for threads in (1, 2):
                        out = os.path.join(tmp, "out.f32")
                        run = subprocess.run(
                            [os.environ["MNV3_RUN"], "--config", config, "--input-tensor",
                             tensor, "--shape", "1,3,%d,%d" % image.shape[:2], "--output", out, "--threads",
                             str(threads)], env=dict(os.environ, MNV3_ISA=isa),
                            capture_output=True, text=True)
                        if "not available" in run.stderr:
                            break  # this CPU or build has no such variant
                        if run.returncode:
                            sys.exit("mnv3-run failed: %s" % run.stderr)
                        got = np.fromfile(out, np.float32)
                        differ = same_bits(want, got) if got.size == want.size else want.size
                        name = "%s %s %s %d thread(s)" % (model, photo, isa, threads)
                        if differ:
                            failed += 1
                            print("FAIL %s: %d of %d logits differ (max %g); top-1 %d, "
                                  "numpy %d" % (name, differ, want.size,
                                                np.abs(want - got).max(), got.argmax(),
                                                want.argmax()))
                        else:
                            passed += 1
                            print("ok %s: top-1 %d" % (name, want.argmax()))
    finally:
        tree.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
