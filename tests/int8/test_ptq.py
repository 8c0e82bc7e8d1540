#!/usr/bin/python3
"""Post-training quantization end to end: seeded random torchvision models
(MobileNetV3-Large, -Small at width 0.75, LR-ASPP; random BatchNorm
statistics, as the parity tests make them) are calibrated with
mnv3-run --quantize on the real photos of ../shared/media/images, then the
8-bit configs run on the same photos against their float configs:
classifier logits' cosine similarity >= 0.99, segmentation argmax
agreement >= 97 % per pixel. Prints one JSON line per model and photo.

    test_ptq.py MNV3_RUN MEDIA_IMAGES WORKDIR
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tflite"))
import tflite_ref  # noqa: E402
import torchmodels  # noqa: E402

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])

MODELS = [  # architecture, width, classes, input size (H, W)
    ("mobilenet_v3_large", 1.0, 1000, (224, 224)),
    ("mobilenet_v3_small", 0.75, 1000, (224, 224)),
    ("lraspp_mobilenet_v3_large", 1.0, 21, (256, 512)),
]
MIN_COSINE = 0.99
MIN_AGREEMENT = 0.97


def run_tensor(mnv3_run, config, x, workdir):
    """The engine's raw output for an NCHW float32 input."""
    src, dst = os.path.join(workdir, "in.f32"), os.path.join(workdir, "out.f32")
    x.astype(np.float32).tofile(src)
    subprocess.run([mnv3_run, "--config", config, "--input-tensor", src, "--shape",
                    ",".join(map(str, x.shape)), "--output", dst], check=True)
    return np.fromfile(dst, dtype=np.float32)


def main(mnv3_run, images, workdir):
    photos = sorted(os.path.join(images, f) for f in os.listdir(images)
                    if f.lower().endswith((".jpg", ".png")))
    failures = 0
    for arch, width, classes, size in MODELS:
        directory = os.path.join(workdir, arch)
        os.makedirs(directory, exist_ok=True)
        model = torchmodels.build(arch, width=width, num_classes=classes, seed=3)
        float_config = torchmodels.save(model, directory, arch, width=width,
                                        num_classes=classes, size=size)
        int8_config = os.path.join(directory, "int8", "model.yaml")
        os.makedirs(os.path.dirname(int8_config), exist_ok=True)
        subprocess.run([mnv3_run, "--config", float_config, "--quantize", images,
                        "--output", int8_config], check=True)
        for photo in photos:
            img = tflite_ref.resize_bilinear(tflite_ref.load_rgb(photo), *size)
            x = ((img / 255.0 - IMAGENET_MEAN) / IMAGENET_STD)[None]
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            ref = run_tensor(mnv3_run, float_config, x, workdir)
            got = run_tensor(mnv3_run, int8_config, x, workdir)
            result = {"model": arch, "photo": os.path.basename(photo)}
            if classes == 21:
                ref_mask = ref.reshape(classes, -1).argmax(0)
                got_mask = got.reshape(classes, -1).argmax(0)
                result["argmax_agreement"] = round(float((ref_mask == got_mask).mean()), 4)
                ok = result["argmax_agreement"] >= MIN_AGREEMENT
            else:
                cosine = float(ref @ got / (np.linalg.norm(ref) * np.linalg.norm(got)))
                result["cosine"] = round(cosine, 5)
                result["same_top1"] = bool(ref.argmax() == got.argmax())
                ok = cosine >= MIN_COSINE
            result["ok"] = ok
            failures += not ok
            print(json.dumps(result), flush=True)
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
