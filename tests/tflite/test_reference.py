#!/usr/bin/python3
"""The numpy TFLite interpreter (tflite_ref.py) is itself checked:

1. its convolutions (TF SAME padding, strides, depthwise) against
   torch.nn.functional.conv2d with the padding spelt out;
2. the uint8 TF-slim release reproduces EXPECTED.txt for every photo: the
   top-1 class where EXPECTED's top-1 is well ahead of its 2nd (at least
   twice its score), otherwise EXPECTED's top-1 within the top 3;
3. the int8 TF-Hub release (same network, other weights; no EXPECTED of its
   own) has EXPECTED's top-1 class within its top 3 for every photo (its
   logits saturate at the top of their int8 range, so several classes tie).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflite_ref  # noqa: E402
import tflite_testutil as tu  # noqa: E402


class Options:
    """Stands in for a parsed builtin-options table."""

    def __init__(self, values):
        self.values = values

    def scalar(self, index, fmt, default=0):
        return self.values.get(index, default)


class Op:
    def __init__(self, values):
        self.opt = Options(values)


def check_convolutions():
    import torch
    import torch.nn.functional as F
    interp = tflite_ref.Model.__new__(tflite_ref.Model)
    rng = np.random.default_rng(1)
    failures = 0
    for size, k, stride, ch in [(112, 3, 2, 16), (28, 5, 2, 8), (14, 5, 1, 4), (15, 3, 2, 3)]:
        x = rng.standard_normal((1, size, size, ch))
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        pad = (total // 2, total - total // 2)  # TF SAME: the odd pixel after
        xt = F.pad(torch.tensor(x).permute(0, 3, 1, 2), pad + pad)
        w = rng.standard_normal((ch + 1, k, k, ch))
        b = rng.standard_normal(ch + 1)
        got = interp._conv_2d(Op({0: 0, 1: stride, 2: stride}), x, w, b)
        want = F.conv2d(xt, torch.tensor(w).permute(0, 3, 1, 2), torch.tensor(b),
                        stride=stride).permute(0, 2, 3, 1).numpy()
        dw = rng.standard_normal((1, k, k, ch))
        got_dw = interp._depthwise_conv_2d(Op({0: 0, 1: stride, 2: stride, 3: 1}), x, dw, b[:ch])
        want_dw = F.conv2d(xt, torch.tensor(dw).permute(3, 0, 1, 2), torch.tensor(b[:ch]),
                           stride=stride, groups=ch).permute(0, 2, 3, 1).numpy()
        for what, g, wnt in (("conv", got, want), ("depthwise", got_dw, want_dw)):
            err = np.abs(g - wnt).max() if g.shape == wnt.shape else np.inf
            ok = err < 1e-9
            failures += not ok
            print("%-4s %s %dx%d stride %d on %dx%d: max error %.1e"
                  % ("ok" if ok else "FAIL", what, k, k, stride, size, size, err))
    return failures


def classify(model_path, float_graph_input):
    with open(model_path, "rb") as f:
        model = tflite_ref.Model(f.read())
    result = {}
    for path in tu.photos():
        x = tflite_ref.preprocess(path)  # [-1, 1]
        p = tflite_ref.softmax(model.logits((x + 1) / 2 if float_graph_input else x))
        # Output 0 is "background": torchvision index = TF index - 1.
        result[os.path.basename(path)] = p[1:]
    return result


def check_expected(probs, require_top1, label):
    failures = 0
    expected = tu.expected()
    if set(expected) != set(probs):
        print("FAIL photos and EXPECTED.txt rows differ: %s"
              % sorted(set(expected) ^ set(probs)))
        return 1
    for name, picks in sorted(expected.items()):
        p = probs[name]
        top3 = [int(i) for i in np.argsort(-p)[:3]]
        (want, score), (_, second) = picks[0], picks[1]
        strict = require_top1 and score >= 2 * second
        # Saturated int8 logits tie: "in the top 3" means scoring at least
        # the 3rd best score.
        ok = top3[0] == want if strict else p[want] >= p[top3[2]]
        failures += not ok
        print("%-4s %s %-42s expected %d (%s), got %s"
              % ("ok" if ok else "FAIL", label, name, want,
                 "top-1" if strict else "in top 3",
                 ", ".join("%d %.3f" % (i, p[i]) for i in top3)))
    return failures


def main():
    failures = check_convolutions()
    failures += check_expected(classify(os.path.join(tu.SHARED_MODELS, tu.UINT8), False),
                               True, "uint8")
    failures += check_expected(classify(os.path.join(tu.SHARED_MODELS, tu.INT8), True),
                               False, "int8 ")
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
