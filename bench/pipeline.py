#!/usr/bin/python3
"""Pipeline throughput of mnv3classify and mnv3segment on 1080p video.

Each case runs, in a child process,

  videotestsrc num-buffers=N pattern=P
    ! video/x-raw,format=I420,width=1920,height=1080,framerate=30/1
    ! ELEMENT mode=batch threads=T post-messages=true ! fakesink sync=false

with ELEMENT mnv3classify (MobileNetV3-Large 224x224) or mnv3segment
(LR-ASPP, 21 classes, 256x512 and 512x1024; overlay=true and overlay=false).
All models have seeded random weights (tests/lib/torchmodels.py, seed 7).

Per frame it measures:

  element   time the frame spends in the element, from GStreamer's latency
            tracer (GST_TRACERS="latency(flags=element)": buffer into the
            element until it pushes it on, timed in C in the streaming
            thread), minus the timing floor (the same figure for an
            `identity` in the same place)
  inference the element's own `inference_ms` (bus message of that frame,
            read only every 0.5 s so that no reader thread is woken per
            frame): input preparation + network + reading the result
  outside   element - inference: mapping, metadata, overlay, messages

and, directly with the plugin's own libmnv3 (ctypes, in this process):

  prep      mnv3_context_set_frame on a 1080p I420 frame: the preprocessing
            (crop, bilinear resize, YUV->RGB, normalise) inside `inference`
  post      reading the result inside `inference`: mnv3_context_class_mask
            (segment: the copy of the mask the element's mask-only run
            kept) or mnv3_context_top_k (classify)
  mask run  segment only, logged and in the JSON (engine_parts): a full run
            + mnv3_context_class_mask (the element before mask-only runs)
            against a mask-only run (mnv3_context_set_mask_only: what it
            runs now, the final upsampling a few rows at a time into the
            argmax), same frame, one
            thread; the difference is what mask-only runs save per frame

so that our overhead per frame = outside + prep + post (the cost beyond the
network itself), and network = inference - prep - post. The median overhead
is the sum of the parts' medians; "min" is the sum of their minima (on a
busy machine, other load only ever adds time, so the fastest frame bounds
the element's own cost). Not separated: the element's per-inference class
histogram (one pass over the mask), which stays in `network`.

The baseline is the job our preprocessing does in one pass, done by stock
elements on the same frames, timed the same way (videoscale's time plus
videoconvert's, per frame):

  ... ! videoscale ! videoconvert ! video/x-raw,format=RGB,width=W,height=H
      ! fakesink

fps is the steady-state throughput of the whole pipeline (source, element,
sink in one streaming thread): frames after the warm-up over the time
between their exits from the element.

The machine may be shared: every case is run --rounds times (cases take
turns within a round, in a rotating order), each figure is the median over
rounds, and the CPU share other processes used during each run (all CPU time
minus the child process's own) is recorded: the "load" column is its max over the
case's rounds (100 % = every core busy).

  GST_PLUGIN_PATH=build/gst /usr/bin/python3 bench/pipeline.py [--json out.json]
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 7
WIDTH, HEIGHT = 1920, 1080
SOURCE_CAPS = (f"video/x-raw,format=I420,width={WIDTH},height={HEIGHT},"
               "framerate=30/1")
# The first frames plan buffers and warm caches: left out of every figure.
WARMUP_FRAMES = 3
# Full vs mask-only segmentation runs timed by engine_parts (each a network
# run: a few are enough).
MASK_RUN_REPS = 7

# name: (architecture, classes, height, width)
MODELS = {
    "large224": ("mobilenet_v3_large", 1000, 224, 224),
    "lraspp256": ("lraspp_mobilenet_v3_large", 21, 256, 512),
    "lraspp512": ("lraspp_mobilenet_v3_large", 21, 512, 1024),
}


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- models

def make_models(directory):
    """Writes the seeded random models (torch runs in a child process, so
    that its OpenMP runtime stays out of the measured one)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    import torchmodels
    for name, (arch, classes, h, w) in MODELS.items():
        d = os.path.join(directory, name)
        if os.path.exists(os.path.join(d, "model.yaml")):
            continue
        os.makedirs(d, exist_ok=True)
        model = torchmodels.build(arch, 1.0, classes, seed=SEED)
        torchmodels.save(model, d, arch, 1.0, classes, (h, w))


