"""mnv3-run --image with Google's released MobileNetV3-Small names the real
photos in shared/media/images as EXPECTED.txt says: the listed top-1 where
it is well ahead of the 2nd (at least twice its score), within the top 3
otherwise; in float arithmetic and in 8-bit (the .int8.yaml config)."""

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.environ["MNV3_SOURCE_ROOT"]
SHARED = os.path.join(ROOT, "..", "shared")
IMAGES = os.path.join(SHARED, "media", "images")


def expectations():
    for line in open(os.path.join(IMAGES, "EXPECTED.txt")):
        if line.startswith("#") or not line.strip():
            continue
        name, *ranked = [f.strip() for f in line.split("|")]
        ids = [int(r.split()[0]) for r in ranked]
        scores = [float(r.split()[-1]) for r in ranked]
        yield name, ids, scores


def main():
    with tempfile.TemporaryDirectory() as models:
        subprocess.run([os.path.join(ROOT, "models", "fetch"), "--from",
                        os.path.join(SHARED, "models"), "--dest", models], check=True)
        weights = os.path.join(models, "v3-small_224_1.0_uint8.tflite")
        cases = list(expectations())
        files = [os.path.join(IMAGES, name) for name, _, _ in cases]
        failed = 0
        for config in ("mobilenet_v3_small_tfslim_uint8.yaml",
                       "mobilenet_v3_small_tfslim_uint8.int8.yaml"):
            out = subprocess.run([os.environ["MNV3_RUN"], "--config",
                                  os.path.join(ROOT, "configs", config), "--weights", weights,
                                  "--top", "3", "--image", *files],
                                 check=True, capture_output=True, text=True).stdout
            results = [json.loads(line) for line in out.splitlines()]
            for (name, ids, scores), result in zip(cases, results, strict=True):
                top = [t["label_id"] for t in result["top"]]
                strict = scores[0] >= 2 * scores[1]
                ok = top[0] == ids[0] if strict else ids[0] in top
                first = result["top"][0]
                print(f"{'PASS' if ok else 'FAIL'} {config} {name}: top-1 "
                      f"{first['label_id']} {first['label']} {first['confidence']:.3f} "
                      f"(expected {ids[0]} {'top-1' if strict else 'in top 3'}; top 3 {top})")
                failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
