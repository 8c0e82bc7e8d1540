#!/usr/bin/python3
"""An 8-bit QDQ ONNX model from a float one, calibrated as mnv3-run --quantize
calibrates, for ONNX Runtime's int8 column in bench/compare.py.

    /usr/bin/python3 bench/onnx/make_qdq.py MODEL.onnx IMAGES_DIR OUT.onnx

The images (.jpg/.png in IMAGES_DIR, sorted by name) are decoded by
GStreamer to RGB as mnv3-run decodes them, centre-cropped (--crop), resized
bilinearly to the model's input size and normalised (--mean, --std), as the
engine's preprocessing does. ONNX Runtime (bench/onnx/ort_ranges.js) runs the
float model on them and histograms every activation to be quantized; each
range is then chosen as engine/src/calibrate.c chooses it (2048 bins over
[min, max], the expected squared error of clipping and rounding, each end
searched in turn, widened to hold 0), and becomes a uint8 scale and zero
point as engine/src/plan.c makes them.

The model written has QuantizeLinear/DequantizeLinear pairs (uint8) on the
activations, per-output-channel symmetric int8 weights and int32 biases
behind DequantizeLinear, which ONNX Runtime's QDQ transformer fuses into
QLinearConv and QGemm (and, unless --ops conv, QLinearAdd, QLinearMul,
QLinearGlobalAveragePool, QLinearSigmoid and uint8 Resize). What follows the
last Conv or Gemm (the logits, LR-ASPP's sum and upsampling) stays float, as
in mnv3's 8-bit plans. Needs Debian's python3-onnx and onnxruntime-node
(bench/onnx/install.sh).
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
# As engine/src/calibrate.c.
BINS = 2048
CANDIDATES = 128
# The engine's default normalisation (configs' input.mean and input.std).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Ops whose weights are quantized: every multiply-accumulate of these models.
WEIGHTED = ("Conv", "Gemm")
# Ops that only move or interpolate values: their output keeps their input's
# scale and zero point (within its range), which lets ONNX Runtime drop the
# pair around them and run them on uint8.
SAME_SCALE = ("Flatten", "Resize")


def log(message):
    print(f"make_qdq.py: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- images

def image_files(folder):
    """The .jpg/.png names in folder, sorted as mnv3-run --quantize sorts them."""
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith((".jpg", ".jpeg", ".png")))


def decode(path):
    """H x W x 3 uint8 RGB, decoded by the pipeline mnv3-run decodes with
    (passed on losslessly as PNG: pngenc is in gst-plugins-good, which the
    project installs anyway)."""
    proc = subprocess.run(
        ["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "decodebin", "!",
         "videoconvert", "!", "video/x-raw,format=RGB", "!", "pngenc", "compression-level=0",
         "!", "fdsink"],
        capture_output=True, check=True)
    with Image.open(io.BytesIO(proc.stdout)) as png:
        return np.asarray(png.convert("RGB"))


def preprocess(rgb, height, width, crop, mean, std):
    """1 x 3 x height x width float32, as engine/src/preprocess.c makes it:
    TF's central crop, torch's bilinear resize without antialiasing."""
    h, w = rgb.shape[:2]
    x0, y0 = int((w - w * crop) / 2), int((h - h * crop) / 2)
    t = torch.from_numpy(rgb[y0:h - y0, x0:w - x0].copy())
    t = t.permute(2, 0, 1).unsqueeze(0).to(torch.float32) / 255.0
    t = F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False,
                      antialias=False)
    t = (t - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    return t.numpy().astype(np.float32)


# ---------------------------------------------------------------- ranges

def range_errors(h, vmin, width, lo, hi):
    """Expected squared error of quantizing the histogram to 255 steps of
    [lo, hi], for arrays of candidate ends lo and hi."""
    v = vmin + (np.arange(BINS) + 0.5) * width
    lo, hi = np.asarray(lo, np.float64)[:, None], np.asarray(hi, np.float64)[:, None]
    step = (hi - lo) / 255.0
    clip = np.where(v < lo, lo - v, np.where(v > hi, v - hi, 0.0))
    err = np.where(clip > 0.0, clip * clip, step * step / 12.0)
    return (err * h).sum(axis=1)


def choose_range(h, vmin, vmax):
    """engine/src/calibrate.c's choose_range: each end in turn moves to the
    candidate between 0 and its extreme that lowers the error most, twice
    over. vmin, vmax are float32 values, as the histogram's bounds were."""
    lo, hi = min(float(vmin), 0.0), max(float(vmax), 0.0)
    width = float(np.float32(np.float32(vmax) - np.float32(vmin)) / np.float32(BINS))
    if not hi > lo:
        return lo, lo + 1.0
    for _ in range(2):
        for end in (0, 1):
            extreme = max(float(vmax), 0.0) if end else min(float(vmin), 0.0)
            cands = extreme * np.arange(1, CANDIDATES + 1) / CANDIDATES
            a = np.full(CANDIDATES, lo) if end else cands
            b = cands if end else np.full(CANDIDATES, hi)
            ok = b > a
            errors = range_errors(h, float(vmin), width, [lo, *a[ok]], [hi, *b[ok]])
            best = int(np.argmin(errors))  # the first of equals, as the C loop keeps
            if best:
                if end:
                    hi = float(b[ok][best - 1])
                else:
                    lo = float(a[ok][best - 1])
    return lo, hi


