#!/usr/bin/python3
"""Converts a torchvision MobileNetV3 checkpoint (.pth) to safetensors.

    convert-torchvision.py IN.pth OUT.safetensors [--dtype F32|F16|BF16]

IN is a bare state_dict (torch.save(model.state_dict(), ...)) or a training
checkpoint holding one under 'model' or 'state_dict' (torchvision's reference
scripts save {'model': ..., 'optimizer': ...}). A 'module.' prefix left by
DataParallel is removed. Tensor names and layouts are kept as torchvision has
them; the engine folds BatchNorm itself when it loads the file.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

import torch  # noqa: E402

# Buffers, not learned parameters: left out of the parameter count.
_BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


class ConvertError(Exception):
    pass


def load_checkpoint(path, unsafe):
    if not os.path.isfile(path):
        raise ConvertError(f"{path}: no such file")
    try:
        # weights_only refuses arbitrary pickled objects (which could run
        # code); --unsafe-pickle is for trusted checkpoints that hold some.
        return torch.load(path, map_location="cpu", weights_only=not unsafe)
    except Exception as e:  # torch raises many types for a bad file
        if not unsafe and "Weights only load failed" in str(e):
            detail = str(e).rsplit("WeightsUnpickler error:", 1)[-1].strip()
            raise ConvertError(f"{path}: holds more than tensors ({detail}); "
                               "if the file is trusted, retry with "
                               "--unsafe-pickle") from None
        raise ConvertError(f"{path}: cannot load as a PyTorch checkpoint "
                           f"({type(e).__name__}: {e})") from None


def extract_state_dict(obj, path):
    if isinstance(obj, dict):
        for key in ("model", "state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise ConvertError(f"{path}: expected a state_dict (a dict of tensors) "
                           "or a checkpoint with 'model' or 'state_dict', got "
                           f"{type(obj).__name__}{' (empty)' if obj == {} else ''}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ConvertError(f"{path}: entry '{bad[0]}' is a "
                           f"{type(obj[bad[0]]).__name__}, not a tensor: this "
                           "is not a state_dict")
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="torchvision checkpoint (.pth)")
    parser.add_argument("output", help="safetensors file to write")
    parser.add_argument("--dtype", default="F32",
                        choices=safetensors_io.FLOAT_DTYPES,
                        help="storage type of floating-point tensors")
    parser.add_argument("--unsafe-pickle", action="store_true",
                        help="allow arbitrary pickled objects (trusted files only)")
    args = parser.parse_args(argv)
    try:
        state = extract_state_dict(load_checkpoint(args.input, args.unsafe_pickle),
                                   args.input)
        safetensors_io.save(state, args.output, dtype=args.dtype,
                            metadata={"format": "pt", "source": "torchvision"})
    except (ConvertError, OSError, TypeError, ValueError) as e:
        print(f"convert-torchvision: error: {e}", file=sys.stderr)
        return 1
    params = sum(v.numel() for k, v in state.items()
                 if v.is_floating_point() and not k.endswith(_BUFFER_SUFFIXES))
    print(f"{args.output}: {len(state)} tensors, {params} parameters "
          f"({args.dtype})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
