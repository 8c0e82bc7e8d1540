#!/usr/bin/python3
"""pipelines/label-video.sh with the real MobileNetV3-Small on the six-photo
slideshow: one record per decoded frame, in order, in the documented shape,
the expected class in every second (../shared/media/video/EXPECTED.txt), and
byte-identical output whatever the number of threads."""

import json
import os
import re
import subprocess
import sys
import tempfile

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SOURCE = os.environ["MNV3_SOURCE_ROOT"]
SHARED = os.path.join(SOURCE, "..", "shared")
CLIP = os.path.join(SHARED, "media", "video", "slideshow_6classes_640x480_mjpeg.avi")
SCRIPT = os.path.join(SOURCE, "pipelines", "label-video.sh")
CONFIG = os.path.join(SOURCE, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
LABELS = os.path.join(SOURCE, "models", "labels", "imagenet-background.txt")
MODEL = "v3-small_224_1.0_uint8.tflite"
FPS = 10

RECORD_KEYS = ["frame", "pts", "duration", "classification", "stale", "version",
               "elements"]
RESULT_KEYS = ["label_id", "label", "confidence"]

# EXPECTED.txt, per second: (classes accepted, how deep in the ranking).
EXPECTED = {
    0: ({281, 282, 285}, 1),   # a cat: tabby, tiger cat or Egyptian cat
    1: ({934}, 1),             # hotdog
    2: ({88}, 1),              # macaw
    3: ({335}, 1),             # fox squirrel
    4: ({967}, 3),             # espresso (925 consomme may come first)
    5: ({985}, 1),             # daisy
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def decoded_frames(path):
    """The number of frames decodebin gives, counted by a fakesink: the
    reference the JSON records are compared with."""
    Gst.init(None)
    pipeline = Gst.parse_launch(
        f'filesrc location="{path}" ! decodebin ! '
        "fakesink name=sink signal-handoffs=true sync=false")
    count = [0]
    pipeline.get_by_name("sink").connect(
        "handoff", lambda *args: count.__setitem__(0, count[0] + 1))
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(
        120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        sys.exit(f"cannot decode {path}: {msg.parse_error() if msg else 'timeout'}")
    return count[0]


def fetch_model(dest):
    subprocess.run([sys.executable, os.path.join(SOURCE, "models", "fetch"),
                    "--from", os.path.join(SHARED, "models"), "--dest", dest,
                    "--only", MODEL], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(dest, MODEL)


def label(output, *props):
    run = subprocess.run([SCRIPT, CLIP, output, CONFIG, *props],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=600)
    if run.returncode != 0:
        sys.exit(f"label-video.sh {' '.join(props)} failed "
                 f"({run.returncode}):\n{run.stderr}")
    return run.stderr


def check_records(path, labels, n_decoded):
    with open(path, "rb") as f:
        raw = f.read()
    check(raw.endswith(b"\n"), "the file does not end with a newline")
    lines = raw.decode("utf-8").splitlines()
    check(len(lines) == n_decoded,
          f"{len(lines)} records for {n_decoded} decoded frames")

    records = []
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except ValueError as e:
            check(False, f"line {i + 1} is not JSON ({e}): {line[:80]}")
            continue
        records.append(rec)
        if not check(list(rec) == RECORD_KEYS,
                     f"line {i + 1}: keys {list(rec)}, expected {RECORD_KEYS}"):
            continue
        check(rec["frame"] == i, f"line {i + 1}: frame {rec['frame']}, expected {i}")
        check(rec["stale"] is False, f"frame {i}: stale without inference-interval")
        check(isinstance(rec["duration"], int) and rec["duration"] > 0,
              f"frame {i}: duration {rec['duration']}")
        results = rec["classification"]
        check(len(results) == 3, f"frame {i}: {len(results)} classes with top-k=3")
        check(rec["version"] == 2, f"frame {i}: version {rec['version']}")
        # The one classifier's entry: the same classes, named by the
        # element and the config file's stem.
        check([(e["model"], e["task"], e["stale"], e["results"]) for e in rec["elements"]]
              == [(os.path.splitext(os.path.basename(CONFIG))[0], "classification",
                   False, results)], f"frame {i}: elements {rec['elements']}")
        for r in results:
            check(list(r) == RESULT_KEYS, f"frame {i}: result keys {list(r)}")
            # The model has a background class at index 0 of the labels file.
            check(r["label"] == labels[r["label_id"] + 1],
                  f"frame {i}: label {r['label']!r} for class {r['label_id']}")
            check(0.0 < r["confidence"] <= 1.0, f"frame {i}: confidence {r['confidence']}")
        scores = [r["confidence"] for r in results]
        check(scores == sorted(scores, reverse=True), f"frame {i}: not best first")
        # Fixed six-decimal format, independent of the locale.
        # (The classes are written twice: at the top and in "elements".)
        check(len(re.findall(r'"confidence": \d\.\d{6}[,}]', line)) == 2 * len(results),
              f"frame {i}: confidences not printed as %.6f: {line}")

    pts = [r["pts"] for r in records]
    check(all(isinstance(p, int) for p in pts), "a pts is not an integer")
    check(all(b > a for a, b in zip(pts, pts[1:])), "pts do not increase")

    for second, (wanted, depth) in EXPECTED.items():
        frames = [r for r in records if r["frame"] // FPS == second]
        hits = sum(1 for r in frames
                   if wanted & {c["label_id"] for c in r["classification"][:depth]})
        check(hits * 2 > len(frames),
              f"second {second}: {hits}/{len(frames)} frames have {sorted(wanted)} "
              f"in the top {depth}; got "
              f"{[r['classification'][0]['label_id'] for r in frames]}")
    return raw


def check_failures(tmp, weights):
    """Clear messages and a non-zero exit instead of an empty file."""
    missing = os.path.join(tmp, "absent", MODEL)
    run = subprocess.run([SCRIPT, CLIP, os.path.join(tmp, "x.jsonl"), CONFIG,
                          f"weights={missing}"], capture_output=True, text=True)
    check(run.returncode != 0 and "models/fetch" in run.stderr and missing in run.stderr,
          f"missing model: exit {run.returncode}, {run.stderr!r}")

    run = subprocess.run([SCRIPT, CONFIG, os.path.join(tmp, "y.jsonl"), CONFIG,
                          f"weights={weights}"], capture_output=True, text=True)
    check(run.returncode != 0 and "failed" in run.stderr,
          f"undecodable input: exit {run.returncode}, {run.stderr!r}")

    # The element's own error names the file and the reason.
    target = os.path.join(tmp, "no-such-folder", "z.jsonl")
    run = subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=1", "!",
                          "mnv3jsonsink", f"location={target}"],
                         capture_output=True, text=True)
    check(run.returncode != 0 and target in run.stderr
          and os.strerror(2) in run.stderr,
          f"unwritable location: exit {run.returncode}, {run.stderr!r}")


def main():
    with open(LABELS, encoding="utf-8") as f:
        labels = [line.rstrip("\n") for line in f]
    n_decoded = decoded_frames(CLIP)
    check(n_decoded == 60, f"the slideshow decodes to {n_decoded} frames, not 60")

    with tempfile.TemporaryDirectory(prefix="mnv3-jsonsink-") as tmp:
        weights = fetch_model(os.path.join(tmp, "models"))
        out1 = os.path.join(tmp, "threads1.jsonl")
        out2 = os.path.join(tmp, "threads2.jsonl")
        log = label(out1, f"weights={weights}", "top-k=3", "threads=1")
        print(log, end="")
        check(re.search(r"^label-video: 60 frames of ", log, re.M) is not None,
              "the summary does not report 60 frames")
        check("macaw" in log and "daisy" in log, "the summary lacks the top labels")
        raw1 = check_records(out1, labels, n_decoded)
        label(out2, f"weights={weights}", "top-k=3", "threads=2")
        with open(out2, "rb") as f:
            check(f.read() == raw1, "threads=1 and threads=2 give different files")
        check_failures(tmp, weights)

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
