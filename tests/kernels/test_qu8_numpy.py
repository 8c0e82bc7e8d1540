#!/usr/bin/env python3
"""The kernels of 8-bit plans in every variant this CPU runs (the scalar
references and each SIMD table) against the numpy model of the arithmetic
(tests/lib/qu8ref.py), bitwise: random problems at odd sizes and channel
counts, kernels 1/3/5/7, strides 1/2, dilations 1/2, TF "same" and
symmetric padding, residual none/uint8/float, uint8 and float outputs,
every activation (sigmoid too: the model calls the C library's expf),
clamps on and off, power-of-two scales that put quantization exactly on
rounding ties, tiles as the executor splits; then pooling and the SE gate;
and the stem, a dense convolution of a float input that each variant
quantizes first.

  test_qu8_numpy.py QU8_KERNEL_IO [--seed N] [--count N]

prints "N passed, N failed"; exit status 1 on any failure."""

import argparse
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qu8ref  # noqa: E402

F32 = np.float32
OP_POINTWISE, OP_DEPTHWISE, OP_STEM, OP_GAVGPOOL, OP_VMULC = range(5)
OP_NAMES = ["pointwise", "depthwise", "stem", "gavgpool", "vmulc"]
# The field order of qu8_kernel_io.c.
INTS = ["op", "in_h", "in_w", "in_c", "in_zero", "out_h", "out_w", "out_c", "kernel",
        "stride", "dilation", "pad_top", "pad_left", "act", "residual", "residual_zero",
        "out_zero", "float_out", "tile_rows", "tile_channels", "gate_zero", "c_begin",
        "c_end"]
FLOATS = ["residual_scale", "pre_lo", "pre_hi", "post_lo", "post_hi", "out_inv_scale",
          "multiplier", "in_scale", "gate_scale", "in_inv_scale", "in_lo", "in_hi"]
CLAMPS = [(-np.inf, np.inf), (-2.5, 2.0), (0.0, 6.0)]


def encode(p, arrays):
    ints = [int(p.get(k, 0)) for k in INTS] + [0] * (32 - len(INTS))
    floats = [F32(p.get(k, 0)) for k in FLOATS] + [F32(0)] * (16 - len(FLOATS))
    head = struct.pack("<32i", *ints) + np.array(floats, "<f4").tobytes()
    return head + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


def output_size(n, k, s, d, same):
    """Output length and top/left padding: TF "same" (the larger half of the
    padding after) or symmetric (k - 1) / 2 * d."""
    span = (k - 1) * d + 1
    if same:
        out = (n + s - 1) // s
        return out, max((out - 1) * s + span - n, 0) // 2
    pad = (k - 1) // 2 * d
    return (n + 2 * pad - span) // s + 1, pad