def model_configs(workdir):
    env = dict(os.environ, MNV3_SOURCE_ROOT=ROOT)
    subprocess.run([sys.executable, os.path.abspath(__file__),
                    "--make-models", workdir], check=True, env=env)
    return {name: os.path.join(workdir, name, "model.yaml") for name in MODELS}


# ---------------------------------------------------------------- load

def cpu_times():
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- GStreamer

def gst():
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    return Gst


ELEMENT_LATENCY = re.compile(
    r"element-latency, .*?element=\(string\)([^,]+), src=\(string\)[^,]+, "
    r"time=\(guint64\)(\d+), ts=\(guint64\)(\d+)")


def run_one(description, element):
    """Child process: plays the pipeline to EOS and prints, as JSON, each
    frame's inference_ms and the element's statistics. The bus is only
    drained every half second, so that no thread is woken per frame: on a
    busy machine a woken reader preempts the streaming thread, and that
    time would show up as the element's."""
    Gst = gst()
    pipeline = Gst.parse_launch(description)
    bus = pipeline.get_bus()
    inference, error, done = {}, None, False
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        error = "cannot start the pipeline"
        done = True
    while not done:
        time.sleep(0.5)
        while True:
            msg = bus.pop()
            if msg is None:
                break
            if msg.type == Gst.MessageType.EOS:
                done = True
            elif msg.type == Gst.MessageType.ERROR:
                err, debug = msg.parse_error()
                error, done = f"{err.message} ({debug})", True
            elif msg.type == Gst.MessageType.ELEMENT:
                st = msg.get_structure()
                if st is not None and st.has_field("inference_ms"):
                    inference[st.get_value("frame")] = st.get_value("inference_ms")
    stats = {}
    if element and not error:
        el = pipeline.get_by_name(element)
        for prop in ("frames-in", "frames-inferred", "mean-inference-ms",
                     "max-inference-ms"):
            stats[prop] = el.get_property(prop)
    pipeline.set_state(Gst.State.NULL)
    json.dump({"error": error, "inference": inference, "stats": stats},
              sys.stdout)
    return 1 if error else 0


def run_pipeline(description, timed, element=None):
    """Plays a pipeline to EOS in a child process, timed by GStreamer's own
    latency tracer (GST_TRACERS="latency(flags=element)": timed in C in the
    streaming thread, no Python there). Returns per-frame time in the
    `timed` elements together (ms), the frames' exit times from the last of
    them (ns), inference_ms by frame number and the element's statistics,
    and the others' CPU share meanwhile."""
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log_file:
        env = dict(os.environ, GST_TRACERS="latency(flags=element)",
                   GST_DEBUG="GST_TRACER:7", GST_DEBUG_NO_COLOR="1",
                   GST_DEBUG_FILE=log_file.name)
        busy0, total0 = cpu_times()
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--run-one",
             description, "--element", element or ""],
            env=env, capture_output=True, text=True)
        busy1, total1 = cpu_times()
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        log_file.seek(0)
        trace = log_file.read()
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = {"error": proc.stderr[-2000:]}
    if proc.returncode != 0 or result.get("error"):
        raise RuntimeError(f"pipeline failed: {result.get('error')}\n  "
                           f"{description}")
    # The child's own CPU time, in jiffies, is not the others' load.
    ours = ((child1.ru_utime + child1.ru_stime)
            - (child0.ru_utime + child0.ru_stime)) * os.sysconf("SC_CLK_TCK")
    load = max(0.0, (busy1 - busy0) - ours) / max(total1 - total0, 1)

    per_element = {name: [] for name in timed}
    for m in ELEMENT_LATENCY.finditer(trace):
        if m.group(1) in per_element:
            per_element[m.group(1)].append((int(m.group(2)), int(m.group(3))))
    counts = {name: len(v) for name, v in per_element.items()}
    if len(set(counts.values())) != 1 or not counts[timed[0]]:
        raise RuntimeError(f"latency tracer gave {counts} frames: {description}")
    times = [sum(per_element[name][i][0] for name in timed) / 1e6
             for i in range(counts[timed[0]])]
    left = [ts for _, ts in per_element[timed[-1]]]
    inference = {int(k): v for k, v in result["inference"].items()}
    return times, left, inference, result["stats"], load


def source(frames, pattern):
    return (f"videotestsrc num-buffers={frames} pattern={pattern} "
            f"! {SOURCE_CAPS} ")