def quant_of_range(lo, hi):
    """uint8 scale and zero point of [lo, hi], as engine/src/plan.c's."""
    lo, hi = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    scale = np.float32((hi - lo) / np.float32(255.0))
    if not scale > 0:
        scale = np.float32(1.0 / 255.0)
    zero = int(np.clip(np.rint(-lo / scale), 0, 255))
    return scale, zero


# ---------------------------------------------------------------- graph

def float_tensors(model):
    """Names of the float activations: the graph input and float node outputs."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type
             for v in [*inferred.graph.value_info, *inferred.graph.input,
                       *inferred.graph.output]}
    inits = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    for node in model.graph.node:
        if node.op_type != "Constant":
            names += [o for o in node.output if types.get(o) == TensorProto.FLOAT]
    return names


def to_quantize(model, ops):
    """The activations to put Quantize/DequantizeLinear pairs on, in graph
    order. A Conv or Gemm whose only consumer is a Relu is quantized after
    the Relu: the uint8 range then clips at 0 as the Relu does, ONNX Runtime
    folds the Relu into the QLinearConv, and mnv3 quantizes such a fused
    pair's output alike."""
    graph = model.graph
    users = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node.op_type)
    outputs = {o.name for o in graph.output}
    relu_fused = {node.output[0] for node in graph.node
                  if node.op_type in WEIGHTED and node.output[0] not in outputs
                  and users.get(node.output[0]) == ["Relu"]}
    candidates = float_tensors(model)
    if ops == "all":
        wanted = set(candidates)
    else:
        wanted = set()
        for node in graph.node:
            if node.op_type in WEIGHTED:
                wanted |= {node.input[0], node.output[0]}
            elif node.op_type == "Relu" and node.input[0] in relu_fused:
                wanted.add(node.output[0])
    skip = relu_fused | float_tail(graph)
    return [t for t in candidates if t in wanted and t not in skip]


def float_tail(graph):
    """The tensors between the last Conv or Gemm ops (their outputs
    included) and the graph's output. They stay float, as mnv3's 8-bit plans
    keep the logits float: quantizing LR-ASPP's 21 class maps to 256 levels
    would decide its per-pixel argmax by rounding."""
    producer = {o: node for node in graph.node for o in node.output}
    tail, todo = set(), [o.name for o in graph.output]
    while todo:
        t = todo.pop()
        if t in tail or t not in producer:
            continue
        tail.add(t)
        node = producer[t]
        if node.op_type not in WEIGHTED:
            todo += list(node.input)
    return tail


