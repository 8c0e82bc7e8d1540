"""models/convert-torchvision.py end to end: a seeded torchvision
mobilenet_v3_small state_dict saved as .pth, converted, and read back with
safetensors_io.load, every tensor compared. Also the file layout the spec
requires, F16/BF16 rounding as torch does it, and errors on bad input."""

import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

ROOT = os.environ.get("MNV3_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "models")
CONVERT = os.path.join(MODELS, "convert-torchvision.py")
sys.path.insert(0, MODELS)
import safetensors_io  # noqa: E402


def convert(*args):
    return subprocess.run([sys.executable, CONVERT, *args],
                          capture_output=True, text=True)


def make_state_dict():
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small(weights=None)
    # One training step's forward pass makes the BatchNorm statistics and
    # num_batches_tracked non-trivial.
    model.train()
    with torch.no_grad():
        model(torch.randn(2, 3, 64, 64))
    params = sum(p.numel() for p in model.parameters())
    return model.state_dict(), params


def check_layout(path, state):
    """Header padded to 8 bytes, keys sorted, data contiguous and complete."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0, f"header length {n} not padded to 8"
    header = json.loads(blob[8:8 + n])
    names = [k for k in header if k != "__metadata__"]
    assert names == sorted(state), "keys missing or not sorted"
    end = 0
    for name in names:
        begin, stop = header[name]["data_offsets"]
        assert begin == end, f"{name}: data not contiguous"
        end = stop
    assert 8 + n + end == len(blob), "data section size mismatch"


def check_equal(path, state, widen, float_dtype):
    """Every tensor back, floats stored as float_dtype (BF16 comes back
    widened to float32) with the values torch's cast gives."""
    loaded = safetensors_io.load(path)
    assert set(loaded) == set(state), set(loaded) ^ set(state)
    for name, tensor in state.items():
        got = loaded[name]
        if tensor.is_floating_point():
            want, want_dtype = widen(tensor), np.dtype(float_dtype)
        else:
            want, want_dtype = tensor, tensor.numpy().dtype
        assert got.shape == tuple(want.shape), f"{name}: shape {got.shape}"
        assert got.dtype == want_dtype, f"{name}: dtype {got.dtype}"
        assert np.array_equal(got.astype(want.numpy().dtype), want.numpy()), \
            f"{name}: values differ"


def main():
    state, params = make_state_dict()
    assert state["features.0.1.num_batches_tracked"].item() == 1
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "small.pth")
        torch.save(state, pth)

        out = os.path.join(tmp, "small.safetensors")
        r = convert(pth, out)
        assert r.returncode == 0, r.stderr
        assert f"{len(state)} tensors, {params} parameters" in r.stdout, r.stdout
        check_layout(out, state)
        check_equal(out, state, lambda t: t, np.float32)

        for dtype, cast, stored in (("F16", torch.float16, np.float16),
                                    ("BF16", torch.bfloat16, np.float32)):
            out_d = os.path.join(tmp, f"small-{dtype}.safetensors")
            r = convert(pth, out_d, "--dtype", dtype)
            assert r.returncode == 0, r.stderr
            check_layout(out_d, state)
            check_equal(out_d, state, lambda t, c=cast: t.to(c).float(), stored)

        # A training checkpoint with the state_dict under 'model', saved from
        # a DataParallel model ('module.' prefix).
        ckpt = os.path.join(tmp, "ckpt.pth")
        torch.save({"model": {"module." + k: v for k, v in state.items()},
                    "epoch": 3}, ckpt)
        out_c = os.path.join(tmp, "ckpt.safetensors")
        r = convert(ckpt, out_c)
        assert r.returncode == 0, r.stderr
        check_equal(out_c, state, lambda t: t, np.float32)

        # Bad inputs: a clear message and a non-zero exit, no output file.
        junk = os.path.join(tmp, "junk.pth")
        with open(junk, "wb") as f:
            f.write(b"this is not a checkpoint")
        not_sd = os.path.join(tmp, "list.pth")
        torch.save([1, 2, 3], not_sd)
        bad = os.path.join(tmp, "bad.safetensors")
        for args, expect in (
                ([os.path.join(tmp, "nope.pth"), bad], "no such file"),
                ([junk, bad], "cannot load as a PyTorch checkpoint"),
                ([not_sd, bad], "expected a state_dict")):
            r = convert(*args)
            assert r.returncode == 1, (args, r.returncode, r.stderr)
            assert expect in r.stderr, r.stderr
            assert not os.path.exists(bad), "output written on error"
        r = convert(pth, bad, "--dtype", "F8")
        assert r.returncode == 2 and "invalid choice" in r.stderr, r.stderr
    print("convert-torchvision: all checks passed")


if __name__ == "__main__":
    main()
