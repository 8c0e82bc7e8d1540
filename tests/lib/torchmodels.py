"""Seeded random torchvision MobileNetV3 models, saved as the engine loads
them, for tests that compare the engine with torchvision."""

import os
import sys

import numpy as np
import torch
import torchvision

ROOT = os.environ.get("MNV3_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "models"))
import safetensors_io  # noqa: E402


def build(arch, width=1.0, num_classes=1000, seed=0):
    """A torchvision model in eval mode whose every parameter and BatchNorm
    statistic is random (so that BN folding is really exercised)."""
    torch.manual_seed(seed)
    if arch == "lraspp_mobilenet_v3_large":
        model = torchvision.models.segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=num_classes)
    else:
        model = getattr(torchvision.models, arch)(
            weights=None, width_mult=width, num_classes=num_classes)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
            elif isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
                m.bias.normal_(0.0, 0.1)
    return model.eval()


def save(model, directory, arch, width=1.0, num_classes=1000, size=(224, 224),
         name="model", dtype="F32"):
    """Writes NAME.safetensors and NAME.yaml into directory; returns the
    config path."""
    weights = os.path.join(directory, name + ".safetensors")
    safetensors_io.save(model.state_dict(), weights, dtype=dtype)
    config = os.path.join(directory, name + ".yaml")
    with open(config, "w") as f:
        f.write(f"model:\n  architecture: {arch}\n  width-multiplier: {width}\n"
                f"  num-classes: {num_classes}\n  weights: {name}.safetensors\n"
                f"input:\n  size: [{size[0]}, {size[1]}]\n")
    return config


def forward(model, x, dtype=torch.float32):
    """The model's output for an NCHW numpy input, as numpy."""
    model = model.to(dtype)
    with torch.no_grad():
        out = model(torch.from_numpy(x).to(dtype))
    if isinstance(out, dict):
        out = out["out"]
    model.float()
    return out.numpy()
