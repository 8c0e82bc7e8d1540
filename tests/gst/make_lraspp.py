#!/usr/bin/python3
"""Writes a seeded random-weight LR-ASPP MobileNetV3-Large (21 VOC classes)
for the mnv3segment tests (and to try the element): OUTDIR/lraspp.safetensors
and OUTDIR/lraspp.yaml, with the VOC labels and palette.

    make_lraspp.py OUTDIR
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import torchmodels  # noqa: E402

ROOT = os.environ.get("MNV3_SOURCE_ROOT", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LABELS = os.path.abspath(os.path.join(ROOT, "models", "labels", "voc.txt"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    arch = "lraspp_mobilenet_v3_large"
    model = torchmodels.build(arch, num_classes=21, seed=7)
    torchmodels.safetensors_io.save(model.state_dict(),
                                    os.path.join(out, "lraspp.safetensors"))
    # A centre crop, so that the mask's placement in the frame is not the
    # whole frame; the VOC palette and the labels.
    with open(os.path.join(out, "lraspp.yaml"), "w") as f:
        f.write(f"model:\n  architecture: {arch}\n  num-classes: 21\n"
                "  weights: lraspp.safetensors\n"
                "input:\n  size: [192, 256]\n  crop: 0.9\n"
                "  mean: [0.485, 0.456, 0.406]\n  std: [0.229, 0.224, 0.225]\n"
                f"labels: {LABELS}\npalette: voc\n")


if __name__ == "__main__":
    main()
