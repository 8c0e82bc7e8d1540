#!/usr/bin/python3
"""Side-by-side latency of mnv3 against ONNX Runtime and PyTorch.

For each model (MobileNetV3-Large 224x224, MobileNetV3-Small 224x224,
LR-ASPP 21 classes 512x1024; batch 1, float32) and each thread count, times:

  ours         mnv3-run --bench (its own process; reports median and min)
  ORT          onnxruntime-node (bench/onnx/ort_bench.js) on the model
               exported with torch.onnx.export, graph optimisation 'all'
  torch eager  the torchvision model in this process
  torch frozen torch.jit.trace + torch.jit.freeze of it

All engines get the same seeded random weights, the same number of warm-up
runs (mnv3-run's built-in 3) and timed runs. Before timing, each peer's output
is compared with torch eager's on the same input (max |diff| <= 1e-4 x
max |eager|, as tests/parity checks the engine); a peer that differs shows
"mismatch" instead of a time. The timed runs are split into rounds and the
engines take turns within each round (in a rotating order), so that a noisy
neighbour on a shared machine hits every engine alike. Each engine's figure
is its best round's median: load from other processes only ever adds time,
so the quietest round is the closest to the engine's own speed (the JSON also
has every round and the median of the round medians). Compare ratios, not
absolute times.

--int8 adds two 8-bit engines, both calibrated on the photos of --images:

  ours int8    mnv3-run --bench on the config mnv3-run --quantize makes
  ORT int8     onnxruntime-node on the QDQ model bench/onnx/make_qdq.py makes
               from the exported one (needs Debian's python3-onnx)

An 8-bit output only approximates the float one, so these are checked on a
photo (the first of --images) against torch eager's float output for it:
the classifiers' logits by cosine similarity (>= 0.9), LR-ASPP's 21 class
maps by the cosine similarity of their spatial variation (each map less its
mean, >= 0.8). Both are loose on purpose: they catch a broken graph (a wrong
scale, layout or channel axis gives about 0), not 8-bit rounding. The seeded
random networks' outputs hardly depend on their input (two photos' float
logits have a cosine of 1 - 1e-14; a constant LR-ASPP class map agrees with
the float argmax on 97-99 % of a photo's pixels), so raw cosine would pass a
broken LR-ASPP body and argmax agreement could not tell one; for the
classifiers the check can only see the head. ORT int8 shows "not integer"
instead of a time unless its optimized graph holds QLinearConv or
ConvInteger nodes; ours int8 must report precision int8. Both are timed on
that photo.

  /usr/bin/python3 bench/compare.py --mnv3-run build/mnv3-run [--int8] [--json out.json]
"""

import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import torchmodels  # noqa: E402

ORT_SCRIPT = os.path.join(ROOT, "bench", "onnx", "ort_bench.js")
MAKE_QDQ = os.path.join(ROOT, "bench", "onnx", "make_qdq.py")
IMAGES = os.path.join(ROOT, "..", "shared", "media", "images")
# mnv3-run --bench always does 3 warm-up runs; every peer gets the same.
WARMUP = 3
TOLERANCE = 1e-4
ONNX_OPSET = 17
SEED = 7

# name: (architecture, width multiplier, classes, height, width)
MODELS = {
    "large": ("mobilenet_v3_large", 1.0, 1000, 224, 224),
    "small": ("mobilenet_v3_small", 1.0, 1000, 224, 224),
    "lraspp": ("lraspp_mobilenet_v3_large", 1.0, 21, 512, 1024),
}
ENGINES = ("ours", "ort", "eager", "frozen")
INT8_ENGINES = ("ours-int8", "ort-int8")
ENGINE_TITLES = {"ours": "ours", "ort": "ORT", "eager": "torch eager",
                 "frozen": "torch trace+freeze", "ours-int8": "ours int8",
                 "ort-int8": "ORT int8"}
# Loose checks of 8-bit outputs against float (see the module's doc).
INT8_MIN_COSINE = 0.9
INT8_MIN_MAP_COSINE = 0.8
INTEGER_OPS = ("QLinearConv", "ConvInteger")


