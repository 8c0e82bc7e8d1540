#!/usr/bin/python3
"""examples/python/mnv3-results.py on the six-photo slideshow with two
classifiers and a segmenter: every element's result on every frame, named
by element and model, each with its own stale flag, the classes of
../shared/media/video/EXPECTED.txt, and mask fractions that match the mask
read as a numpy array."""

import os
import re
import subprocess
import sys
import tempfile

SOURCE = os.environ["MNV3_SOURCE_ROOT"]
SHARED = os.path.join(SOURCE, "..", "shared")
VIDEO_DIR = os.path.join(SHARED, "media", "video")
CLIP = os.path.join(VIDEO_DIR, "slideshow_6classes_640x480_mjpeg.avi")
EXAMPLE = os.path.join(SOURCE, "examples", "python", "mnv3-results.py")
LABELS = os.path.join(SOURCE, "models", "labels", "imagenet-background.txt")
LRASPP = os.environ["MNV3_GST_LRASPP_CONFIG"]
FPS, FRAMES = 10, 60

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def expected_classes():
    """{second: (accepted class ids, how deep in the ranking)} from the
    slideshow's lines of EXPECTED.txt, e.g. "second 4: an espresso cup (967
    espresso within the top 3; 925 consomme can come first)"."""
    expected = {}
    with open(os.path.join(VIDEO_DIR, "EXPECTED.txt"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"# second (\d+): (.*)", line)
            if m:
                text = m.group(2).split(";")[0]
                depth = re.search(r"within the top (\d+)", text)
                expected[int(m.group(1))] = (
                    {int(i) for i in re.findall(r"\b(\d{2,4}) [A-Za-z]", text)},
                    int(depth.group(1)) if depth else 1)
    return expected


def write_config(folder, name, weights, extra=""):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write("model:\n  architecture: mobilenet_v3_small\n  num-classes: 1001\n"
                f"  background-class: true\n  weights: {weights}\n{extra}"
                f"labels: {LABELS}\n"
                "input:\n  size: [224, 224]\n  crop: 0.875\n"
                "  mean: [0.5, 0.5, 0.5]\n  std: [0.5, 0.5, 0.5]\n")
    return path


def parse(line):
    frame, element, model, freshness, *rest = line.split("\t")
    return int(frame), element, model, freshness, rest


def main():
    expected = expected_classes()
    check(len(expected) == 6 and expected[2] == ({88}, 1)
          and expected[4] == ({967}, 3), f"EXPECTED.txt read as {expected}")
    models = os.path.join(SHARED, "models")
    with tempfile.TemporaryDirectory(prefix="mnv3-example-") as tmp:
        slim = write_config(tmp, "slim.yaml",
                            os.path.join(models, "v3-small_224_1.0_uint8.tflite"),
                            "  name: slim uint8\n")
        hub = write_config(tmp, "hub_int8.yaml", os.path.join(
            models, "mobilenet_v3_small_100_224_int8_ptq.tflite"))
        run = subprocess.run(
            [EXAMPLE, CLIP, f"mnv3classify name=a config={slim} top-k=3",
             f"mnv3classify name=b config={hub} top-k=2 inference-interval=2",
             f"mnv3segment name=seg config={LRASPP} overlay=false inference-interval=3"],
            capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        sys.exit(f"{EXAMPLE} failed ({run.returncode}):\n{run.stderr}")
    lines = [parse(line) for line in run.stdout.splitlines()]
    check(len(lines) == 3 * FRAMES, f"{len(lines)} results for {FRAMES} frames")
    seg_model = os.path.splitext(os.path.basename(LRASPP))[0]
    by_frame = {}
    for frame, element, model, freshness, rest in lines:
        by_frame.setdefault(frame, []).append((element, model, freshness, rest))
    check(sorted(by_frame) == list(range(FRAMES)), "frame numbers")

    for frame, results in sorted(by_frame.items()):
        check([(e, m) for e, m, _, _ in results] == [
            ("a", "slim uint8"), ("b", "hub_int8"), ("seg", seg_model)],
            f"frame {frame}: elements and models {results}")
        if len(results) != 3:
            continue
        (_, _, fresh_a, cls_a), (_, _, fresh_b, cls_b), (_, _, fresh_s, seg) = results
        # Each element's own inference-interval: 1, 2 and 3.
        check(fresh_a == "fresh" and fresh_b == ("stale" if frame % 2 else "fresh")
              and fresh_s == ("stale" if frame % 3 else "fresh"),
              f"frame {frame}: stale flags {fresh_a} {fresh_b} {fresh_s}")
        check(len(cls_a) == 3 and len(cls_b) == 2,
              f"frame {frame}: {len(cls_a)} and {len(cls_b)} classes")
        scores = [float(c.rsplit(" ", 1)[1]) for c in cls_a]
        check(scores == sorted(scores, reverse=True), f"frame {frame}: not best first")
        size = re.fullmatch(r"mask (\d+)x(\d+)", seg[0])
        if not check(size is not None, f"frame {frame}: {seg[0]!r}"):
            continue
        pixels = int(size.group(1)) * int(size.group(2))
        fractions = []
        for c in seg[1:]:
            _, fraction, count = c.rsplit(" ", 2)
            fractions.append(float(fraction))
            check(abs(int(count) / pixels - float(fraction)) < 1e-6,
                  f"frame {frame}: mask has {count}/{pixels} of {c}")
        check(abs(sum(fractions) - 1.0) < 1e-4, f"frame {frame}: fractions {fractions}")

    for second, (wanted, depth) in expected.items():
        frames = [by_frame[f][0][3] for f in range(second * FPS, (second + 1) * FPS)
                  if f in by_frame]
        hits = sum(1 for classes in frames
                   if wanted & {int(c.split(" ", 1)[0]) for c in classes[:depth]})
        check(hits * 2 > len(frames), f"second {second}: {hits}/{len(frames)} frames "
              f"have {sorted(wanted)} in the top {depth}")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print(f"{len(lines)} results of {FRAMES} frames as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