def fps_of(left):
    steady = left[WARMUP_FRAMES:]
    if len(steady) < 2:
        return None
    return (len(steady) - 1) / ((steady[-1] - steady[0]) / 1e9)


def summary(values):
    return {"mean": statistics.fmean(values), "median": statistics.median(values),
            "min": min(values), "max": max(values), "n": len(values)}


# ---------------------------------------------------------------- libmnv3

class Error(ctypes.Structure):
    _fields_ = [("message", ctypes.c_char * 1024)]


class Frame(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("width", ctypes.c_int),
                ("height", ctypes.c_int),
                ("planes", ctypes.POINTER(ctypes.c_uint8) * 3),
                ("strides", ctypes.c_int * 3), ("full_range", ctypes.c_int)]


class ClassScore(ctypes.Structure):
    _fields_ = [("class_id", ctypes.c_int), ("score", ctypes.c_float)]


MNV3_PIXEL_I420 = 10


def libmnv3(Gst):
    """The libmnv3 the plugin itself loaded (dlopen by soname finds the
    already-loaded library), so both measure the same engine build."""
    if Gst.ElementFactory.find("mnv3classify") is None:
        raise RuntimeError("mnv3classify not found: set GST_PLUGIN_PATH to "
                           "the build's gst folder")
    Gst.ElementFactory.make("mnv3classify", None)  # loads the plugin
    lib = ctypes.CDLL("libmnv3.so.1")
    p = ctypes.c_void_p
    lib.mnv3_model_load.restype = p
    lib.mnv3_model_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.POINTER(Error)]
    lib.mnv3_model_unref.argtypes = [p]
    lib.mnv3_context_new.restype = p
    lib.mnv3_context_new.argtypes = [p, ctypes.c_int, ctypes.POINTER(Error)]
    lib.mnv3_context_free.argtypes = [p]
    lib.mnv3_context_set_frame.argtypes = [p, ctypes.c_int,
                                           ctypes.POINTER(Frame), p,
                                           ctypes.POINTER(Error)]
    lib.mnv3_context_run.argtypes = [p, ctypes.c_int, ctypes.POINTER(Error)]
    lib.mnv3_context_output_shape.argtypes = [p] + [ctypes.POINTER(ctypes.c_int)] * 4
    lib.mnv3_context_class_mask.argtypes = [p, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_uint8),
                                            ctypes.c_int]
    lib.mnv3_context_top_k.argtypes = [p, ctypes.c_int, ctypes.c_int,
                                       ctypes.POINTER(ClassScore)]
    lib.mnv3_context_set_mask_only.argtypes = [p, ctypes.c_int,
                                               ctypes.POINTER(Error)]
    lib.mnv3_isa_name.restype = ctypes.c_char_p
    return lib


