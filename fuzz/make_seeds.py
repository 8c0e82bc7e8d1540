#!/usr/bin/env python3
"""Writes the seed inputs of the fuzzers into fuzz/corpus/<name>/ (run once;
the results are committed, then grown by fuzz/run.sh and minimized).

  safetensors: a real torchvision mobilenet_v3_small(width_mult=0.1,
               num_classes=2) state_dict (the network fuzz_safetensors.c
               builds) in F32, F16 and BF16, with trained-looking BatchNorm.
  tflite:      the first 64 KiB of each released model (their tables lie
               at the end, so these only reach the reader's first bounds
               checks); fuzz/run.sh adds the whole models from
               ../shared/models as extra seeds (2.5 MB each: not committed).
  config:      the repository's configs and a few variants (segmentation
               with a palette, labels, every input key).
  preprocess:  one frame header per pixel format, with pixels.

Needs torch and torchvision (python3-torch, python3-torchvision).
"""
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models"))
import safetensors_io  # noqa: E402


def out_dir(name):
    path = os.path.join(HERE, "corpus", name)
    os.makedirs(path, exist_ok=True)
    return path


def safetensors_seeds():
    import torch
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small(width_mult=0.1, num_classes=2)
    state = model.state_dict()
    for key, value in state.items():
        if key.endswith("running_var"):
            value.copy_(torch.rand_like(value) + 0.5)
        elif key.endswith("running_mean"):
            value.copy_(torch.randn_like(value) * 0.1)
    for dtype in ("F32", "F16", "BF16"):
        safetensors_io.save(state, os.path.join(out_dir("safetensors"),
                                                f"tiny-{dtype.lower()}.safetensors"),
                            dtype=dtype)


def tflite_seeds():
    models = os.path.join(ROOT, "..", "shared", "models")
    for name in sorted(os.listdir(models)):
        if name.endswith(".tflite"):
            with open(os.path.join(models, name), "rb") as f:
                head = f.read(65536)
            with open(os.path.join(out_dir("tflite"), "head-" + name), "wb") as f:
                f.write(head)


CONFIG_VARIANTS = {
    "segment-palette.yaml": """model:
  architecture: lraspp_mobilenet_v3_large
  num-classes: 21
  weights: w.safetensors
labels: labels.txt
palette: voc
input:
  size: [520, 480]
  mean: [0.485, 0.456, 0.406]
  std: [0.229, 0.224, 0.225]
  crop: 1.0
""",
    "palette-list.yaml": """model: {architecture: lraspp_mobilenet_v3_large, num-classes: 3}
palette: [[0, 0, 0], [255, 0, 0], [0, 255, 0]]
""",
    "small-width.yaml": """model:
  architecture: mobilenet_v3_small
  width-multiplier: 0.35
  num-classes: 3
  background-class: yes
  weights: m.tflite
labels: labels.txt
input: {size: [96, 128], crop: 0.5}
""",
    "large.yaml": "model: {architecture: mobilenet_v3_large, width-multiplier: 1.25}\n",
}


def config_seeds():
    dest = out_dir("config")
    for name in sorted(os.listdir(os.path.join(ROOT, "configs"))):
        shutil.copy(os.path.join(ROOT, "configs", name), dest)
    for name, text in CONFIG_VARIANTS.items():
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            f.write(text)


def preprocess_seeds():
    rng = random.Random(0)
    dest = out_dir("preprocess")
    for fmt in range(15):
        for wide in (0, 1):
            header = bytes([fmt, 0x02 * wide | (fmt & 1) | 0x10 * (fmt % 3 == 0)])
            header += bytes(rng.randrange(256) for _ in range(40))
            pixels = bytes(rng.randrange(256) for _ in range(300))
            with open(os.path.join(dest, f"format{fmt:02d}-{'wide' if wide else 'small'}"),
                      "wb") as f:
                f.write(header + pixels)


def main():
    safetensors_seeds()
    tflite_seeds()
    config_seeds()
    preprocess_seeds()


if __name__ == "__main__":
    main()
