"""The C loader's BatchNorm folding against torch's own fusion.

Convolutions of seeded torchvision models with randomised BatchNorm
parameters and statistics (mobilenet_v3_small: plain, depthwise, SE conv with
bias, linear layers; lraspp_mobilenet_v3_large: the head, whose BatchNorm has
a different eps) are written with safetensors_io in F32, F16 and BF16, loaded
by the C loader (fold-dump helper), and compared with
torch.nn.utils.fusion.fuse_conv_bn_weights computed in float64 on the same
stored values: at most 1 float32 ulp apart.

usage: test_fold_torch.py FOLD_DUMP"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
from torch.nn.utils.fusion import fuse_conv_bn_weights

ROOT = os.environ.get("MNV3_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "models"))
import safetensors_io  # noqa: E402

# (key, conv module path, bn module path or None)
SMALL_LAYERS = (
    ("features.0", "features.0.0", "features.0.1"),
    ("features.1.block.0", "features.1.block.0.0", "features.1.block.0.1"),
    ("features.1.block.1.fc1", "features.1.block.1.fc1", None),
    ("features.1.block.2", "features.1.block.2.0", "features.1.block.2.1"),
    ("features.4.block.1", "features.4.block.1.0", "features.4.block.1.1"),
    ("classifier.0", "classifier.0", None),
    ("classifier.3", "classifier.3", None),
)
LRASPP_LAYERS = (
    ("classifier.cbr", "classifier.cbr.0", "classifier.cbr.1"),
    ("classifier.scale.1", "classifier.scale.1", None),
    ("classifier.low_classifier", "classifier.low_classifier", None),
    ("classifier.high_classifier", "classifier.high_classifier", None),
    ("backbone.0", "backbone.0.0", "backbone.0.1"),
)
MODELS = (
    ("mobilenet_v3_small", SMALL_LAYERS,
     lambda: torchvision.models.mobilenet_v3_small(weights=None)),
    ("lraspp_mobilenet_v3_large", LRASPP_LAYERS,
     lambda: torchvision.models.segmentation.lraspp_mobilenet_v3_large(
         weights=None, weights_backbone=None)),
)


def make_model(ctor):
    torch.manual_seed(1)
    model = ctor().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
                m.running_mean.normal_()
                m.running_var.uniform_(0.05, 2.0)
            elif isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and \
                    m.bias is not None:
                m.bias.normal_()
    return model


def op_spec(key, conv, bn):
    linear = isinstance(conv, torch.nn.Linear)
    if linear:
        cin, cout, k, dw = conv.in_features, conv.out_features, 1, 0
    else:
        cin, cout, k = conv.in_channels, conv.out_channels, conv.kernel_size[0]
        dw = int(conv.groups == cin and cin > 1)
    has_bias = int(conv.bias is not None)
    eps = bn.eps if bn is not None else 0
    return (f"{key}:{cin}:{cout}:{k}:{dw}:{int(bn is not None)}:{has_bias}:"
            f"{int(linear)}:{eps!r}")


def reference(conv, bn, cast):
    """torch's fusion in float64 on the values as stored in the file."""
    def stored(t):
        return t.detach().to(cast).double()
    w = stored(conv.weight)
    b = stored(conv.bias) if conv.bias is not None else None
    if bn is not None:
        w, b = fuse_conv_bn_weights(w, b, stored(bn.running_mean),
                                    stored(bn.running_var), bn.eps,
                                    stored(bn.weight), stored(bn.bias))
    elif b is None:
        b = torch.zeros(w.shape[0], dtype=torch.float64)
    return (w.detach().float().numpy().ravel(),
            b.detach().float().numpy().ravel())


def check_model(fold_dump, tmp, name, layers, ctor):
    model = make_model(ctor)
    modules = dict(model.named_modules())
    state = model.state_dict()
    for dtype, cast in (("F32", torch.float32), ("F16", torch.float16),
                        ("BF16", torch.bfloat16)):
        keep = {}
        specs = []
        for key, conv_path, bn_path in layers:
            prefixes = [conv_path + "."] + ([bn_path + "."] if bn_path else [])
            keep.update({k: v for k, v in state.items()
                         if k.startswith(tuple(prefixes))})
            specs.append(op_spec(key, modules[conv_path],
                                 modules.get(bn_path)))
        path = os.path.join(tmp, f"{name}-{dtype}.safetensors")
        safetensors_io.save(keep, path, dtype=dtype)
        out = os.path.join(tmp, f"{name}-{dtype}.bin")
        r = subprocess.run([fold_dump, path, out, *specs],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        got = np.fromfile(out, dtype="<f4")
        pos = 0
        for (key, conv_path, bn_path) in layers:
            w, b = reference(modules[conv_path], modules.get(bn_path), cast)
            for what, want in (("weight", w), ("bias", b)):
                part = got[pos:pos + want.size]
                pos += want.size
                try:
                    np.testing.assert_array_max_ulp(part, want, maxulp=1,
                                                    dtype=np.float32)
                except AssertionError as e:
                    raise AssertionError(
                    f"{name} {dtype} {key} {what}: {e}") from None
        assert pos == got.size, f"{dtype}: {got.size - pos} extra values"
        print(f"{name} {dtype}: {len(layers)} layers match torch's fusion")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name, layers, ctor in MODELS:
            check_model(sys.argv[1], tmp, name, layers, ctor)


if __name__ == "__main__":
    main()
