#!/usr/bin/python3
"""Writes the soak test's seeded random-weight models, width 0.5 at a 32x32
network input: OUTDIR/classify.{yaml,safetensors} (MobileNetV3-Small, 10
classes) and OUTDIR/segment.{yaml,safetensors} (LR-ASPP MobileNetV3-Large,
21 VOC classes). Random weights: the soak test checks plumbing and memory,
not accuracy; small ones, because at this input size reading the weights is
most of an inference's time.

    make_models.py OUTDIR
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import torch  # noqa: E402
import torchvision  # noqa: E402
from torchvision.models.segmentation.lraspp import \
    _lraspp_mobilenetv3  # noqa: E402
import torchmodels  # noqa: E402

ROOT = os.environ.get("MNV3_SOURCE_ROOT", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VOC = os.path.abspath(os.path.join(ROOT, "models", "labels", "voc.txt"))
# Small enough for 100,000 frames of both networks within minutes.
SIZE = 32
WIDTH = 0.5


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    model = torchmodels.build("mobilenet_v3_small", width=WIDTH,
                              num_classes=10, seed=11)
    torchmodels.save(model, out, "mobilenet_v3_small", width=WIDTH,
                     num_classes=10, size=(SIZE, SIZE), name="classify")
    # torchmodels.build() makes LR-ASPP at width 1 only: built here the way
    # torchvision's lraspp_mobilenet_v3_large() does, at WIDTH.
    arch = "lraspp_mobilenet_v3_large"
    torch.manual_seed(12)
    backbone = torchvision.models.mobilenet_v3_large(
        weights=None, width_mult=WIDTH, dilated=True)
    model = _lraspp_mobilenetv3(backbone, 21).eval()
    torchmodels.safetensors_io.save(model.state_dict(),
                                    os.path.join(out, "segment.safetensors"))
    with open(os.path.join(out, "segment.yaml"), "w") as f:
        f.write(f"model:\n  architecture: {arch}\n  num-classes: 21\n"
                f"  width-multiplier: {WIDTH}\n"
                "  weights: segment.safetensors\n"
                f"input:\n  size: [{SIZE}, {SIZE}]\n"
                f"labels: {VOC}\npalette: voc\n")


if __name__ == "__main__":
    main()
