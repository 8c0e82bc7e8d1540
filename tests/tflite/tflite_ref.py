#!/usr/bin/python3
"""A plain float interpreter of a quantized TFLite graph, the reference the
engine's TFLite loader is checked against.

The flatbuffer is parsed by hand (Debian ships no TFLite schema for Python):
only the tables the MobileNetV3 graphs use. Every weight is dequantized to
float and every op runs in float64; each quantized activation tensor is then
clamped to the range its uint8/int8 encoding can represent, which is how the
quantized graph applies its ReLU/ReLU6 (the uint8 TF-slim graph has no
activation ops at all). No rounding to the quantization grid is done.

As a script: dump a graph (`tflite_ref.py dump MODEL`) or classify photos
(`tflite_ref.py classify MODEL IMAGE...`, crop 0.875, input in [-1, 1]).
"""
import struct
import sys

import numpy as np

# BuiltinOperator codes used here (tensorflow/lite/schema/schema.fbs).
OP_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 18: "MUL",
    19: "RELU", 21: "RELU6", 22: "RESHAPE", 25: "SOFTMAX", 40: "MEAN",
    41: "SUB", 43: "SQUEEZE", 114: "QUANTIZE", 117: "HARD_SWISH",
}
# TensorType -> (numpy dtype, quantized range)
TYPES = {
    0: (np.float32, None), 2: (np.int32, None), 3: (np.uint8, (0, 255)),
    4: (np.int64, None), 9: (np.int8, (-128, 127)), 7: (np.int16, (-32768, 32767)),
}
# ActivationFunctionType
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3


class FormatError(Exception):
    pass


class Buf:
    """Bounds-checked flatbuffer access."""

    def __init__(self, data):
        self.b = bytes(data)

    def _get(self, fmt, off):
        size = struct.calcsize(fmt)
        if off < 0 or off + size > len(self.b):
            raise FormatError("read of %d bytes at %d outside the %d-byte file"
                              % (size, off, len(self.b)))
        return struct.unpack_from("<" + fmt, self.b, off)[0]

    def table(self, off):
        vt = off - self._get("i", off)
        vlen = self._get("H", vt)
        if vlen < 4 or vlen % 2:
            raise FormatError("bad vtable at %d" % vt)
        self._get("%ds" % vlen, vt)  # whole vtable inside the file
        return Table(self, off, vt, vlen)

    def deref(self, off):
        return off + self._get("I", off)

    def vector(self, off):
        start = self.deref(off)
        n = self._get("I", start)
        return start + 4, n


class Table:
    def __init__(self, buf, off, vt, vlen):
        self.buf, self.off, self.vt, self.vlen = buf, off, vt, vlen

    def field(self, i):
        slot = 4 + 2 * i
        if slot >= self.vlen:
            return None
        rel = self.buf._get("H", self.vt + slot)
        return self.off + rel if rel else None

    def scalar(self, i, fmt, default=0):
        p = self.field(i)
        return default if p is None else self.buf._get(fmt, p)

    def array(self, i, fmt):
        p = self.field(i)
        if p is None:
            return []
        start, n = self.buf.vector(p)
        size = struct.calcsize(fmt)
        if start + n * size > len(self.buf.b):
            raise FormatError("vector of %d at %d outside the file" % (n, start))
        return list(struct.unpack_from("<%d%s" % (n, fmt), self.buf.b, start))

    def bytes(self, i):
        p = self.field(i)
        if p is None:
            return b""
        start, n = self.buf.vector(p)
        if start + n > len(self.buf.b):
            raise FormatError("byte vector outside the file")
        return self.buf.b[start:start + n]

    def tables(self, i):
        p = self.field(i)
        if p is None:
            return []
        start, n = self.buf.vector(p)
        return [self.buf.table(self.buf.deref(start + 4 * k)) for k in range(n)]

    def table(self, i):
        p = self.field(i)
        return None if p is None else self.buf.table(self.buf.deref(p))