class OutputOnly(torch.nn.Module):
    """LR-ASPP returns {"out": scores}; every engine compares the scores."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        out = self.model(x)
        return out["out"] if isinstance(out, dict) else out


def max_rel_diff(got, ref):
    got = np.asarray(got, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if got.size != ref.size:
        return float("inf")
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))


def log(message):
    print(message, file=sys.stderr, flush=True)


def cosine(a, b):
    a, b = a.ravel(), b.ravel()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))


def int8_check(got, ref, classes):
    """How an 8-bit output compares with the float one; 'mismatch' when
    too far. LR-ASPP's maps (classes x pixels) are compared by their
    variation across the image, which the float output barely has beyond a
    constant per class."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.size != ref.size:
        return {"mismatch": f"output has {got.size} values, float {ref.size}"}
    if ref.size == classes:
        res = {"logits_cosine": cosine(got, ref)}
        value, limit, what = res["logits_cosine"], INT8_MIN_COSINE, "logits' cosine"
    else:
        got, ref = got.reshape(classes, -1), ref.reshape(classes, -1)
        res = {"map_cosine": cosine(got - got.mean(1, keepdims=True),
                                    ref - ref.mean(1, keepdims=True)),
               "argmax_agreement": float((got.argmax(0) == ref.argmax(0)).mean())}
        value, limit, what = res["map_cosine"], INT8_MIN_MAP_COSINE, "class maps' cosine"
    if not value >= limit:
        res["mismatch"] = f"{what} with float {value:.3f} < {limit}"
    return res


def cpu_times():
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def others_load(interval=0.25):
    """Fraction of the machine's CPU time that other processes use while we
    sleep: on a shared machine, the noise in the next measurement."""
    try:
        b0, t0 = cpu_times()
        time.sleep(interval)
        b1, t1 = cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    return (b1 - b0) / max(t1 - t0, 1)


def wait_for_quiet(max_wait, threshold=0.15):
    """Waits up to max_wait seconds for the others' load to fall below
    threshold; returns the last load seen."""
    deadline = time.monotonic() + max_wait
    load = others_load()
    while load is not None and load > threshold and time.monotonic() < deadline:
        load = others_load(0.5)
    return load


# ---------------------------------------------------------------- our engine

def run_ours_check(mnv3_run, config, x, shape, threads, workdir):
    """Our output on x, as a flat float32 array."""
    inp = os.path.join(workdir, "ours_in.f32")
    out = os.path.join(workdir, "ours_out.f32")
    x.astype("<f4").tofile(inp)
    cmd = [mnv3_run, "--config", config, "--input-tensor", inp,
           "--shape", ",".join(map(str, shape)), "--output", out,
           "--threads", str(threads)]
    subprocess.run(cmd, check=True)
    return np.fromfile(out, dtype="<f4")


def time_ours(mnv3_run, config, shape, threads, runs):
    cmd = [mnv3_run, "--config", config, "--bench", str(runs),
           "--shape", ",".join(map(str, shape)), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                           f"{proc.stderr.strip()}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed nothing; expected a JSON line")
    return json.loads(lines[-1])


# ---------------------------------------------------------------- ONNX Runtime

def ort_env(node_modules):
    env = dict(os.environ)
    if node_modules:
        env["NODE_PATH"] = os.path.abspath(node_modules)
    return env


