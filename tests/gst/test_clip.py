#!/usr/bin/python3
"""The real TF-slim MobileNetV3-Small labels the shared slideshow clip
through a plain gst-launch-1.0 pipeline: decodebin ! mnv3classify
post-messages=true ! fakesink, reading the element messages gst-launch-1.0 -m
prints. Expected classes per second: shared/media/video/EXPECTED.txt."""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.environ["MNV3_SOURCE_ROOT"]
SHARED = os.path.join(ROOT, "..", "shared")
CLIP = os.path.join(SHARED, "media", "video",
                    "slideshow_6classes_640x480_mjpeg.avi")
WEIGHTS = os.path.join(SHARED, "models", "v3-small_224_1.0_uint8.tflite")
LABELS = os.path.join(ROOT, "models", "labels", "imagenet-background.txt")

# second -> (acceptable top-1 ids, or None), (id required in the top 3, or None)
EXPECTED = {
    0: ({281, 282, 285}, None),  # a cat
    1: ({934}, None),            # hotdog
    2: ({88}, None),             # macaw
    3: ({335}, None),            # fox squirrel
    4: (None, 967),              # espresso within the top 3
    5: ({985}, None),            # daisy
}

MESSAGE = re.compile(r'from element "mnv3classify0" \(element\): '
                     r'mnv3-classification, (.*)$')
# Top-level fields are plain; those of the nested result structures are
# escaped (label_id\=\(int\)...).
TOP1 = re.compile(r'(?<![\\])label_id=\(int\)(\d+)')
LABEL = re.compile(r'(?<![\\])label=\(string\)("(?:[^"\\]|\\.)*"|[^,;]+)')
NESTED = re.compile(r'label_id\\=\\\(int\\\)(\d+)')
FIELD = {name: re.compile(name + r'=\((?:guint64|boolean)\)(\w+)')
         for name in ("frame", "pts", "stale")}


def main():
    # The project's labels file (with its background line, as the release
    # has); the weights straight from the shared mirror.
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "tfslim.yaml")
        with open(config, "w") as f:
            f.write("model:\n  architecture: mobilenet_v3_small\n"
                    "  num-classes: 1001\n  background-class: true\n"
                    f"  weights: {WEIGHTS}\n"
                    f"labels: {LABELS}\n"
                    "input:\n  size: [224, 224]\n  mean: [0.5, 0.5, 0.5]\n"
                    "  std: [0.5, 0.5, 0.5]\n  crop: 0.875\n")
        cmd = ["gst-launch-1.0", "-m", "filesrc", f"location={CLIP}", "!",
               "decodebin", "!", "mnv3classify", f"config={config}",
               "post-messages=true", "top-k=3", "threads=1", "!", "fakesink"]
        run = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=150)
    if run.returncode != 0:
        sys.exit(f"gst-launch-1.0 failed ({run.returncode}):\n"
                 f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}")

    frames = []
    for line in run.stdout.splitlines():
        m = MESSAGE.search(line)
        if not m:
            continue
        fields = m.group(1)
        values = {k: r.search(fields).group(1) for k, r in FIELD.items()}
        frames.append((int(values["frame"]), int(values["pts"]),
                       values["stale"], int(TOP1.search(fields).group(1)),
                       LABEL.search(fields).group(1).strip('"'),
                       [int(x) for x in NESTED.findall(fields)]))

    errors = []
    if [f[0] for f in frames] != list(range(60)):
        errors.append(f"expected messages for frames 0..59, got "
                      f"{[f[0] for f in frames]}")
    # The config's labels file has the background line the element hides.
    names = {934: "hotdog", 88: "macaw", 985: "daisy"}
    for frame, pts, stale, top1, label, top3 in frames:
        second = pts // 1_000_000_000
        if stale != "false":
            errors.append(f"frame {frame}: stale={stale} with interval 1")
        if len(top3) != 3 or top3[0] != top1:
            errors.append(f"frame {frame}: results {top3}, top-1 {top1}")
        if top1 in names and label != names[top1]:
            errors.append(f"frame {frame}: class {top1} labelled {label!r}")
        ok_top1, in_top3 = EXPECTED[second]
        if ok_top1 is not None and top1 not in ok_top1:
            errors.append(f"frame {frame} (second {second}): top-1 {top1}, "
                          f"expected one of {sorted(ok_top1)}")
        if in_top3 is not None and in_top3 not in top3:
            errors.append(f"frame {frame} (second {second}): {in_top3} not in "
                          f"the top 3 {top3}")
    if errors:
        sys.exit("\n".join(errors))
    print(f"{len(frames)} frames labelled as expected")


if __name__ == "__main__":
    main()
