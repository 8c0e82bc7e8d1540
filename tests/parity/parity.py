"""The engine's output equals torchvision's on the same seeded random
weights: relative L2 error <= 1e-4 and max |error| <= 1e-4 x max |reference|,
and for segmentation the per-pixel argmax agrees on >= 99.9 % of pixels."""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import torchmodels  # noqa: E402

# name: (architecture, width, classes, height, width, batch)
CASES = {
    "large-1.0-224": ("mobilenet_v3_large", 1.0, 1000, 224, 224, 1),
    "small-1.0-224": ("mobilenet_v3_small", 1.0, 1000, 224, 224, 1),
    "large-0.75-160x192": ("mobilenet_v3_large", 0.75, 1000, 160, 192, 1),
    "small-0.5-97x131": ("mobilenet_v3_small", 0.5, 1000, 97, 131, 1),
    "large-1.25-256": ("mobilenet_v3_large", 1.25, 1000, 256, 256, 1),
    "small-1.0-224-batch2-10classes": ("mobilenet_v3_small", 1.0, 10, 224, 224, 2),
    "lraspp-21-256x512": ("lraspp_mobilenet_v3_large", 1.0, 21, 256, 512, 1),
    "lraspp-19-193x257": ("lraspp_mobilenet_v3_large", 1.0, 19, 193, 257, 1),
    "large-1.0-32x47": ("mobilenet_v3_large", 1.0, 100, 32, 47, 1),
}


def run_engine(config, x, workdir, threads):
    n, c, h, w = x.shape
    inp = os.path.join(workdir, "in.f32")
    out = os.path.join(workdir, "out.f32")
    x.astype("<f4").tofile(inp)
    cmd = [os.environ["MNV3_RUN"], "--config", config, "--input-tensor", inp,
           "--shape", f"{n},{c},{h},{w}", "--output", out, "--threads", str(threads)]
    subprocess.run(cmd, check=True)
    return np.fromfile(out, dtype="<f4")


def check(name, threads):
    arch, width, classes, h, w, batch = CASES[name]
    model = torchmodels.build(arch, width, classes, seed=len(name))
    rng = np.random.default_rng(len(name))
    x = rng.standard_normal((batch, 3, h, w)).astype(np.float32)
    ref32 = torchmodels.forward(model, x)
    ref64 = torchmodels.forward(model, x, torch.float64)
    with tempfile.TemporaryDirectory() as d:
        config = torchmodels.save(model, d, arch, width, classes, (h, w))
        got = run_engine(config, x, d, threads)
    if got.size != ref32.size:
        print(f"FAIL {name}: engine wrote {got.size} values, torchvision {ref32.size}")
        return False
    got = got.reshape(ref32.shape)
    ok = True
    for label, ref in (("torch float32", ref32), ("torch float64", ref64)):
        err = got.astype(np.float64) - ref
        rel_l2 = np.linalg.norm(err) / np.linalg.norm(ref)
        max_rel = np.abs(err).max() / np.abs(ref).max()
        print(f"{name} threads={threads} vs {label}: relative L2 {rel_l2:.3e}, "
              f"max |err| / max |ref| {max_rel:.3e}")
        if label == "torch float32":
            ok = rel_l2 <= 1e-4 and max_rel <= 1e-4
    if arch.startswith("lraspp"):
        agree = (got.argmax(axis=1) == ref32.argmax(axis=1)).mean()
        print(f"{name}: argmax agreement {agree * 100:.4f} %")
        ok = ok and agree >= 0.999
    print(("PASS " if ok else "FAIL ") + name)
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="*", default=sorted(CASES))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ok = all([check(c, args.threads) for c in args.cases])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