def time_ort(onnx_path, x_path, shape, ref_path, threads, runs, env, warmup=WARMUP,
             options=()):
    cmd = ["node", ORT_SCRIPT, onnx_path, x_path, ",".join(map(str, shape)),
           ref_path, str(threads), str(warmup), str(runs), str(TOLERANCE), *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"ort_bench.js failed ({proc.returncode}): "
                           f"{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ort_available(env):
    """None when node can load onnxruntime-node, else why not."""
    if not shutil.which("node"):
        return "node is not installed (apt-get install nodejs npm)"
    probe = subprocess.run(
        ["node", "-e", "console.log(require('onnxruntime-node').env.versions.node)"],
        capture_output=True, text=True, env=env, cwd=os.path.dirname(ORT_SCRIPT))
    if probe.returncode != 0:
        return ("onnxruntime-node cannot be loaded; run "
                "'npm install --ignore-scripts' in bench/onnx "
                "(or give --node-modules DIR)")
    return None


def ort_version(env):
    probe = subprocess.run(
        ["node", "-e", "console.log(require('onnxruntime-node').env.versions.node)"],
        capture_output=True, text=True, env=env, cwd=os.path.dirname(ORT_SCRIPT))
    return probe.stdout.strip() or None


# ---------------------------------------------------------------- PyTorch

def time_torch(fn, x, ref, threads, runs):
    """Times fn(x); its first and last outputs must match ref."""
    torch.set_num_threads(threads)
    with torch.no_grad():
        out = fn(x)  # first warm-up run, checked
        diff = max_rel_diff(out.numpy(), ref)
        if not diff <= TOLERANCE:
            return {"max_rel_diff": diff,
                    "mismatch": f"output differs from torch eager by {diff:.3g} "
                                f"of max |ref|"}
        for _ in range(WARMUP - 1):
            fn(x)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = fn(x)
            times.append((time.perf_counter() - t0) * 1e3)
    # The profiling JIT rewrites the graph after a few runs: check again.
    diff = max(diff, max_rel_diff(out.numpy(), ref))
    if not diff <= TOLERANCE:
        return {"max_rel_diff": diff,
                "mismatch": f"output after timing differs from torch eager by "
                            f"{diff:.3g} of max |ref|"}
    times.sort()
    return {"median_ms": times[runs // 2], "min_ms": times[0], "max_rel_diff": diff}


# ---------------------------------------------------------------- one model

def prepare_int8(p, engines, args, env):
    """The 8-bit config and QDQ model, calibrated on args.images, and the
    photo that checks them with torch eager's float output for it; returns
    the photo's name."""
    sys.path.insert(0, os.path.dirname(MAKE_QDQ))
    import make_qdq  # needs python3-onnx, only for --int8
    _, _, h, w = p["shape"]
    d = os.path.dirname(p["config"])
    photo = make_qdq.image_files(args.images)[0]
    x = make_qdq.preprocess(make_qdq.decode(os.path.join(args.images, photo)), h, w, 1.0,
                            make_qdq.IMAGENET_MEAN, make_qdq.IMAGENET_STD)
    with torch.no_grad():
        p["photo_ref"] = p["model"](torch.from_numpy(x)).numpy()
    p["photo"], p["photo_path"] = x, os.path.join(d, "photo.f32")
    x.astype("<f4").tofile(p["photo_path"])
    if "ours-int8" in engines:
        p["config_int8"] = os.path.join(d, "model.int8.yaml")
        subprocess.run([args.mnv3_run, "--config", p["config"], "--quantize", args.images,
                        "--output", p["config_int8"]], check=True)
    if "ort-int8" in engines:
        p["onnx_int8"] = os.path.join(d, "model.qdq.onnx")
        subprocess.run([sys.executable, MAKE_QDQ, p["onnx"], args.images, p["onnx_int8"]],
                       check=True, env=env)
    return photo


def prepare(name, workdir, engines):
    """Builds the model, its engine config, ONNX file, input and reference."""
    arch, width, classes, h, w = MODELS[name]
    model = OutputOnly(torchmodels.build(arch, width, classes, seed=SEED)).eval()
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((1, 3, h, w)).astype(np.float32)
    xt = torch.from_numpy(x)
    torch.set_num_threads(1)
    with torch.no_grad():
        ref = model(xt).numpy()
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    p = {"name": name, "arch": arch, "shape": [1, 3, h, w], "x": x, "xt": xt,
         "ref": ref, "model": model}
    p["config"] = torchmodels.save(model.model, d, arch, width, classes, (h, w))
    p["x_path"] = os.path.join(d, "input.f32")
    p["ref_path"] = os.path.join(d, "eager_out.f32")
    x.astype("<f4").tofile(p["x_path"])
    ref.astype("<f4").tofile(p["ref_path"])
    if "ort" in engines or "ort-int8" in engines:
        p["onnx"] = os.path.join(d, "model.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, xt, p["onnx"], opset_version=ONNX_OPSET,
                              input_names=["input"], output_names=["output"])
    if "frozen" in engines:
        with torch.no_grad():
            p["frozen"] = torch.jit.freeze(torch.jit.trace(model, xt))
    return p


def check_int8(p, threads, engines, results, args, env):
    """Checks the 8-bit engines' outputs on the photo and that each ran in
    8 bits, before any timing."""
    workdir = os.path.dirname(p["config"])
    classes = MODELS[p["name"]][2]
    if "ours-int8" in engines:
        res = results["ours-int8"]
        got = run_ours_check(args.mnv3_run, p["config_int8"], p["photo"], p["shape"],
                             threads, workdir)
        res.update(int8_check(got, p["photo_ref"], classes))
    if "ort-int8" in engines:
        res = results["ort-int8"]
        out, optimized = os.path.join(workdir, "ort_int8_out.f32"), p["onnx_int8"] + ".opt"
        probe = time_ort(p["onnx_int8"], p["photo_path"], p["shape"], "-", threads, 1, env,
                         warmup=1, options=["--output", out, "--optimized", optimized])
        res["op_types"] = probe["op_types"]
        res.update(int8_check(np.fromfile(out, dtype="<f4"), p["photo_ref"], classes))
        if not any(probe["op_types"].get(op) for op in INTEGER_OPS):
            res["not_integer"] = True
            res["mismatch"] = ("ONNX Runtime's optimized graph holds no " +
                               " or ".join(INTEGER_OPS) + f": {probe['op_types']}")


def measure(p, threads, runs, rounds, engines, args, env):
    """{engine: result} for one model at one thread count."""
    results = {e: {"rounds": []} for e in engines}
    if "ours" in engines:
        got = run_ours_check(args.mnv3_run, p["config"], p["x"], p["shape"],
                             threads, os.path.dirname(p["config"]))
        diff = max_rel_diff(got, p["ref"])
        results["ours"]["max_rel_diff"] = diff
        if not diff <= TOLERANCE:
            # Still timed (it is our engine), but flagged in the table.
            results["ours"]["mismatch"] = (
                f"output differs from torch eager by {diff:.3g} of max |ref|")
    check_int8(p, threads, engines, results, args, env)
    per_round = [runs // rounds + (1 if r < runs % rounds else 0) for r in range(rounds)]
    for r, n in enumerate(per_round):
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for e in order:
            res = results[e]
            if "mismatch" in res and not is_ours(e):
                continue
            load = wait_for_quiet(args.idle_wait)
            if is_ours(e):
                config = p["config_int8"] if e == "ours-int8" else p["config"]
                out = time_ours(args.mnv3_run, config, p["shape"], threads, n)
                res["isa"] = out.get("isa")
                res["precision"] = out.get("precision")
                if e == "ours-int8" and out.get("precision") != "int8":
                    res["not_integer"] = True
                    res["mismatch"] = f"mnv3-run ran precision {out.get('precision')}"
            elif e == "ort":
                out = time_ort(p["onnx"], p["x_path"], p["shape"], p["ref_path"],
                               threads, n, env)
                res["max_rel_diff"] = out.get("max_rel_diff")
            elif e == "ort-int8":
                out = time_ort(p["onnx_int8"], p["photo_path"], p["shape"], "-",
                               threads, n, env)
            else:
                fn = p["model"] if e == "eager" else p["frozen"]
                out = time_torch(fn, p["xt"], p["ref"], threads, n)
                res["max_rel_diff"] = max(res.get("max_rel_diff", 0.0),
                                          out["max_rel_diff"])
            if "mismatch" in out:
                res["mismatch"] = out["mismatch"]
                continue
            res["rounds"].append({"runs": n, "median_ms": out["median_ms"],
                                  "min_ms": out["min_ms"], "others_load": load})
    for e, res in results.items():
        if res["rounds"] and ("mismatch" not in res or is_ours(e)):
            res["median_ms"] = min(x["median_ms"] for x in res["rounds"])
            res["median_of_rounds_ms"] = statistics.median(
                x["median_ms"] for x in res["rounds"])
            res["min_ms"] = min(x["min_ms"] for x in res["rounds"])
            res["runs"] = sum(x["runs"] for x in res["rounds"])
    return results


def is_ours(engine):
    """Our engines are timed even when their check fails, and flagged."""
    return engine in ("ours", "ours-int8")


# ---------------------------------------------------------------- report

def cell(res):
    if res is None:
        return "-"
    if res.get("not_integer"):
        return "not integer"
    if "median_ms" not in res:
        return "mismatch" if "mismatch" in res else "-"
    flag = "*" if "mismatch" in res else ""
    return f"{res['median_ms']:.2f}{flag}"


def ratio(a, b):
    if a is None or b is None or "median_ms" not in a or "median_ms" not in b:
        return "-"
    return f"{a['median_ms'] / b['median_ms']:.2f}"


def table(rows, thread_counts, int8):
    """Markdown table; rows are the entries of the JSON 'results'. int8 adds
    the 8-bit engines' columns."""
    head = ["model", "threads", "ours ms", "ORT ms", "torch eager ms",
            "torch trace+freeze ms", "ours/ORT", "ours/eager",
            f"ours {max(thread_counts)}T/1T", f"ORT {max(thread_counts)}T/1T"]
    if int8:
        head += ["ours int8 ms", "ORT int8 ms", "ours int8/fp32", "ORT int8/fp32",
                 "ours int8/ORT int8"]
    head.append("others' load")
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|"]
    by_key = {(r["model"], r["threads"]): r for r in rows}
    for r in rows:
        e = r["engines"]
        one = by_key.get((r["model"], 1))
        scale_ours = scale_ort = "-"
        if one and r["threads"] != 1:
            scale_ours = ratio(e.get("ours"), one["engines"].get("ours"))
            scale_ort = ratio(e.get("ort"), one["engines"].get("ort"))
        loads = [x["others_load"] for v in e.values() for x in v["rounds"]
                 if x.get("others_load") is not None]
        row = [r["model"], str(r["threads"]), cell(e.get("ours")), cell(e.get("ort")),
               cell(e.get("eager")), cell(e.get("frozen")),
               ratio(e.get("ours"), e.get("ort")), ratio(e.get("ours"), e.get("eager")),
               scale_ours, scale_ort]
        if int8:
            q, qo = e.get("ours-int8"), e.get("ort-int8")
            row += [cell(q), cell(qo), ratio(q, e.get("ours")), ratio(qo, e.get("ort")),
                    ratio(q, qo)]
        row.append(f"{max(loads):.0%}" if loads else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def dpkg_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                             capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def fma_peak(tool):
    """The one-core FMA peak (GFLOP/s per ISA) from mnv3-bench-kernels --peak,
    or None when the tool is not there."""
    if not tool or not os.access(tool, os.X_OK):
        return None
    proc = subprocess.run([tool, "--peak"], capture_output=True, text=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])["fma_peak_gflops_one_core"]
    except (IndexError, ValueError, KeyError):
        log(f"compare.py: {tool} --peak printed no peak: {proc.stderr.strip()}")
        return None


def file_identity(path):
    """sha256 prefix and modification time: which build of mnv3-run ran."""
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
        mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path)).astimezone()
        return {"sha256_16": digest, "built": mtime.isoformat(timespec="seconds")}
    except OSError:
        return None


def engine_revision():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no", "--", "engine", "tools"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+local changes" if dirty else "") if rev else None
    except OSError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnv3-run", default=os.environ.get(
        "MNV3_RUN", os.path.join(ROOT, "build", "mnv3-run")),
        help="the mnv3-run executable (default $MNV3_RUN or ./build/mnv3-run)")
    parser.add_argument("--runs", type=int, default=None,
                        help="timed runs per engine for the 224x224 models (default 50)")
    parser.add_argument("--lraspp-runs", type=int, default=None,
                        help="timed runs per engine for LR-ASPP 512x1024 (default runs/5, >= 3)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="engines take turns this many times, each round with >= 5 "
                             "runs and its own warm-ups (default 3)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated, from {','.join(MODELS)}")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help=f"comma-separated, from {','.join(ENGINES + INT8_ENGINES)}")
    parser.add_argument("--int8", action="store_true",
                        help="add the 8-bit engines of those chosen: ours int8 with ours, "
                             "ORT int8 with ORT")
    parser.add_argument("--images", default=IMAGES,
                        help="calibration photos for --int8 (default ../shared/media/images)")
    parser.add_argument("--quick", action="store_true",
                        help="10 runs (LR-ASPP 3), one round: a smoke test")
    parser.add_argument("--isa", help="sets MNV3_ISA for our engine (e.g. scalar)")
    parser.add_argument("--node-modules",
                        help="folder holding onnxruntime-node (default bench/onnx/node_modules)")
    parser.add_argument("--idle-wait", type=float, default=3.0,
                        help="before each timing, wait up to this many seconds for "
                             "other processes' CPU load to fall below 15%% (default 3)")
    parser.add_argument("--peak-tool", help="mnv3-bench-kernels, for the one-core FMA "
                        "peak (default: bench/mnv3-bench-kernels in mnv3-run's build)")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--workdir", help="keep the models and ONNX files here")
    args = parser.parse_args()

    runs = args.runs or (10 if args.quick else 50)
    lraspp_runs = args.lraspp_runs or (3 if args.quick else max(3, runs // 5))
    rounds = args.rounds or (1 if args.quick else 3)
    models = [m for m in args.models.split(",") if m]
    engines = [e for e in args.engines.split(",") if e]
    if args.int8:
        engines += [e + "-int8" for e in ("ours", "ort")
                    if e in engines and e + "-int8" not in engines]
    try:
        thread_counts = sorted({int(t) for t in args.threads.split(",") if t})
    except ValueError:
        parser.error(f"--threads takes numbers like 1,2, got '{args.threads}'")
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model '{m}'; choose from {','.join(MODELS)}")
    for e in engines:
        if e not in ENGINES + INT8_ENGINES:
            parser.error(f"unknown engine '{e}'; choose from "
                         f"{','.join(ENGINES + INT8_ENGINES)}")
    if min(thread_counts) < 1 or min(runs, lraspp_runs, rounds) < 1:
        parser.error("--threads, --runs, --lraspp-runs and --rounds must be >= 1")
    if any(is_ours(e) for e in engines) and not os.access(args.mnv3_run, os.X_OK):
        parser.error(f"mnv3-run not found at '{args.mnv3_run}': build it "
                     "(meson setup build && ninja -C build) or give --mnv3-run")
    if args.isa:
        os.environ["MNV3_ISA"] = args.isa
    env = ort_env(args.node_modules)
    ort_engines = [e for e in engines if e in ("ort", "ort-int8")]
    why = ort_available(env) if ort_engines else None
    if why:
        log(f"compare.py: skipping ONNX Runtime: {why}")
        engines = [e for e in engines if e not in ort_engines]
    if "ort-int8" in engines and importlib.util.find_spec("onnx") is None:
        log("compare.py: skipping ORT int8: make_qdq.py needs python3-onnx "
            "(apt-get install python3-onnx)")
        engines.remove("ort-int8")
    int8 = any(e in INT8_ENGINES for e in engines)
    if int8 and not os.path.isdir(args.images):
        parser.error(f"--images: no folder '{args.images}' to calibrate with")

    peak_tool = args.peak_tool or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(args.mnv3_run))),
        "bench", "mnv3-bench-kernels")
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cpus": os.cpu_count(),
        "mnv3_run": os.path.abspath(args.mnv3_run), "source_revision": engine_revision(),
        "mnv3_run_file": file_identity(args.mnv3_run),
        "mnv3_isa_env": os.environ.get("MNV3_ISA"),
        "torch": torch.__version__, "python3-torch": dpkg_version("python3-torch"),
        "libopenblas0-openmp": dpkg_version("libopenblas0-openmp"),
        "onnxruntime-node": ort_version(env) if ort_engines and not why else None,
        "python3-onnx": dpkg_version("python3-onnx") if "ort-int8" in engines else None,
        "node": subprocess.run(["node", "--version"], capture_output=True,
                               text=True).stdout.strip() if shutil.which("node") else None,
        "onnx_opset": ONNX_OPSET, "warmup": WARMUP, "runs": runs,
        "lraspp_runs": lraspp_runs, "rounds": rounds, "tolerance": TOLERANCE,
        "fma_peak_gflops_one_core": fma_peak(peak_tool),
        "int8_images": os.path.abspath(args.images) if int8 else None,
        "int8_min_logits_cosine": INT8_MIN_COSINE if int8 else None,
        "int8_min_map_cosine": INT8_MIN_MAP_COSINE if int8 else None,
        "seed": SEED, "command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
    }
    rows = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mnv3-compare-") as tmp:
        workdir = args.workdir or tmp
        for name in models:
            log(f"compare.py: preparing {name}")
            p = prepare(name, workdir, engines)
            if int8:
                meta["int8_check_image"] = prepare_int8(p, engines, args, env)
            n = lraspp_runs if name == "lraspp" else runs
            for t in thread_counts:
                log(f"compare.py: timing {name} at {t} thread(s), {n} runs x {len(engines)} engines")
                res = measure(p, t, n, max(1, min(rounds, n // 5)), engines, args, env)
                rows.append({"model": name, "architecture": p["arch"], "shape": p["shape"],
                             "threads": t, "engines": res})
                for e, r in res.items():
                    if "mismatch" in r:
                        log(f"compare.py: {name} {t}T {ENGINE_TITLES[e]}: {r['mismatch']}")
    meta["elapsed_s"] = round(time.monotonic() - start, 1)
    loads = [x["others_load"] for r in rows for v in r["engines"].values()
             for x in v["rounds"] if x.get("others_load") is not None]
    if loads:
        meta["others_load_median"] = round(statistics.median(loads), 3)
        meta["others_load_max"] = round(max(loads), 3)
    isas = sorted({r["engines"]["ours"].get("isa") for r in rows
                   if "ours" in r["engines"] and r["engines"]["ours"].get("isa")})
    meta["isa"] = ",".join(isas) or None

    print(f"mnv3 compare: {meta['cpu']} ({meta['cpus']} CPUs), {meta['date']}")
    built = (meta["mnv3_run_file"] or {}).get("built")
    print(f"ours: {meta['mnv3_run']} (built {built}; source tree now at "
          f"{meta['source_revision']}), ISA chosen: {meta['isa']}")
    print(f"torch {meta['torch']} (python3-torch {meta['python3-torch']}), "
          f"onnxruntime-node {meta['onnxruntime-node']}, node {meta['node']}")
    print(f"ms: median of the best of up to {rounds} round(s) of >= 5 runs; {runs} timed "
          f"runs (LR-ASPP {lraspp_runs}) and {WARMUP} warm-ups per round per engine; "
          f"elapsed {meta['elapsed_s']} s")
    if meta["fma_peak_gflops_one_core"]:
        print("one-core FMA peak, GFLOP/s: " + ", ".join(
            f"{k} {v}" for k, v in meta["fma_peak_gflops_one_core"].items()))
    if loads:
        print(f"other processes' CPU load just before each timing: median "
              f"{meta['others_load_median']:.0%}, max {meta['others_load_max']:.0%} "
              "of the machine")
    print()
    print(table(rows, thread_counts, int8))
    for r in rows:
        q = r["engines"].get("ort-int8", {})
        if q.get("op_types") and r["threads"] == thread_counts[0]:
            print(f"\nORT int8 {r['model']}, optimized graph: " + ", ".join(
                f"{op} {n}" for op, n in sorted(q["op_types"].items(), key=lambda x: -x[1])))
    checks = []
    for r in rows:
        for e, res in r["engines"].items():
            figures = [f"{k} {res[k]:.6f}" for k in
                       ("logits_cosine", "map_cosine", "argmax_agreement") if k in res]
            if e in INT8_ENGINES and figures:
                checks.append(f"{r['model']} {r['threads']}T {ENGINE_TITLES[e]} "
                              + ", ".join(figures))
    if checks:
        print(f"\n8-bit against float on {meta['int8_check_image']}: " + "; ".join(checks))
    if any("mismatch" in r["engines"].get("ours", {}) for r in rows):
        print("\n* our output differs from torch eager by more than "
              f"{TOLERANCE:g} of max |ref| (see the JSON)")
    if any("mismatch" in r["engines"].get("ours-int8", {}) for r in rows):
        print("\n* ours int8: failed its check against float (see the JSON)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
            f.write("\n")
    mismatched = [r for r in rows for e, v in r["engines"].items() if "mismatch" in v]
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