def with_outputs(model, names):
    """A copy of model whose graph outputs are `names` (to measure them)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.output[:]
    m.graph.output.extend(helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                          for n in names)
    return m


def weight_per_channel(w, axis):
    """Symmetric int8 weights per output channel (along axis) and their
    scales: step max|w| / 127, as engine/src/plan.c requantizes float ones."""
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    scale = np.abs(moved).max(axis=1).astype(np.float32) / np.float32(127.0)
    scale[scale == 0] = 1.0
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def quantize_model(model, quant):
    """The QDQ model: quant maps each activation to (scale, zero point)."""
    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    outputs = {o.name for o in graph.output}
    new_inits, nodes = [], []
    renamed = {}  # graph outputs now made by a DequantizeLinear

    def param(name, value):
        new_inits.append(numpy_helper.from_array(value, name))
        return name

    def q_and_dq_params(t):
        scale, zero = quant[t]
        return (param(t + "/scale", np.array(scale, np.float32)),
                param(t + "/zero", np.array(zero, np.uint8)))

    qparams = {t: q_and_dq_params(t) for t in quant}

    def quantize(t, source):
        nodes.append(helper.make_node("QuantizeLinear", [source, *qparams[t]],
                                      [t + "/q"], name=t + "/Quantize"))
        if t in outputs:  # the graph's output: its float value comes back out
            nodes.append(helper.make_node("DequantizeLinear", [t + "/q", *qparams[t]],
                                          [t], name=t + "/Dequantize"))

    for t in [i.name for i in graph.input if i.name in quant]:
        quantize(t, t)
    for n, node in enumerate(graph.node):
        inputs = list(node.input)
        for i, t in enumerate(inputs):
            # One DequantizeLinear per consumer, as QDQ node groups want.
            if t in quant and node.op_type != "Shape":
                dq = f"{t}/dq{n}"
                nodes.append(helper.make_node("DequantizeLinear", [t + "/q", *qparams[t]],
                                              [dq], name=dq))
                inputs[i] = dq
        if node.op_type in WEIGHTED and inputs[1] in inits and node.input[0] in quant:
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            axis = 0 if node.op_type == "Conv" or trans_b else 1
            w, scale = weight_per_channel(inits[inputs[1]], axis)
            base = node.name or node.output[0]
            zeros = np.zeros(len(scale), np.int8)
            nodes.append(helper.make_node(
                "DequantizeLinear", [param(base + "/w_q", w), param(base + "/w_scale", scale),
                                     param(base + "/w_zero", zeros)],
                [base + "/w"], axis=axis, name=base + "/w"))
            inputs[1] = base + "/w"
            if len(inputs) > 2 and inputs[2] in inits:
                # int32 with the accumulator's scale, as QLinearConv takes it.
                b_scale = (quant[node.input[0]][0] * scale).astype(np.float32)
                b = np.rint(inits[inputs[2]] / b_scale).astype(np.int32)
                nodes.append(helper.make_node(
                    "DequantizeLinear", [param(base + "/b_q", b), param(base + "/b_scale", b_scale),
                                         param(base + "/b_zero", np.zeros(len(b), np.int32))],
                    [base + "/b"], axis=0, name=base + "/b"))
                inputs[2] = base + "/b"
        outs = list(node.output)
        for i, t in enumerate(outs):
            if t in quant and t in outputs:
                outs[i] = renamed[t] = t + "/float"
        nodes.append(helper.make_node(node.op_type, inputs, outs, name=node.name,
                                      domain=node.domain))
        nodes[-1].attribute.extend(node.attribute)
        for t in node.output:
            if t in quant:
                quantize(t, renamed.get(t, t))
    used = {t for node in nodes for t in node.input}
    kept = [i for i in graph.initializer if i.name in used]
    new_graph = helper.make_graph(nodes, graph.name + "-qdq", list(graph.input),
                                  list(graph.output), kept + new_inits)
    out = helper.make_model(new_graph, opset_imports=list(model.opset_import),
                            producer_name="mnv3 bench/onnx/make_qdq.py")
    onnx.checker.check_model(out)
    return out


# ---------------------------------------------------------------- main

def measure(model, names, inputs, shape, workdir, env):
    """{tensor: (min, max, histogram)} over the inputs, from ONNX Runtime."""
    path = os.path.join(workdir, "calibrate.onnx")
    onnx.save(with_outputs(model, names), path)
    proc = subprocess.run(["node", os.path.join(HERE, "ort_ranges.js"), path,
                           ",".join(map(str, shape)), str(BINS), *inputs],
                          capture_output=True, text=True, env=env, cwd=HERE)
    if proc.returncode != 0:
        raise RuntimeError(f"ort_ranges.js failed ({proc.returncode}): {proc.stderr.strip()}")
    stats = json.loads(proc.stdout)
    return {n: (stats[n]["min"], stats[n]["max"], np.array(stats[n]["histogram"]))
            for n in names}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the float ONNX model (batch 1, fixed input size)")
    parser.add_argument("images", help="folder of .jpg/.png calibration images")
    parser.add_argument("output", help="the QDQ model to write")
    parser.add_argument("--crop", type=float, default=1.0,
                        help="centre crop fraction (input.crop; default 1.0)")
    parser.add_argument("--mean", type=float, nargs=3, default=IMAGENET_MEAN)
    parser.add_argument("--std", type=float, nargs=3, default=IMAGENET_STD)
    parser.add_argument("--ops", choices=("conv", "all"), default="all",
                        help="quantize the activations around Conv and Gemm only, or "
                             "every activation (default), which ONNX Runtime runs "
                             "faster: fewer conversions between float and uint8")
    parser.add_argument("--node-modules",
                        help="folder holding onnxruntime-node (default bench/onnx/node_modules)")
    parser.add_argument("--ranges", help="also write the chosen ranges to this JSON file")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.node_modules:
        env["NODE_PATH"] = os.path.abspath(args.node_modules)
    model = onnx.load(args.model)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if len(shape) != 4 or shape[0] != 1 or min(shape) < 1:
        sys.exit(f"make_qdq.py: {args.model}: input shape {shape}, expected 1,3,H,W")
    files = image_files(args.images)
    if not files:
        sys.exit(f"make_qdq.py: {args.images} holds no .jpg or .png image")
    names = to_quantize(model, args.ops)
    with tempfile.TemporaryDirectory(prefix="make-qdq-") as tmp:
        inputs = []
        for i, f in enumerate(files):
            x = preprocess(decode(os.path.join(args.images, f)), shape[2], shape[3],
                           args.crop, args.mean, args.std)
            inputs.append(os.path.join(tmp, f"input{i}.f32"))
            x.astype("<f4").tofile(inputs[-1])
        log(f"measuring {len(names)} activations on {len(files)} images")
        stats = measure(model, names, inputs, shape, tmp, env)
    ranges = {n: choose_range(h, lo, hi) for n, (lo, hi, h) in stats.items()}
    # Data movers take their input's range, so that ONNX Runtime keeps them in uint8.
    for node in model.graph.node:
        if node.op_type in SAME_SCALE and node.output[0] in ranges and node.input[0] in ranges:
            ranges[node.output[0]] = ranges[node.input[0]]
    quant = {n: quant_of_range(*r) for n, r in ranges.items()}
    onnx.save(quantize_model(model, quant), args.output)
    if args.ranges:
        with open(args.ranges, "w") as f:
            json.dump(ranges, f, indent=1)
    log(f"{args.output}: {len(quant)} activations quantized, calibrated on {len(files)} images")


if __name__ == "__main__":
    main()
