#!/usr/bin/python3
"""The elements run 8-bit configs unchanged: the released TF-slim model's
8-bit config (configs/*.int8.yaml) in mnv3classify, with 2 threads and in
live mode, labels the slideshow as ../shared/media/video/EXPECTED.txt says
(the second's class within its accepted depth, one frame a second), and
mnv3segment runs a post-training quantized LR-ASPP (mnv3-run --quantize of
the tests' seeded random model); both report precision int8 in their
mnv3-stats messages."""

import json
import os
import re
import subprocess
import sys
import tempfile

SOURCE = os.environ["MNV3_SOURCE_ROOT"]
BUILD = os.environ["MNV3_BUILD_ROOT"]
SHARED = os.path.join(SOURCE, "..", "shared")
CLIP = os.path.join(SHARED, "media", "video", "slideshow_6classes_640x480_mjpeg.avi")
FPS = 10

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_example_python import expected_classes  # noqa: E402


def main():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([os.path.join(SOURCE, "models", "fetch"), "--from",
                        os.path.join(SHARED, "models"), "--dest", os.path.join(tmp, "models")],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(SOURCE, "configs",
                               "mobilenet_v3_small_tfslim_uint8.int8.yaml")) as f:
            text = f.read().replace("../models/v3-small", os.path.join(tmp, "models", "v3-small"))
        text = text.replace("../models/labels", os.path.join(SOURCE, "models", "labels"))
        classify = os.path.join(tmp, "classify.int8.yaml")
        with open(classify, "w") as f:
            f.write(text)
        segment = os.path.join(tmp, "lraspp.int8.yaml")
        subprocess.run([os.path.join(BUILD, "tools", "mnv3-run"), "--config",
                        os.environ["MNV3_GST_LRASPP_CONFIG"], "--quantize",
                        os.path.join(SHARED, "media", "images"), "--output", segment],
                       check=True, stderr=subprocess.DEVNULL)
        records = os.path.join(tmp, "out.jsonl")
        out = subprocess.run(
            ["gst-launch-1.0", "-m", "filesrc", f"location={CLIP}", "!", "decodebin", "!",
             "videoconvert", "!", "mnv3classify", f"config={classify}", "threads=2",
             "mode=live", "stats-interval=1", "!", "mnv3segment", f"config={segment}",
             "stats-interval=1", "!", "mnv3jsonsink", f"location={records}"],
            check=True, capture_output=True, text=True).stdout
        stats = re.findall(r"mnv3-stats, .*", out)
        if not stats or any("precision=(string)int8" not in s for s in stats):
            failures.append(f"mnv3-stats without precision int8: {stats[:2]}")
        rows = [json.loads(line) for line in open(records)] if os.path.exists(records) else []
        for second, (accepted, depth) in sorted(expected_classes().items()):
            frame = second * FPS + FPS // 2
            row = next((r for r in rows if r["frame"] == frame), None)
            ranked = [c["label_id"] for c in (row or {}).get("classification", [])][:depth]
            if not accepted & set(ranked):
                failures.append(f"second {second}: top {depth} {ranked}, expected one of {accepted}")
            if row is not None and not row.get("segmentation"):
                failures.append(f"second {second}: no segmentation result")
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(rows)} records, {len(stats)} stats messages, {len(failures)} failures")
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
