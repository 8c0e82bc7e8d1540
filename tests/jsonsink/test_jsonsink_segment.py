#!/usr/bin/python3
"""mnv3jsonsink behind mnv3classify and mnv3segment together: both keys in
every record, the segmentation results as the element's metadata has them,
stale results flagged, and an empty array (not a missing key) for a frame
without a class over the threshold; two classifiers and a segmenter: every
element's result, named by element and model, with its own stale flag."""

import json
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ["MNV3_SOURCE_ROOT"]
SHARED = os.path.join(SOURCE, "..", "shared")
CONFIG = os.path.join(SOURCE, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
WEIGHTS = os.path.join(SHARED, "models", "v3-small_224_1.0_uint8.tflite")
LRASPP = os.environ["MNV3_GST_LRASPP_CONFIG"]
VOC = os.path.join(SOURCE, "models", "labels", "voc.txt")
FRAMES = 8

RECORD_KEYS = ["frame", "pts", "duration", "classification", "segmentation", "stale",
               "version", "elements"]
ELEMENT_KEYS = ["element", "model", "task", "stale", "inference_frame", "results"]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def run(output, classify_props, segment_interval=2, more=()):
    # A short synthetic clip is enough: the LR-ASPP model has random weights.
    cmd = ["gst-launch-1.0", "-q", "videotestsrc", f"num-buffers={FRAMES}",
           "pattern=ball", "!", "video/x-raw,width=320,height=240,framerate=10/1",
           "!", "mnv3classify", f"config={CONFIG}", f"weights={WEIGHTS}", *classify_props,
           *more, "!", "mnv3segment", "name=seg", f"config={LRASPP}",
           f"inference-interval={segment_interval}", "!",
           "mnv3jsonsink", f"location={output}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    with open(output, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def check_segmentation(records, voc):
    for rec in records:
        i = rec["frame"]
        seg = rec["segmentation"]
        check(len(seg) > 0, f"frame {i}: no segmentation result")
        for r in seg:
            check(list(r) == ["label_id", "label", "fraction"], f"frame {i}: keys {list(r)}")
            check(r["label"] == voc[r["label_id"]],
                  f"frame {i}: label {r['label']!r} for class {r['label_id']}")
        fractions = [r["fraction"] for r in seg]
        check(fractions == sorted(fractions, reverse=True), f"frame {i}: not largest first")
        check(abs(sum(fractions) - 1.0) < 1e-4, f"frame {i}: fractions sum to {sum(fractions)}")
        # mnv3segment runs every other frame: odd frames reuse the result.
        check(rec["stale"] == (i % 2 == 1), f"frame {i}: stale {rec['stale']}")
        if i % 2 == 1:
            prev = next(r for r in records if r["frame"] == i - 1)
            check(seg == prev["segmentation"], f"frame {i}: stale result differs")


def check_elements(records):
    """classify A (inference-interval=2) ! classify B ! segment: fresh
    segmentation is not stale because A's result is."""
    model = os.path.splitext(os.path.basename(CONFIG))[0]
    for rec in records:
        i = rec["frame"]
        elements = rec["elements"]
        if not check([list(e) for e in elements] == [ELEMENT_KEYS] * 3,
                     f"frame {i}: elements {elements}"):
            continue
        check([(e["element"], e["model"], e["task"]) for e in elements] == [
            ("a", model, "classification"), ("b", "b-model", "classification"),
            ("seg", os.path.splitext(os.path.basename(LRASPP))[0], "segmentation")],
            f"frame {i}: names {elements}")
        check([e["stale"] for e in elements] == [i % 2 == 1, False, False],
              f"frame {i}: stale flags {[e['stale'] for e in elements]}")
        check([e["inference_frame"] for e in elements] == [i - i % 2, i, i],
              f"frame {i}: inference frames")
        check(len(elements[1]["results"]) == 1, f"frame {i}: b's top-k=1")
        # The top-level fields are the first classifier's and segmenter's.
        check(rec["classification"] == elements[0]["results"]
              and rec["segmentation"] == elements[2]["results"]
              and rec["stale"] == (i % 2 == 1), f"frame {i}: top-level fields")


def main():
    with open(VOC, encoding="utf-8") as f:
        voc = [line.rstrip("\n") for line in f]
    with tempfile.TemporaryDirectory(prefix="mnv3-jsonsink-seg-") as tmp:
        records = run(os.path.join(tmp, "both.jsonl"), ["top-k=2"])
        check(len(records) == FRAMES, f"{len(records)} records for {FRAMES} frames")
        check([r["frame"] for r in records] == list(range(FRAMES)), "frame numbers")
        for rec in records:
            check(list(rec) == RECORD_KEYS, f"keys {list(rec)}")
            # videotestsrc at 10 fps: exact nanosecond timestamps.
            check(rec["pts"] == rec["frame"] * 100000000
                  and rec["duration"] == 100000000,
                  f"frame {rec['frame']}: pts {rec['pts']}, duration {rec['duration']}")
            check(len(rec["classification"]) == 2, f"frame {rec['frame']}: top-k=2")
            check(rec["version"] == 2 and [e["task"] for e in rec["elements"]]
                  == ["classification", "segmentation"]
                  and [e["stale"] for e in rec["elements"]]
                  == [False, rec["frame"] % 2 == 1],
                  f"frame {rec['frame']}: elements {rec['elements']}")
        check_segmentation(records, voc)

        # B's model is named in its config.
        b_config = os.path.join(tmp, "b.yaml")
        with open(CONFIG, encoding="utf-8") as f, open(b_config, "w", encoding="utf-8") as b:
            b.write(f.read().replace("model:\n", "model:\n  name: b-model\n", 1)
                    .replace("../models/labels/", os.path.join(SOURCE, "models", "labels", "")))
        records = run(os.path.join(tmp, "two.jsonl"),
                      ["name=a", "inference-interval=2"], segment_interval=1,
                      more=["!", "mnv3classify", "name=b", f"config={b_config}",
                            f"weights={WEIGHTS}", "top-k=1"])
        check(len(records) == FRAMES, f"two classifiers: {len(records)} records")
        check_elements(records)

        # No class reaches a confidence of 1: no classification meta at all,
        # yet the key stays, as an empty array.
        records = run(os.path.join(tmp, "none.jsonl"), ["threshold=1.0"])
        check(len(records) == FRAMES, f"threshold: {len(records)} records")
        for rec in records:
            check(list(rec) == RECORD_KEYS and rec["classification"] == []
                  and [e["task"] for e in rec["elements"]] == ["segmentation"],
                  f"threshold=1: frame {rec.get('frame')}: {rec}")
            # Frame numbers then come from the segmentation meta.
        check([r["frame"] for r in records] == list(range(FRAMES)),
              "threshold=1: frame numbers")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
