"""A released model with one corrupted quantization scale (found by the
tflite fuzzer: a scale of about -4.6e37 made a bias -inf) is refused with a
message, instead of loading non-finite weights."""

import os
import subprocess
import sys
import tempfile

ROOT = os.environ["MNV3_SOURCE_ROOT"]
MODEL = os.path.join(ROOT, "..", "shared", "models",
                     "mobilenet_v3_small_100_224_int8_ptq.tflite")
CONFIG = os.path.join(ROOT, "configs", "mobilenet_v3_small_tfhub_int8.yaml")
OFFSET = 2959031  # a byte of the classifier bias's scale


def main():
    data = bytearray(open(MODEL, "rb").read())
    assert data[OFFSET] == 0x38, "the shared model is not the expected release"
    data[OFFSET] = 0xFE
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(data)
        f.flush()
        proc = subprocess.run([os.environ["MNV3_RUN"], "--config", CONFIG, "--weights",
                               f.name, "--bench", "1"], capture_output=True, text=True)
    print(proc.stderr.strip())
    ok = (proc.returncode == 1 and "quantization scale" in proc.stderr
          and "the model is corrupt" in proc.stderr)
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