class Tensor:
    def __init__(self, t, buffers):
        self.shape = t.array(0, "i")
        self.type = t.scalar(1, "b")
        self.name = t.bytes(3).decode("utf-8", "replace")
        buf_index = t.scalar(2, "I")
        self.data = buffers[buf_index] if 0 < buf_index < len(buffers) else b""
        self.scale, self.zero_point, self.qdim = [], [], 0
        q = t.table(4)
        if q is not None:
            self.scale = q.array(2, "f")
            self.zero_point = q.array(3, "q")
            self.qdim = q.scalar(6, "i")
        if self.type not in TYPES:
            raise FormatError("tensor %s has unsupported type %d" % (self.name, self.type))

    @property
    def quantized(self):
        return bool(self.scale) and TYPES[self.type][1] is not None

    def value_range(self):
        """What the quantized encoding can represent (None when float)."""
        if not self.quantized or len(self.scale) != 1:
            return None
        qmin, qmax = TYPES[self.type][1]
        s, z = self.scale[0], self.zero_point[0] if self.zero_point else 0
        return (qmin - z) * s, (qmax - z) * s

    def constant(self):
        """The dequantized constant, or None for an activation tensor."""
        if not self.data:
            return None
        raw = np.frombuffer(self.data, dtype=TYPES[self.type][0]).astype(np.float64)
        raw = raw.reshape(self.shape) if self.shape else raw.reshape(())
        if not self.scale:
            return raw
        shape = [1] * raw.ndim
        if len(self.scale) > 1:
            shape[self.qdim] = len(self.scale)
        scale = np.array(self.scale, np.float64).reshape(shape)
        zp = np.array(self.zero_point or [0] * len(self.scale), np.float64).reshape(shape)
        return (raw - zp) * scale


class Operator:
    def __init__(self, t, codes):
        index = t.scalar(0, "I")
        if index >= len(codes):
            raise FormatError("opcode_index %d out of range" % index)
        self.code = codes[index]
        self.name = OP_NAMES.get(self.code, "BUILTIN_%d" % self.code)
        self.inputs = t.array(1, "i")
        self.outputs = t.array(2, "i")
        self.options_type = t.scalar(3, "B")
        self.opt = t.table(4)