def i420_frame():
    """A 1080p I420 frame with varied content (a gradient plus noise), and
    the buffers that keep it alive."""
    import random
    rng = random.Random(SEED)
    y = bytes((x * 7 + rng.randrange(32)) & 255 for x in range(WIDTH)) * HEIGHT
    u = bytes(rng.randrange(256) for _ in range(WIDTH // 2)) * (HEIGHT // 2)
    v = bytes(rng.randrange(256) for _ in range(WIDTH // 2)) * (HEIGHT // 2)
    bufs = [ctypes.create_string_buffer(b, len(b)) for b in (y, u, v)]
    f = Frame()
    f.format = MNV3_PIXEL_I420
    f.width, f.height = WIDTH, HEIGHT
    for i, b in enumerate(bufs):
        f.planes[i] = ctypes.cast(b, ctypes.POINTER(ctypes.c_uint8))
    f.strides[0], f.strides[1], f.strides[2] = WIDTH, WIDTH // 2, WIDTH // 2
    return f, bufs


def time_calls(fn, reps):
    fn()  # warm-up
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def engine_parts(lib, config, segment, reps, threads):
    """Times preprocessing (set_frame of a 1080p I420 frame) and result
    reading (class mask / top-5) with the engine directly, on a context of
    the element's thread count (the preprocessing splits rows over it)."""
    err = Error()
    model = lib.mnv3_model_load(config.encode(), None, ctypes.byref(err))
    if not model:
        raise RuntimeError(f"{config}: {err.message.decode()}")
    ctx = lib.mnv3_context_new(model, threads, ctypes.byref(err))
    if not ctx:
        lib.mnv3_model_unref(model)
        raise RuntimeError(f"{config}: {err.message.decode()}")
    try:
        frame, keep = i420_frame()

        def prep():
            if lib.mnv3_context_set_frame(ctx, 0, ctypes.byref(frame), None,
                                          ctypes.byref(err)) != 0:
                raise RuntimeError(err.message.decode())

        prep_ms = time_calls(prep, reps)
        if lib.mnv3_context_run(ctx, 1, ctypes.byref(err)) != 0:
            raise RuntimeError(err.message.decode())
        extra = {}
        if segment:
            dims = [ctypes.c_int() for _ in range(4)]
            lib.mnv3_context_output_shape(ctx, *[ctypes.byref(d) for d in dims])
            h, w = dims[2].value, dims[3].value
            mask = (ctypes.c_uint8 * (h * w))()

            def full_run():
                if lib.mnv3_context_run(ctx, 1, ctypes.byref(err)) != 0:
                    raise RuntimeError(err.message.decode())
                lib.mnv3_context_class_mask(ctx, 0, mask, w)

            def set_mask_only(on):
                if lib.mnv3_context_set_mask_only(ctx, on,
                                                  ctypes.byref(err)) != 0:
                    raise RuntimeError(err.message.decode())

            def mask_run():
                set_mask_only(1)
                full_run()
                set_mask_only(0)

            # Interleaved, so that both see the same load.
            full, fused = [], []
            for _ in range(MASK_RUN_REPS):
                full += time_calls(full_run, 1)
                fused += time_calls(mask_run, 1)
            extra = {"full_run_and_class_mask_ms": summary(full),
                     "mask_only_run_ms": summary(fused)}
            # What the element reads after its mask-only run: the kept mask.
            mask_run()
            post_ms = time_calls(
                lambda: lib.mnv3_context_class_mask(ctx, 0, mask, w), reps)
        else:
            out = (ClassScore * 5)()
            post_ms = time_calls(lambda: lib.mnv3_context_top_k(ctx, 0, 5, out),
                                 reps)
        del keep
    finally:
        lib.mnv3_context_free(ctx)
        lib.mnv3_model_unref(model)
    return summary(prep_ms), summary(post_ms), extra


# ---------------------------------------------------------------- cases

def build_cases(configs, threads, frames, pattern, only):
    """(name, kind, description, first, last, element, extra) per case."""
    cases = []
    src = lambda n: source(n, pattern)  # noqa: E731
    sink = "! fakesink sync=false"
    cases.append({"case": "probe floor (identity)", "kind": "floor",
                  "model": None, "threads": None, "frames": frames["floor"],
                  "desc": src(frames["floor"]) + "! identity name=el " + sink,
                  "timed": ["el"], "element": None})
    for size, (h, w) in (("224x224", (224, 224)), ("256x512", (256, 512)),
                         ("512x1024", (512, 1024))):
        n = frames["baseline"]
        cases.append({
            "case": f"videoscale ! videoconvert -> RGB {size}",
            "kind": "baseline", "model": None, "threads": None, "frames": n,
            "size": size,
            "desc": src(n) + "! videoscale name=scale ! videoconvert name=convert "
                    f"! video/x-raw,format=RGB,width={w},height={h} " + sink,
            "timed": ["scale", "convert"], "element": None})
    for t in threads:
        n = frames["large224"]
        cases.append({
            "case": "mnv3classify Large 224", "kind": "classify",
            "model": "large224", "threads": t, "frames": n, "size": "224x224",
            "desc": src(n) + f"! mnv3classify name=el config={configs['large224']} "
                    f"mode=batch threads={t} post-messages=true " + sink,
            "timed": ["el"], "element": "el"})
        for model, size in (("lraspp256", "256x512"), ("lraspp512", "512x1024")):
            n = frames[model]
            for overlay in ("true", "false"):
                cases.append({
                    "case": f"mnv3segment LR-ASPP {size} overlay={overlay}",
                    "kind": "segment", "model": model, "threads": t,
                    "frames": n, "size": size, "overlay": overlay,
                    "desc": src(n) + f"! mnv3segment name=el config={configs[model]} "
                            f"mode=batch threads={t} overlay={overlay} "
                            "post-messages=true " + sink,
                    "timed": ["el"], "element": "el"})
    if only:
        cases = [c for c in cases if c["kind"] in ("floor", "baseline")
                 or any(o in c["case"] for o in only)]
    return cases


def measure_round(case):
    times, left, inference, stats, load = run_pipeline(
        case["desc"], case["timed"], case["element"])
    r = {"load": load, "loadavg": loadavg(), "fps": fps_of(left),
         "element_ms": summary(times[WARMUP_FRAMES:]), "stats": stats}
    if case["element"]:
        missing = [i for i in range(len(times)) if i not in inference]
        if missing:
            raise RuntimeError(f"{case['case']}: no inference_ms for frames "
                               f"{missing[:5]} (in batch mode every frame is "
                               "inferred)")
        outside = [times[i] - inference[i]
                   for i in range(WARMUP_FRAMES, len(times))]
        r["inference_ms"] = summary([inference[i] for i in
                                     range(WARMUP_FRAMES, len(times))])
        r["outside_ms"] = summary(outside)
    return r


def median_of(rounds, *keys):
    vals = []
    for r in rounds:
        v = r
        for k in keys:
            v = v[k]
        vals.append(v)
    return statistics.median(vals)


def combine(case, rounds, floor, parts):
    """The case's figures: medians over rounds, the probe floor taken off
    the element and baseline times."""
    row = {"case": case["case"], "kind": case["kind"],
           "threads": case["threads"], "size": case.get("size"),
           "frames": case["frames"], "rounds": rounds,
           "load_max": max((r["load"] or 0.0) for r in rounds),
           "fps": median_of(rounds, "fps")}
    for stat in ("median", "mean"):
        row[f"element_{stat}_ms"] = median_of(rounds, "element_ms", stat) - floor
    # Other load only ever adds time: the fastest frame bounds the cost.
    row["element_min_ms"] = min(r["element_ms"]["min"] for r in rounds) - floor
    if case["element"]:
        prep, post, _ = parts[case["model"], case["threads"]]
        row["prep_ms"] = prep
        row["post_ms"] = post
        for stat in ("median", "mean"):
            inf = median_of(rounds, "inference_ms", stat)
            outside = median_of(rounds, "outside_ms", stat) - floor
            row[f"inference_{stat}_ms"] = inf
            row[f"outside_{stat}_ms"] = outside
            row[f"overhead_{stat}_ms"] = outside + prep[stat] + post[stat]
            row[f"network_{stat}_ms"] = inf - prep[stat] - post[stat]
        row["outside_min_ms"] = min(r["outside_ms"]["min"] for r in rounds) - floor
        row["overhead_min_ms"] = (row["outside_min_ms"] + prep["min"]
                                  + post["min"])
        row["stats_mean_inference_ms"] = median_of(rounds, "stats",
                                                   "mean-inference-ms")
    return row


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def table(rows, floor):
    baseline = {r["size"]: r for r in rows if r["kind"] == "baseline"}
    head = ("| case | threads | fps | element ms | inference ms | prep ms | "
            "post ms | outside ms | **overhead ms** median / mean / min | "
            "network ms | baseline ms (same size) median / mean / min | load |")
    lines = [head, "|" + "---|" * 2 + "---:|" * 10]
    for r in rows:
        if r["kind"] == "floor":
            continue
        if r["kind"] == "baseline":
            lines.append(
                f"| {r['case']} | - | {fmt(r['fps'], 1)} | "
                f"{fmt(r['element_median_ms'])} | - | - | - | - | - | - | "
                f"{fmt(r['element_median_ms'])} / {fmt(r['element_mean_ms'])} / "
                f"{fmt(r['element_min_ms'])} | {r['load_max'] * 100:.0f}% |")
            continue
        b = baseline.get(r["size"])
        lines.append(
            f"| {r['case']} | {r['threads']} | {fmt(r['fps'], 1)} | "
            f"{fmt(r['element_median_ms'])} | {fmt(r['inference_median_ms'])} | "
            f"{fmt(r['prep_ms']['median'], 3)} | {fmt(r['post_ms']['median'], 3)} | "
            f"{fmt(r['outside_median_ms'], 3)} | "
            f"**{fmt(r['overhead_median_ms'], 3)}** / {fmt(r['overhead_mean_ms'], 3)} / "
            f"{fmt(r['overhead_min_ms'], 3)} | "
            f"{fmt(r['network_median_ms'])} | "
            f"{fmt(b['element_median_ms']) if b else '-'} | "
            f"{r['load_max'] * 100:.0f}% |")
    lines.append("")
    lines.append(f"timing floor (identity, taken off element/outside/baseline): "
                 f"{floor:.3f} ms")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--make-models", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--run-one", metavar="PIPELINE", help=argparse.SUPPRESS)
    ap.add_argument("--element", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help="where the models go (default: a "
                    "temporary folder; give one to reuse the models)")
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pattern", default="smpte",
                    help="videotestsrc pattern (default smpte)")
    ap.add_argument("--frames", default="120,60,24",
                    help="frames per run: classify,segment 256x512,segment "
                    "512x1024 (the probe floor and baselines use the first)")
    ap.add_argument("--prep-reps", type=int, default=200,
                    help="timed calls of set_frame / the result readers")
    ap.add_argument("--only", action="append", default=[],
                    help="run only cases whose name contains this (repeatable; "
                    "the floor and baselines always run)")
    ap.add_argument("--quick", action="store_true",
                    help="1 round, few frames: a smoke test")
    ap.add_argument("--json", help="write every measurement here")
    args = ap.parse_args()

    if args.make_models:
        make_models(args.make_models)
        return 0
    if args.run_one:
        return run_one(args.run_one, args.element)

    if args.quick:
        args.rounds, args.frames, args.prep_reps = 1, "20,10,6", 20
    nframes = [int(v) for v in args.frames.split(",")]
    if len(nframes) != 3 or min(nframes) <= WARMUP_FRAMES + 1:
        ap.error(f"--frames takes 3 counts, each > {WARMUP_FRAMES + 1}")
    frames = {"large224": nframes[0], "lraspp256": nframes[1],
              "lraspp512": nframes[2], "floor": nframes[0],
              "baseline": nframes[0]}
    threads = [int(t) for t in args.threads.split(",")]

    workdir = args.workdir or tempfile.mkdtemp(prefix="mnv3-pipeline-")
    started = datetime.datetime.now(datetime.timezone.utc)
    log(f"models in {workdir}")
    configs = model_configs(workdir)

    Gst = gst()
    lib = libmnv3(Gst)
    log(f"engine ISA: {lib.mnv3_isa_name().decode()}; load average "
        f"{loadavg()}")

    parts = {}
    for name, config in configs.items():
        for t in threads:
            parts[name, t] = part = engine_parts(
                lib, config, name.startswith("lraspp"), args.prep_reps, t)
            log(f"{name} T={t}: prep {part[0]['median']:.3f} ms, post "
                f"{part[1]['median']:.3f} ms (medians)")
            for key, value in part[2].items():
                log(f"{name} T={t}: {key} median {value['median']:.3f} / min "
                    f"{value['min']:.3f}")

    cases = build_cases(configs, threads, frames, args.pattern, args.only)
    rounds = {c["case"] + str(c["threads"]): [] for c in cases}
    for k in range(args.rounds):
        # Rotate the order so that a burst of outside load does not always
        # hit the same case.
        shift = k % len(cases)
        for case in cases[shift:] + cases[:shift]:
            r = measure_round(case)
            rounds[case["case"] + str(case["threads"])].append(r)
            log(f"round {k + 1}/{args.rounds} {case['case']} "
                f"T={case['threads']}: fps {fmt(r['fps'], 1)}, element "
                f"{r['element_ms']['median']:.3f} ms, load "
                f"{(r['load'] or 0) * 100:.0f}%")

    floor_rounds = rounds[cases[0]["case"] + str(cases[0]["threads"])]
    floor = median_of(floor_rounds, "element_ms", "median")
    rows = [combine(c, rounds[c["case"] + str(c["threads"])],
                    floor if c["kind"] != "floor" else 0.0, parts)
            for c in cases]
    finished = datetime.datetime.now(datetime.timezone.utc)
    print(table(rows, floor))
    print(f"\n{started:%Y-%m-%d %H:%M}-{finished:%H:%M} UTC, "
          f"{os.cpu_count()} CPUs, engine ISA {lib.mnv3_isa_name().decode()}, "
          f"load average at the end {loadavg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"started": started.isoformat(),
                       "finished": finished.isoformat(),
                       "machine": platform.machine(), "cpus": os.cpu_count(),
                       "isa": lib.mnv3_isa_name().decode(),
                       "gstreamer": Gst.version_string(),
                       "pattern": args.pattern, "warmup_frames": WARMUP_FRAMES,
                       "probe_floor_ms": floor,
                       "engine_parts": {f"{k[0]} T={k[1]}": dict(v[2], prep_ms=v[0], post_ms=v[1])
                                        for k, v in parts.items()},
                       "cases": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