def conv_problem(rng, op, h, w, in_c, out_c, k, stride, dilation, same, act, residual,
                 float_out, ties):
    """A pointwise, depthwise or stem (dense, on a float input) convolution."""
    depthwise = op == OP_DEPTHWISE
    out_h, pad_top = output_size(h, k, stride, dilation, same)
    out_w, pad_left = output_size(w, k, stride, dilation, same)
    per_out = (1 if depthwise else in_c) * k * k
    x = rng.integers(0, 256, (h, w, in_c), dtype=np.uint8)
    # Symmetric int8, or a released uint8 model's own weights: q - zero
    # point, both 0..255 (kernels.h), with channels that reach 255 and -255,
    # and every other 32 within -127..128 (VNNI panels of one int8 plane).
    shape = (out_c, 1 if depthwise else in_c, k, k)
    if rng.integers(2):
        zero = rng.integers(0, 256, out_c)
        zero[0::3], zero[1::3] = 0, 255
        narrow = (np.arange(out_c) // 32) % 2 == 1
        zero[narrow] = 127
        weight = (rng.integers(0, 256, shape) - zero[:, None, None, None]).astype(np.int16)
        weight[:, 0, 0, 0] = np.where(narrow, 128, np.where(zero == 0, 255, -zero))
    else:
        weight = rng.integers(-127, 128, shape, dtype=np.int16)
    pre, post = CLAMPS[rng.integers(3)], CLAMPS[rng.integers(3)]
    if ties:
        # Powers of two everywhere: v * out_inv_scale lands on .5 often.
        scale = np.full(out_c, 2.0 ** -int(rng.integers(9, 13)), F32)
        bias = (rng.integers(-64, 64, out_c) / 16).astype(F32)
        out_inv_scale, residual_scale = F32(8), F32(1 / 32)
    else:
        scale = ((1 + rng.uniform(-1, 1, out_c)) * 4 /
                 (127 * 128 * np.sqrt(per_out))).astype(F32)
        bias = rng.uniform(-1, 1, out_c).astype(F32)
        out_inv_scale = F32(1) / F32(rng.uniform(0.005, 0.05))
        residual_scale = F32(rng.uniform(0.005, 0.03))
    p = dict(op=op, in_h=h, in_w=w, in_c=in_c, in_zero=rng.integers(256), out_h=out_h,
             out_w=out_w, out_c=out_c, kernel=k, stride=stride, dilation=dilation,
             pad_top=pad_top, pad_left=pad_left, act=act, residual=residual,
             residual_zero=rng.integers(256), out_zero=rng.integers(256), float_out=float_out,
             tile_rows=rng.integers(0, out_h + 1), tile_channels=rng.integers(0, out_c + 1),
             residual_scale=residual_scale, pre_lo=pre[0], pre_hi=pre[1], post_lo=post[0],
             post_hi=post[1], out_inv_scale=out_inv_scale)
    arrays = [x, weight, scale, bias]
    if op == OP_STEM:
        # Normalised pixels and a NaN, clamped to the input range (or not),
        # some beyond what the quantization holds (they saturate).
        p["in_inv_scale"] = F32(1) / F32(rng.uniform(0.005, 0.02))
        p["in_lo"], p["in_hi"] = CLAMPS[rng.integers(2)]
        arrays[0] = rng.uniform(-3, 3, (h, w, in_c)).astype(F32)
        arrays[0].flat[rng.integers(arrays[0].size)] = np.nan
        clamped = np.where(arrays[0] >= F32(p["in_lo"]), arrays[0], F32(p["in_lo"]))
        clamped = np.where(clamped <= F32(p["in_hi"]), clamped, F32(p["in_hi"]))
        x = qu8ref.quantize_u8(clamped, p["in_inv_scale"], p["in_zero"])
    res = res_f32 = None
    if residual == 1:
        res = rng.integers(0, 256, (out_h, out_w, out_c), dtype=np.uint8)
        arrays.append(res)
    elif residual == 2:
        res_f32 = rng.uniform(-2, 2, (out_h, out_w, out_c)).astype(F32)
        arrays.append(res_f32)
    want = qu8ref.qconv(
        x, p["in_zero"], weight, scale, bias, stride, dilation, pad_top, pad_left, out_h,
        out_w, depthwise, act=act, pre_lo=pre[0], pre_hi=pre[1], post_lo=post[0],
        post_hi=post[1], residual=res, residual_scale=residual_scale,
        residual_zero=p["residual_zero"], residual_f32=res_f32,
        out_inv_scale=None if float_out else out_inv_scale, out_zero=p["out_zero"])
    return p, arrays, want


def problems(rng, count):
    """Each combination of the listed parameters at least once over `count`
    rounds, with random odd sizes and channel counts."""
    sizes = [(1, 1), (3, 5), (7, 5), (9, 13), (17, 11), (23, 29)]
    odd = [1, 3, 5, 7, 9, 15, 17, 23, 31, 33, 63, 65]
    n = 0
    for r in range(count):
        for act in range(5):
            for residual in range(3):
                for float_out in range(2):
                    h, w = sizes[rng.integers(len(sizes))]
                    ties = n % 7 == 3
                    n += 1
                    for in_c, out_c in [(int(rng.choice(odd)), int(rng.choice(odd))),
                                        (int(rng.choice([8, 24, 40, 72, 120, 241, 961])),
                                         int(rng.choice([17, 33, 57])))]:
                        yield conv_problem(rng, OP_POINTWISE, h, w, in_c, out_c, 1, 1, 1, 0,
                                           act, residual, float_out, ties)
        for k in (1, 3, 5, 7):
            for stride in (1, 2):
                for dilation in (1, 2):
                    for same in (0, 1):
                        h, w = sizes[rng.integers(len(sizes))]
                        c = int(rng.choice(odd + [8, 16, 24, 40, 72, 96]))
                        yield conv_problem(rng, OP_DEPTHWISE, h, w, c, c, k, stride, dilation,
                                           same, int(rng.integers(5)), int(rng.integers(3)),
                                           int(rng.integers(2)), n % 7 == 3)
                        n += 1
                        if r < 4:  # the model of dense sums is slow: fewer rounds
                            yield conv_problem(rng, OP_STEM, h, w,
                                               int(rng.choice([1, 3, 5, 16])),
                                               int(rng.choice([1, 5, 9, 16, 17, 33])), k,
                                               stride, dilation, same, int(rng.integers(5)),
                                               int(rng.integers(3)), int(rng.integers(2)),
                                               n % 7 == 3)
        # The MobileNetV3 stem, which the kernels specialise.
        for h, w in sizes[2:]:
            yield conv_problem(rng, OP_STEM, h, w, 3, 16, 3, 2, 1, r % 2, 3, 0, 0, False)
        for channels in (1, 7, 17, 33, 577, 961, 1031):
            pixels = int(rng.choice([1, 3, 9, 49, 51]))
            yield pool_problem(rng, pixels, channels)
            yield gate_problem(rng, pixels, channels)


def pool_problem(rng, pixels, c):
    x = rng.integers(0, 256, (pixels, c), dtype=np.uint8)
    c_begin = int(rng.integers(0, c))
    c_end = int(rng.integers(c_begin + 1, c + 1))
    in_zero = int(rng.integers(256))
    multiplier = F32(rng.uniform(0.005, 0.05)) / F32(pixels)
    lo, hi = CLAMPS[rng.integers(3)]
    p = dict(op=OP_GAVGPOOL, in_h=pixels, in_w=1, in_c=c, in_zero=in_zero,
             out_zero=rng.integers(256), c_begin=c_begin, c_end=c_end,
             multiplier=multiplier, post_lo=lo, post_hi=hi,
             out_inv_scale=F32(1) / F32(rng.uniform(0.003, 0.03)))
    want = np.zeros(c, np.uint8)
    want[c_begin:c_end] = qu8ref.gavgpool(x[:, c_begin:c_end], in_zero, multiplier, lo, hi,
                                          p["out_inv_scale"], p["out_zero"])
    return p, [x], want


def gate_problem(rng, pixels, c):
    x = rng.integers(0, 256, (pixels, c), dtype=np.uint8)
    gate = rng.integers(0, 256, c, dtype=np.uint8)
    lo, hi = CLAMPS[rng.integers(3)]
    p = dict(op=OP_VMULC, in_h=pixels, in_w=1, in_c=c, in_zero=rng.integers(256),
             gate_zero=rng.integers(256), out_zero=rng.integers(256),
             in_scale=F32(rng.uniform(0.005, 0.05)), gate_scale=F32(1) / F32(255),
             post_lo=lo, post_hi=hi, out_inv_scale=F32(1) / F32(rng.uniform(0.005, 0.05)))
    want = qu8ref.vmulc(x, p["in_zero"], p["in_scale"], gate, p["gate_zero"],
                        p["gate_scale"], lo, hi, p["out_inv_scale"], p["out_zero"])
    return p, [x, gate], want


def describe(p):
    return " ".join("%s=%s" % (k, p[k]) for k in INTS + FLOATS if k in p)


def compare(want, got):
    """Elementwise equality, bitwise, and how many elements differ only in
    the sign of a zero. That sign is not part of the definition (fmaxf and
    fminf of -0 and +0 may return either: the reference's glibc returns the
    first argument, vmaxps the second), so those count as equal; only a float
    output can show one (quantization maps both zeros to the zero point)."""
    if want.dtype != F32:
        return want == got, 0
    bits = want.view(np.uint32) == got.view(np.uint32)
    zeros = ~bits & (want == 0) & (got == 0)
    return bits | zeros, int(zeros.sum())


def first_difference(want, got):
    diff = np.flatnonzero(~compare(want, got)[0].ravel())
    i = diff[0]
    return "%d of %d differ; first at %d: want %r got %r" % (
        diff.size, want.size, i, want.ravel()[i], got.ravel()[i])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("harness")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--count", type=int, default=16, help="rounds of every combination")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = list(problems(rng, args.count))
    variants = subprocess.run([args.harness, "--list"], check=True, capture_output=True,
                              text=True).stdout.split()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        problem_file = os.path.join(tmp, "problems.bin")
        with open(problem_file, "wb") as f:
            for p, arrays, _ in cases:
                f.write(encode(p, arrays))
        for isa in variants:
            out_file = os.path.join(tmp, isa + ".bin")
            subprocess.run([args.harness, isa, problem_file, out_file], check=True)
            data = open(out_file, "rb").read()
            offset = 0
            before, signed_zeros = failed, 0
            for p, _, want in cases:
                got = np.frombuffer(data, want.dtype, want.size, offset).reshape(want.shape)
                offset += want.nbytes
                same, zeros = compare(want, got)
                signed_zeros += zeros
                if same.all():
                    passed += 1
                else:
                    failed += 1
                    print("FAIL %s %s: %s\n  %s" % (isa, OP_NAMES[p["op"]],
                                                   first_difference(want, got), describe(p)))
            if offset != len(data):
                failed += 1
                print("FAIL %s: %d output bytes, expected %d" % (isa, len(data), offset))
            print("%s: %d problems, %s; %d float outputs differ from the model only in "
                  "the sign of a zero" % (isa, len(cases), "ok" if failed == before
                                          else "FAILED", signed_zeros))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