class Model:
    def __init__(self, data):
        buf = Buf(data)
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise FormatError("not a TFLite flatbuffer (no TFL3 identifier)")
        root = buf.table(buf.deref(0))
        codes = []
        for c in root.tables(1):
            # builtin_code (int32) replaced deprecated_builtin_code (int8) past 127.
            codes.append(max(c.scalar(0, "b"), c.scalar(3, "i")))
        buffers = [b.bytes(0) for b in root.tables(4)]
        subgraphs = root.tables(2)
        if len(subgraphs) != 1:
            raise FormatError("expected one subgraph, found %d" % len(subgraphs))
        sg = subgraphs[0]
        self.tensors = [Tensor(t, buffers) for t in sg.tables(0)]
        self.inputs = sg.array(1, "i")
        self.outputs = sg.array(2, "i")
        self.ops = [Operator(o, codes) for o in sg.tables(3)]

    # ---- the float interpreter ------------------------------------------

    def run(self, image):
        """image: float NHWC as the graph's input tensor means it (for a
        quantized uint8 input, the dequantized values). Returns every tensor."""
        vals = {}
        inp = self.tensors[self.inputs[0]]
        vals[self.inputs[0]] = self._clamp(inp, np.asarray(image, np.float64))
        for k, op in enumerate(self.ops):
            args = []
            for i in op.inputs:
                if i < 0:
                    args.append(None)
                elif i in vals:
                    args.append(vals[i])
                else:
                    c = self.tensors[i].constant()
                    if c is None:
                        raise FormatError("op %d reads tensor %d before it is written" % (k, i))
                    args.append(c)
            out = getattr(self, "_" + op.name.lower())(op, *args)
            o = op.outputs[0]
            vals[o] = self._clamp(self.tensors[o], out)
        return vals

    def logits(self, image):
        """The graph's output, or the input of its final SOFTMAX."""
        vals = self.run(image)
        last = self.ops[-1]
        if last.name == "SOFTMAX":
            return vals[last.inputs[0]].reshape(-1)
        return vals[self.outputs[0]].reshape(-1)

    @staticmethod
    def _clamp(tensor, x):
        r = tensor.value_range()
        return x if r is None else np.clip(x, r[0], r[1])

    @staticmethod
    def _act(x, act):
        if act == ACT_RELU:
            return np.maximum(x, 0)
        if act == ACT_RELU6:
            return np.clip(x, 0, 6)
        if act == ACT_RELU_N1_TO_1:
            return np.clip(x, -1, 1)
        if act != ACT_NONE:
            raise FormatError("unsupported fused activation %d" % act)
        return x

    @staticmethod
    def _pad_same(x, kh, kw, sh, sw, dh, dw):
        _, h, w, _ = x.shape
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0)
        pw = max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
        return x, oh, ow

    def _window(self, x, kh, kw, sh, sw, dh, dw, same):
        """Yields (i, j, strided input slice) for each kernel tap."""
        if same:
            x, oh, ow = self._pad_same(x, kh, kw, sh, sw, dh, dw)
        else:
            oh = (x.shape[1] - (kh - 1) * dh - 1) // sh + 1
            ow = (x.shape[2] - (kw - 1) * dw - 1) // sw + 1
        for i in range(kh):
            for j in range(kw):
                yield i, j, x[:, i * dh:i * dh + (oh - 1) * sh + 1:sh,
                              j * dw:j * dw + (ow - 1) * sw + 1:sw, :]

    def _conv_2d(self, op, x, w, b):
        o = op.opt
        pad, sw, sh, act = o.scalar(0, "b"), o.scalar(1, "i"), o.scalar(2, "i"), o.scalar(3, "b")
        dw, dh = o.scalar(4, "i", 1), o.scalar(5, "i", 1)
        _, kh, kw, _ = w.shape  # OHWI
        y = 0
        for i, j, xs in self._window(x, kh, kw, sh, sw, dh, dw, pad == 0):
            y = y + xs @ w[:, i, j, :].T
        if b is not None:
            y = y + b
        return self._act(y, act)

    def _depthwise_conv_2d(self, op, x, w, b):
        o = op.opt
        pad, sw, sh = o.scalar(0, "b"), o.scalar(1, "i"), o.scalar(2, "i")
        mult, act = o.scalar(3, "i", 1), o.scalar(4, "b")
        dw, dh = o.scalar(5, "i", 1), o.scalar(6, "i", 1)
        if mult not in (0, 1) or w.shape[3] != x.shape[3]:
            raise FormatError("depth multiplier %d is not supported" % mult)
        _, kh, kw, _ = w.shape  # 1HWO
        y = 0
        for i, j, xs in self._window(x, kh, kw, sh, sw, dh, dw, pad == 0):
            y = y + xs * w[0, i, j, :]
        if b is not None:
            y = y + b
        return self._act(y, act)

    def _fully_connected(self, op, x, w, b):
        y = x.reshape(-1, w.shape[1]) @ w.T
        if b is not None:
            y = y + b
        return self._act(y, op.opt.scalar(0, "b") if op.opt else 0)

    def _add(self, op, a, b):
        return self._act(a + b, op.opt.scalar(0, "b") if op.opt else 0)

    def _sub(self, op, a, b):
        return self._act(a - b, op.opt.scalar(0, "b") if op.opt else 0)

    def _mul(self, op, a, b):
        return self._act(a * b, op.opt.scalar(0, "b") if op.opt else 0)

    def _hard_swish(self, op, x):
        return x * np.clip(x + 3, 0, 6) / 6

    def _relu(self, op, x):
        return np.maximum(x, 0)

    def _relu6(self, op, x):
        return np.clip(x, 0, 6)

    def _logistic(self, op, x):
        return 1 / (1 + np.exp(-x))

    def _average_pool_2d(self, op, x):
        o = op.opt  # Pool2DOptions: padding, stride_w, stride_h, filter_w, filter_h
        sw, sh, fw, fh = o.scalar(1, "i"), o.scalar(2, "i"), o.scalar(3, "i"), o.scalar(4, "i")
        if o.scalar(0, "b") != 1 and (fh, fw) != x.shape[1:3]:
            raise FormatError("only VALID or global average pooling is supported")
        acc = 0
        for _, _, xs in self._window(x, fh, fw, sh, sw, 1, 1, False):
            acc = acc + xs
        return acc / (fh * fw)

    def _mean(self, op, x, axes):
        keep = op.opt.scalar(0, "b") if op.opt else 0
        return x.mean(axis=tuple(int(a) for a in np.ravel(axes)), keepdims=bool(keep))

    def _reshape(self, op, x, shape=None):
        return x.reshape(self.tensors[op.outputs[0]].shape)

    _squeeze = _reshape

    def _softmax(self, op, x):
        beta = op.opt.scalar(0, "f", 1.0) if op.opt else 1.0
        e = np.exp(beta * (x - x.max(axis=-1, keepdims=True)))
        return e / e.sum(axis=-1, keepdims=True)

    def _quantize(self, op, x):
        return x  # the clamp to the output's range is the only float effect

    def _dequantize(self, op, x):
        return x


