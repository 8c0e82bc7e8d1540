"""Google's quantized MobileNetV3 releases as mnv3 runs them in 8 bits, in numpy
(tests/lib/qu8ref.py), for comparison with the engine bitwise.

The graph is read with tflite_ref.py's parser and turned into the network
ops the engine's loader makes of it (engine/src/tflite.c: weights
dequantized to float32, the ranges of the quantized tensors as pre and post
clamps, pass-through ops narrowing their producer's post range); then
compiled as plan.c compiles an 8-bit plan (every tensor but the logits
uint8 with the quantization of its producer's post range, the input's
with the input range, weights as integers per output channel on the
model's own grid) and run with the numpy model.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import qu8ref  # noqa: E402
import tflite_ref  # noqa: E402

F32 = np.float32
ALL = (F32(-np.inf), F32(np.inf))


class Op:
    """One network op (mnv3_op): kind conv, pool or gate."""

    def __init__(self, kind, in0, out, **kw):
        self.kind, self.in0, self.out = kind, in0, out
        self.in1 = None
        self.act = qu8ref.ACT_NONE
        self.pre = self.post = ALL
        self.__dict__.update(kw)


def tensor_range(t):
    """tflite.c tensor_range: computed in double, stored as float."""
    r = t.value_range() if len(t.scale) == 1 else None
    if r is None or not (t.scale[0] > 0):
        return ALL
    return F32(r[0]), F32(r[1])


def intersect(a, b):
    return np.fmax(a[0], b[0]), np.fmin(a[1], b[1])


def act_range(fused):
    return {tflite_ref.ACT_RELU: (F32(0), F32(np.inf)),
            tflite_ref.ACT_RELU6: (F32(0), F32(6)),
            tflite_ref.ACT_RELU_N1_TO_1: (F32(-1), F32(1))}.get(fused, ALL)


def dequantize(t, fallback=None):
    """tflite.c dequantize: (q - zero) * scale in double, rounded to float;
    fallback: per-channel scales (float) for an int32 bias without its own."""
    raw = np.frombuffer(t.data, tflite_ref.TYPES[t.type][0]).astype(np.float64)
    if t.type == 0:
        return raw.astype(F32).reshape(t.shape)
    raw = raw.reshape(t.shape)
    shape = [1] * raw.ndim
    scale = np.array(t.scale, np.float64) if t.scale else fallback.astype(np.float64)
    if scale.size > 1:
        shape[t.qdim if t.scale else raw.ndim - 1] = scale.size
    zero = np.array(t.zero_point or [0], np.float64)
    if zero.size > 1:
        zero = zero.reshape(shape)
    return ((raw - zero) * scale.reshape(shape)).astype(F32)


class Network:
    """The ops of a TF-slim/TF-Hub MobileNetV3 graph, as tflite.c matches them."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.m = tflite_ref.Model(f.read())
        m = self.m
        self.readers = {}
        for op in m.ops:
            for i in op.inputs:
                self.readers[i] = self.readers.get(i, 0) + 1
        self.ops = []
        self.next = 0
        self._match_input()
        while self.next < len(m.ops):
            self._match(m.ops[self.next])
        self.output = self.ops[-1].out

    def _match_input(self):
        """tflite.c match_input: a float graph's QUANTIZE, MUL 2, SUB 1
        prefix is the config's normalisation; the ranges of its tensors,
        mapped to the last one's units, clamp the network input."""
        m = self.m
        t = m.inputs[0]
        a, b = 1.0, 0.0
        seen = [(tensor_range(m.tensors[t]), a, b)]
        for op in m.ops:
            c = self._const(op, t) if op.name in ("MUL", "SUB", "ADD") else None
            if op.name in ("QUANTIZE", "DEQUANTIZE") and op.inputs[0] == t:
                pass
            elif op.name == "MUL" and c is not None and c > 0:
                a, b = a * c, b * c
            elif op.name in ("SUB", "ADD") and c is not None:
                b += -c if op.name == "SUB" else c
            else:
                break
            t = op.outputs[0]
            self.next += 1
            seen.append((tensor_range(m.tensors[t]), a, b))
        r = ALL
        for (lo, hi), sa, sb in seen:
            if np.isinf(lo) and np.isinf(hi):
                continue
            k = a / sa
            r = intersect(r, (F32((float(lo) - sb) * k + b), F32((float(hi) - sb) * k + b)))
        self.input_range = r
        self.net_of = {t: 0}

    def _peek(self):
        return self.m.ops[self.next] if self.next < len(self.m.ops) else None

    def _const(self, op, t):
        """The scalar constant op applies to tensor t, or None (as for
        tflite.c const_operand, never the c of c - t)."""
        if len(op.inputs) != 2 or t not in op.inputs or (
                op.name == "SUB" and op.inputs[0] != t):
            return None
        other = self.m.tensors[op.inputs[1] if op.inputs[0] == t else op.inputs[0]]
        if not other.data or int(np.prod(other.shape or [1])) != 1:
            return None
        return float(dequantize(other).reshape(-1)[0])

    def _new_tensor(self, t):
        self.net_of[t] = len(self.ops) + 1
        return self.net_of[t]

    def _match(self, op):
        m = self.m
        name = op.name
        src = op.inputs[0]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            return self._conv(op)
        self.next += 1
        if name == "SOFTMAX":
            return  # the engine gives logits
        if name in ("RESHAPE", "SQUEEZE", "QUANTIZE", "DEQUANTIZE") or (
                name == "AVERAGE_POOL_2D" and m.tensors[src].shape[1:3] == [1, 1]):
            # Pass-through: its range narrows the producer's clamp.
            out = op.outputs[0]
            producer = self._producer(self.net_of[src])
            now = producer.post if producer else self.input_range
            narrowed = intersect(now, tensor_range(m.tensors[out]))
            if narrowed != now:
                assert self.readers[src] == 1
                if producer:
                    producer.post = narrowed
                else:
                    self.input_range = narrowed
            self.net_of[out] = self.net_of[src]
            return
        if name in ("AVERAGE_POOL_2D", "MEAN"):
            out = op.outputs[0]
            self.ops.append(Op("pool", self.net_of[src], self._new_tensor(out),
                               post=tensor_range(m.tensors[out])))
            return
        if name == "MUL":
            a, b = op.inputs
            # The gate is the 1 x 1 map.
            if m.tensors[a].shape[1:3] == [1, 1]:
                a, b = b, a
            out = op.outputs[0]
            self.ops.append(Op("gate", self.net_of[a], self._new_tensor(out),
                               in1=self.net_of[b], post=tensor_range(m.tensors[out])))
            return
        raise ValueError("op %d (%s) is not matched" % (self.next - 1, name))

    def _producer(self, net_id):
        for op in self.ops:
            if op.out == net_id:
                return op
        return None

    def _conv(self, tc):
        m = self.m
        x, w_t = m.tensors[tc.inputs[0]], m.tensors[tc.inputs[1]]
        depthwise = tc.name == "DEPTHWISE_CONV_2D"
        w = dequantize(w_t)
        if depthwise:  # 1HWO -> C x 1 x k x k
            weight = w[0].transpose(2, 0, 1)[:, None]
        elif tc.name == "FULLY_CONNECTED":
            weight = w[:, :, None, None]
        else:  # OHWI -> OIHW
            weight = w.transpose(0, 3, 1, 2)
        out_c = weight.shape[0]
        bias = np.zeros(out_c, F32)
        if len(tc.inputs) > 2 and tc.inputs[2] >= 0:
            in_scale = F32(x.scale[0]) if len(x.scale) == 1 else F32(1)
            fallback = (in_scale * np.array(w_t.scale, F32)) if w_t.scale else None
            bias = dequantize(m.tensors[tc.inputs[2]], fallback).reshape(out_c)
        o = tc.opt
        if tc.name == "CONV_2D":
            stride, fused, dilation = o.scalar(1, "i"), o.scalar(3, "b"), o.scalar(4, "i", 1)
        elif depthwise:
            stride, fused, dilation = o.scalar(1, "i"), o.scalar(4, "b"), o.scalar(5, "i", 1)
        else:
            stride, fused, dilation = 1, o.scalar(0, "b") if o else 0, 1
        # The weights' grid per output channel, as tflite.c records it.
        grid = None
        if w_t.scale and len(w_t.scale) in (1, out_c) and w_t.type != 0:
            grid = np.array([w_t.scale[0 if len(w_t.scale) == 1 else o] for o in range(out_c)],
                            F32)
        op = Op("conv", self.net_of[tc.inputs[0]], None, weight=weight, bias=bias,
                depthwise=depthwise, kernel=weight.shape[2], stride=stride,
                dilation=dilation, grid=grid)
        self.next += 1
        t = tc.outputs[0]
        pre = intersect(tensor_range(m.tensors[t]), act_range(fused))
        nxt = self._peek()
        hub_hsigmoid = (fused == tflite_ref.ACT_RELU6 and nxt and nxt.name == "MUL" and
                        self._const(nxt, t) is not None)
        # A ReLU of the uint8 graph is its range: the pre clamp does it, and
        # the engine's ReLU after that clamp changes nothing.
        if fused in (tflite_ref.ACT_RELU, tflite_ref.ACT_RELU6) and not hub_hsigmoid:
            op.act = qu8ref.ACT_RELU
        if nxt and nxt.name in ("HARD_SWISH", "LOGISTIC") and nxt.inputs[0] == t:
            op.act = qu8ref.ACT_HSWISH if nxt.name == "HARD_SWISH" else qu8ref.ACT_SIGMOID
            t = nxt.outputs[0]
            self.next += 1
        elif hub_hsigmoid:
            # TF-Hub's hard sigmoid: the 3 in the bias, a fused RELU6.
            op.act = qu8ref.ACT_HSIGMOID
            op.bias = (op.bias - F32(3)).astype(F32)
            r6 = intersect(pre, act_range(tflite_ref.ACT_RELU6))
            pre = (r6[0] + F32(-3), r6[1] + F32(-3))
            t = nxt.outputs[0]
            self.next += 1
        elif nxt and nxt.name == "ADD" and self._const(nxt, t) is not None:
            # TF-slim's: ADD 3 [RELU6] MUL 1/6.
            op.act = qu8ref.ACT_HSIGMOID
            s = intersect(tensor_range(m.tensors[nxt.outputs[0]]),
                          act_range(nxt.opt.scalar(0, "b") if nxt.opt else 0))
            t = nxt.outputs[0]
            self.next += 1
            nxt = self._peek()
            if nxt.name == "RELU6" and nxt.inputs[0] == t:
                s = intersect(s, intersect(act_range(tflite_ref.ACT_RELU6),
                                           tensor_range(m.tensors[nxt.outputs[0]])))
                t = nxt.outputs[0]
                self.next += 1
            pre = intersect(pre, (s[0] + F32(-3), s[1] + F32(-3)))
            t = self._peek().outputs[0]  # the MUL 1/6
            self.next += 1
        post = tensor_range(m.tensors[t])
        nxt = self._peek()
        if nxt and nxt.name == "ADD" and t in nxt.inputs and self._const(nxt, t) is None:
            other = nxt.inputs[1] if nxt.inputs[0] == t else nxt.inputs[0]
            op.in1 = self.net_of[other]
            t = nxt.outputs[0]
            post = tensor_range(m.tensors[t])
            self.next += 1
        op.pre, op.post = pre, post
        op.out = self._new_tensor(t)
        self.ops.append(op)

    # ---- the 8-bit plan and its execution ------------------------------

    def run_int8(self, image):
        """image: float32 H x W x 3 (the engine's input); returns the logits
        as the engine's 8-bit plan computes them."""
        lo, hi = self.input_range
        # The stem clamps the input with compares (a NaN becomes lo), then
        # quantizes it with the input's range.
        x = np.where(image >= lo, image, lo)
        quant = {op.out: qu8ref.quant_of_range(*op.post) for op in self.ops}
        quant[0] = qu8ref.quant_of_range(lo, hi)
        vals = {0: qu8ref.quantize_u8(np.where(x <= hi, x, hi).astype(F32), quant[0][1],
                                      quant[0][2])}
        for op in self.ops:
            x = vals[op.in0]
            _, out_inv, out_zero = quant[op.out]
            epilogue = dict(post_lo=op.post[0], post_hi=op.post[1], out_inv_scale=out_inv,
                            out_zero=out_zero)
            if op.out == self.output:
                epilogue["out_inv_scale"] = None  # the logits stay float
            if op.kind == "conv":
                out_h, pad_top = same_padding(x.shape[0], op.kernel, op.stride, op.dilation)
                out_w, pad_left = same_padding(x.shape[1], op.kernel, op.stride, op.dilation)
                epilogue.update(act=op.act, pre_lo=op.pre[0], pre_hi=op.pre[1])
                in_scale, _, in_zero = quant[op.in0]
                qw, scale = qu8ref.quantize_weights(op.weight, in_scale, op.grid)
                if op.in1 is not None:
                    epilogue.update(residual=vals[op.in1], residual_scale=quant[op.in1][0],
                                    residual_zero=quant[op.in1][2])
                vals[op.out] = qu8ref.qconv(x, in_zero, qw, scale, op.bias, op.stride,
                                            op.dilation, pad_top, pad_left, out_h, out_w,
                                            op.depthwise, **epilogue)
            elif op.kind == "pool":
                in_scale, _, in_zero = quant[op.in0]
                pixels = x.shape[0] * x.shape[1]
                vals[op.out] = qu8ref.gavgpool(
                    x, in_zero, in_scale / F32(pixels), op.post[0], op.post[1], out_inv,
                    out_zero).reshape(1, 1, -1)
            else:
                in_scale, _, in_zero = quant[op.in0]
                g_scale, _, g_zero = quant[op.in1]
                vals[op.out] = qu8ref.vmulc(x, in_zero, in_scale, vals[op.in1].reshape(-1),
                                            g_zero, g_scale, op.post[0], op.post[1], out_inv,
                                            out_zero)
        return vals[self.output].reshape(-1)


def same_padding(n, k, s, d):
    """plan.c conv_output_size for TensorFlow SAME: (output size, top/left pad)."""
    out = (n + s - 1) // s
    total = (out - 1) * s + (k - 1) * d + 1 - n
    return out, max(total, 0) // 2
