"""Whole torchvision models through the converter and the C loader, with the
network the engine builds (mnv3_network_build) for each architecture: every
layer's name and shape must match, and weights of another architecture or
width must be refused with a message naming the problem.

usage: test_torchvision_models.py FOLD_DUMP"""

import os
import subprocess
import sys
import tempfile

import torch
import torchvision

ROOT = os.environ.get("MNV3_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
CONVERT = os.path.join(ROOT, "models", "convert-torchvision.py")
M = torchvision.models

# name, architecture, width, classes, constructor
CASES = (
    ("small", "mobilenet_v3_small", 1.0, 1000,
     lambda: M.mobilenet_v3_small(weights=None)),
    ("large", "mobilenet_v3_large", 1.0, 1000,
     lambda: M.mobilenet_v3_large(weights=None)),
    ("small-0.75", "mobilenet_v3_small", 0.75, 10,
     lambda: M.mobilenet_v3_small(weights=None, width_mult=0.75,
                                  num_classes=10)),
    ("lraspp", "lraspp_mobilenet_v3_large", 1.0, 21,
     lambda: M.segmentation.lraspp_mobilenet_v3_large(
         weights=None, weights_backbone=None, num_classes=21)),
)


def load(fold_dump, path, arch, width, classes):
    return subprocess.run([fold_dump, "--arch", path, arch, str(width),
                           str(classes)], capture_output=True, text=True)


def main():
    fold_dump = sys.argv[1]
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, arch, width, classes, ctor in CASES:
            torch.manual_seed(0)
            pth = os.path.join(tmp, name + ".pth")
            torch.save(ctor().state_dict(), pth)
            files[name] = os.path.join(tmp, name + ".safetensors")
            r = subprocess.run([sys.executable, CONVERT, pth, files[name],
                                "--dtype", "F16"], capture_output=True,
                               text=True)
            assert r.returncode == 0, r.stderr
            r = load(fold_dump, files[name], arch, width, classes)
            assert r.returncode == 0, f"{name}: {r.stderr}"
            assert r.stdout.startswith("loaded "), r.stdout
            filled, _, total = r.stdout.split()[1:4]
            assert filled == total and int(total) > 0, r.stdout
            print(f"{name}: {r.stdout.strip()}")

        # Wrong architecture, width or class count: refused, nothing kept.
        for file, arch, width, classes, expect in (
                ("small", "mobilenet_v3_large", 1.0, 1000, "expected shape"),
                ("large", "mobilenet_v3_small", 1.0, 1000, "expected shape"),
                ("small-0.75", "mobilenet_v3_small", 1.0, 10, "expected shape"),
                ("small", "mobilenet_v3_small", 1.0, 10,
                 "tensor 'classifier.3.weight': expected shape [10, 1024], "
                 "got [1000, 1024]"),
                ("lraspp", "mobilenet_v3_large", 1.0, 1000, "missing tensor")):
            r = load(fold_dump, files[file], arch, width, classes)
            assert r.returncode == 1, f"{file} as {arch}: {r.stdout}"
            assert expect in r.stderr, r.stderr
            assert "(0 convs filled)" in r.stderr, r.stderr
            print(f"{file} as {arch} x{width}: refused")


if __name__ == "__main__":
    main()