# ---- preprocessing (numpy only; PIL just decodes) --------------------------

def load_rgb(path):
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def center_crop_box(height, width, fraction):
    """The centre crop: round(side * fraction) pixels, centred (floor)."""
    ch = max(1, int(round(height * fraction)))
    cw = max(1, int(round(width * fraction)))
    return (height - ch) // 2, (width - cw) // 2, ch, cw


def resize_bilinear(img, out_h, out_w):
    """Half-pixel-centre bilinear, no antialias (torchvision antialias=False,
    TF half_pixel_centers=True), on an H x W x C array."""
    def axis(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        src = np.clip(src, 0, n_in - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0
    y0, y1, fy = axis(img.shape[0], out_h)
    x0, x1, fx = axis(img.shape[1], out_w)
    top = img[y0][:, x0] * (1 - fx)[None, :, None] + img[y0][:, x1] * fx[None, :, None]
    bot = img[y1][:, x0] * (1 - fx)[None, :, None] + img[y1][:, x1] * fx[None, :, None]
    return top * (1 - fy)[:, None, None] + bot * fy[:, None, None]


def preprocess(path, size=224, crop=0.875, mean=0.5, std=0.5):
    """Photo -> 1 x size x size x 3 float (NHWC), (pixel/255 - mean) / std."""
    img = load_rgb(path)
    y, x, h, w = center_crop_box(img.shape[0], img.shape[1], crop)
    img = resize_bilinear(img[y:y + h, x:x + w], size, size)
    return ((img / 255.0 - mean) / std)[None]


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def dump(model):
    print("inputs", model.inputs, "outputs", model.outputs)
    for k, op in enumerate(model.ops):
        print("op %3d %s" % (k, op.name))
        for role, ids in (("in", op.inputs), ("out", op.outputs)):
            for i in ids:
                if i < 0:
                    continue
                t = model.tensors[i]
                r = t.value_range()
                q = ("range [%.4f, %.4f]" % r) if r else (
                    "per-channel x%d" % len(t.scale) if len(t.scale) > 1 else "float")
                print("    %-3s %4d %-18s %-5s %s%s" % (
                    role, i, t.shape, TYPES[t.type][0].__name__, q, " const" if t.data else ""))


def main(argv):
    if len(argv) < 3 or argv[1] not in ("dump", "classify"):
        print("usage: tflite_ref.py dump MODEL | classify MODEL IMAGE...", file=sys.stderr)
        return 2
    with open(argv[2], "rb") as f:
        model = Model(f.read())
    if argv[1] == "dump":
        dump(model)
        return 0
    # A float graph input means the graph rescales [0, 1] itself (TF-Hub);
    # a quantized one takes the TF-slim [-1, 1] values.
    float_input = not model.tensors[model.inputs[0]].quantized
    mean, std = (0.0, 1.0) if float_input else (0.5, 0.5)
    for path in argv[3:]:
        p = softmax(model.logits(preprocess(path, mean=mean, std=std)))
        top = np.argsort(-p)[:3]
        print(path, " | ".join("%d %.3f" % (i, p[i]) for i in top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
