"""A numpy model of mnv3's 8-bit arithmetic (engine/kernels/kernels.h,
"8-bit inference"), written from the definition rather than from the C, so
that the kernels can be checked against it bitwise.

Activations are uint8 per tensor, real = (q - zero) * scale; weights int8
per output channel, symmetric. Sums are exact integers; everything after
them is float32 with one numpy float32 operation per C operation, in the C
order (numpy float32 arithmetic is IEEE single, so each rounds as C does).
Every float that enters is made np.float32 first: a Python float (float64)
in an expression would change the roundings.

Arrays are HWC (NHWC without N), as the kernels read them.
"""

import ctypes
import ctypes.util

import numpy as np

F32 = np.float32

ACT_NONE, ACT_RELU, ACT_HSWISH, ACT_HSIGMOID, ACT_SIGMOID = range(5)

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_libm.expf.restype = ctypes.c_float
_libm.expf.argtypes = [ctypes.c_float]


def expf(x):
    """C's expf, from the C library itself: numpy's float32 exp is its own
    SIMD code and differs from glibc's expf by one ulp on about one input
    in ten (and exp in float64 rounded to float32 on a few), so only the
    library's own function gives the engine's sigmoid bitwise."""
    x = np.asarray(x, F32)
    return np.array([_libm.expf(float(v)) for v in x.ravel()], F32).reshape(x.shape)


def clamp_range(v, lo, hi):
    """mnv3_clamp_range: fminf(fmaxf(v, lo), hi), skipped for (-inf, inf)
    (which keeps a NaN). np.fmax and np.fmin are fmaxf and fminf but for
    the sign of a zero, which C leaves open: of -0 and +0 they return the
    second argument (as vmaxps/vminps do), glibc the first."""
    lo, hi = F32(lo), F32(hi)
    if lo > -np.inf or hi < np.inf:
        return np.fmin(np.fmax(v, lo), hi)
    return v


def activate(v, act, post_lo=-np.inf, post_hi=np.inf):
    """mnv3_activate with no pre clamp: the activation, then the post clamp."""
    v = np.asarray(v, F32)
    zero, three, six = F32(0), F32(3), F32(6)
    if act == ACT_RELU:
        v = np.fmax(v, zero)
    elif act == ACT_HSWISH:
        # (v * relu6(v + 3)) * (1/6), the reciprocal rounded to float first
        v = v * np.fmin(np.fmax(v + three, zero), six) * (F32(1) / six)
    elif act == ACT_HSIGMOID:
        v = np.fmin(np.fmax(v + three, zero), six) / six
    elif act == ACT_SIGMOID:
        v = F32(1) / (F32(1) + expf(-v))
    elif act != ACT_NONE:
        raise ValueError("unknown activation %r" % act)
    return clamp_range(v, post_lo, post_hi)


def quantize_u8(v, inv_scale, zero):
    """mnv3_quantize_u8: v * inv_scale limited to +-512 (a NaN becomes
    -512: the comparisons are false), rounded half to even, plus the zero
    point, clamped to 0..255."""
    with np.errstate(over="ignore", invalid="ignore"):  # the limits below take them
        t = np.asarray(v, F32) * F32(inv_scale)
    t = np.where(t > F32(-512), t, F32(-512))
    t = np.where(t < F32(512), t, F32(512))
    q = np.rint(t).astype(np.int32) + int(zero)
    return np.clip(q, 0, 255).astype(np.uint8)


def _toF32(acc):
    """(float)acc of an int32: round to nearest (exact below 2**24)."""
    acc = np.asarray(acc)
    if acc.size and (acc.min() < -2**31 or acc.max() >= 2**31):
        raise OverflowError("an int32 accumulator would overflow")
    return acc.astype(np.int64).astype(F32)


def conv_sums(x, in_zero, weight, stride=1, dilation=1, pad_top=0, pad_left=0,
              out_h=None, out_w=None, depthwise=False):
    """The int32 sums of a convolution: x uint8 (H, W, C_in), weight int8
    OIHW (depthwise: C x 1 x k x k). Each tap adds (x - in_zero) * w; a tap
    outside the input adds nothing. out_h/out_w default to what the padding
    on the top/left only gives (as the kernels take them from the caller)."""
    h, w, c = x.shape
    k = weight.shape[2]
    span = (k - 1) * dilation + 1
    if out_h is None:
        out_h = (h + pad_top - span) // stride + 1
    if out_w is None:
        out_w = (w + pad_left - span) // stride + 1
    # Zeros around (x - in_zero) stand for the taps outside the input.
    need_h = (out_h - 1) * stride + span
    need_w = (out_w - 1) * stride + span
    xz = np.zeros((max(need_h, pad_top + h), max(need_w, pad_left + w), c), np.int64)
    xz[pad_top:pad_top + h, pad_left:pad_left + w] = x.astype(np.int64) - int(in_zero)
    wt = weight.astype(np.int64)
    out_c = wt.shape[0]
    acc = np.zeros((out_h, out_w, out_c), np.int64)
    for ky in range(k):
        for kx in range(k):
            y0, x0 = ky * dilation, kx * dilation
            tap = xz[y0:y0 + (out_h - 1) * stride + 1:stride,
                     x0:x0 + (out_w - 1) * stride + 1:stride]
            if depthwise:
                acc += tap * wt[:, 0, ky, kx]
            else:
                acc += tap @ wt[:, :, ky, kx].T
    return acc


