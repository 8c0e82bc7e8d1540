#!/usr/bin/python3
"""Both released TFLite models through the engine (mnv3-run) against the
numpy float interpreter of the same .tflite, on the same preprocessed
photos: softmax probabilities must agree within 1e-3 for every photo.

The models come from models/fetch --from ../shared/models into a scratch
tree that also holds copies of the configs."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflite_ref  # noqa: E402
import tflite_testutil as tu  # noqa: E402

TOLERANCE = 1e-3


def run_engine(run, config, batch_nhwc, workdir):
    """The engine's logits for a batch of [-1, 1] NHWC images."""
    n, h, w, _ = batch_nhwc.shape
    src = os.path.join(workdir, "in.f32")
    dst = os.path.join(workdir, "out.f32")
    batch_nhwc.transpose(0, 3, 1, 2).astype("<f4").tofile(src)
    proc = subprocess.run([run, "--config", config, "--input-tensor", src,
                           "--shape", "%d,3,%d,%d" % (n, h, w), "--output", dst],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("mnv3-run failed (%d): %s" % (proc.returncode, proc.stderr.strip()))
    out = np.fromfile(dst, dtype="<f4").astype(np.float64)
    return out.reshape(n, -1)


def check_model(tree, name, images, workdir):
    with open(tree.model(name), "rb") as f:
        model = tflite_ref.Model(f.read())
    # The engine takes [-1, 1] (config mean/std 0.5); a float graph input
    # is [0, 1], rescaled inside the graph.
    graph_input_float = not model.tensors[model.inputs[0]].quantized
    logits = run_engine(os.environ["MNV3_RUN"], tree.config(name), images, workdir)
    failures = 0
    worst = 0.0
    for i, path in enumerate(tu.photos()):
        x = images[i:i + 1]
        ref = tflite_ref.softmax(model.logits((x + 1) / 2 if graph_input_float else x))
        if logits.shape[1] != ref.size:
            print("FAIL %s: engine gives %d outputs, the graph %d"
                  % (name, logits.shape[1], ref.size))
            return 1
        got = tflite_ref.softmax(logits[i])
        diff = float(np.abs(got - ref).max())
        worst = max(worst, diff)
        status = "ok" if diff <= TOLERANCE else "FAIL"
        failures += status == "FAIL"
        print("%-4s %s %-42s max |dp| %.2e  engine top-1 %d (%.3f), reference top-1 %d (%.3f)"
              % (status, name[:22], os.path.basename(path), diff, int(got.argmax()),
                 got.max(), int(ref.argmax()), ref.max()))
    print("%s: worst probability difference %.2e (tolerance %.0e)" % (name, worst, TOLERANCE))
    return failures


def main():
    if "MNV3_RUN" not in os.environ:
        sys.exit("MNV3_RUN must name the mnv3-run executable")
    images = np.concatenate([tflite_ref.preprocess(p) for p in tu.photos()])
    tree = tu.Tree()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            failures = sum(check_model(tree, name, images, workdir)
                           for name in (tu.UINT8, tu.INT8))
    finally:
        tree.close()
    if failures:
        print("%d photo(s) differ by more than %g" % (failures, TOLERANCE))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