def conv_epilogue(acc, scale, bias, **finish):
    """mnv3_qconv_finish on every accumulator: float32 v = acc * scale[oc],
    + bias[oc], then finish()."""
    v = _toF32(acc) * np.asarray(scale, F32)
    v = v + np.asarray(bias, F32)
    return finish_conv(v, **finish)


def finish_conv(v, act, pre_lo=-np.inf, pre_hi=np.inf, post_lo=-np.inf, post_hi=np.inf,
                residual=None, residual_scale=0.0, residual_zero=0, residual_f32=None,
                out_inv_scale=None, out_zero=0):
    """The epilogue every convolution applies to conv + bias: pre clamp,
    + residual (uint8, dequantized in float32, or float), activation, post
    clamp; then uint8 (out_inv_scale given) or the float v itself."""
    v = clamp_range(v, pre_lo, pre_hi)
    if residual is not None:
        v = v + (residual.astype(np.int32) - int(residual_zero)).astype(F32) * F32(residual_scale)
    elif residual_f32 is not None:
        v = v + np.asarray(residual_f32, F32)
    v = activate(v, act, post_lo, post_hi)
    if out_inv_scale is None:
        return v
    return quantize_u8(v, out_inv_scale, out_zero)


def qconv(x, in_zero, weight, scale, bias, stride=1, dilation=1, pad_top=0, pad_left=0,
          out_h=None, out_w=None, depthwise=False, **epilogue):
    """A whole 8-bit convolution: depthwise, or dense (pointwise the 1x1 case)."""
    acc = conv_sums(x, in_zero, weight, stride, dilation, pad_top, pad_left, out_h, out_w,
                    depthwise)
    return conv_epilogue(acc, scale, bias, **epilogue)


def gavgpool(x, in_zero, multiplier, post_lo, post_hi, out_inv_scale, out_zero):
    """Global average pooling of x (pixels, C): v = (sum - pixels * in_zero)
    * multiplier (in_scale / pixels), clamped (always: fminf(fmaxf)), then
    quantized."""
    x = x.reshape(-1, x.shape[-1])
    s = x.astype(np.int64).sum(axis=0) - x.shape[0] * int(in_zero)
    v = _toF32(s) * F32(multiplier)
    v = np.fmin(np.fmax(v, F32(post_lo)), F32(post_hi))
    return quantize_u8(v, out_inv_scale, out_zero)


def vmulc(x, in_zero, in_scale, gate, gate_zero, gate_scale, post_lo, post_hi,
          out_inv_scale, out_zero):
    """The squeeze-and-excitation gate: m[c] = in_scale * ((gate[c] -
    gate_zero) * gate_scale), v = (x - in_zero) * m[c], clamped, quantized."""
    g = (gate.astype(np.int32) - int(gate_zero)).astype(F32) * F32(gate_scale)
    m = F32(in_scale) * g
    v = (x.astype(np.int32) - int(in_zero)).astype(F32) * m
    v = np.fmin(np.fmax(v, F32(post_lo)), F32(post_hi))
    return quantize_u8(v, out_inv_scale, out_zero)


# ---- how a plan quantizes (engine/src/plan.c) ------------------------------

def quant_of_range(lo, hi):
    """quant_of_range: (scale, inv_scale, zero) of uint8 over [lo, hi]
    widened to hold 0; lrintf rounds half to even."""
    lo = np.fmin(F32(lo), F32(0))
    hi = np.fmax(F32(hi), F32(0))
    scale = (hi - lo) / F32(255)
    if not scale > 0:
        scale = F32(1) / F32(255)
    zero = int(np.clip(np.rint(-lo / scale), 0, 255))
    return scale, F32(1) / scale, zero


def quantize_weights(weight, in_scale, grid=None):
    """pack_int8 (channel_to_integers): float OIHW weights to integers per
    output channel: on the model's own grid (grid[o], a quantized TFLite
    tensor's scale) where they lie on it within 255, else symmetric int8
    (scale max|w| / 127); and the accumulator scales in_scale * step."""
    w = np.asarray(weight, F32)
    flat = w.reshape(w.shape[0], -1)
    q = np.zeros(flat.shape, np.int16)
    steps = np.zeros(w.shape[0], F32)
    for o in range(w.shape[0]):
        step = F32(grid[o]) if grid is not None else F32(0)
        if step > 0:
            k = flat[o] / step
            if not (np.all(np.abs(k) <= F32(255)) and np.all(np.abs(k - np.rint(k)) < F32(1e-3))):
                step = F32(0)
        if step == 0:
            m = np.abs(flat[o]).max() if flat.shape[1] else F32(0)
            step = m / F32(127) if m > 0 else F32(1)
        steps[o] = step
        q[o] = np.clip(np.rint(flat[o] / step), -255, 255)
    return q.reshape(w.shape), (F32(in_scale) * steps).astype(F32)
