"""Shared set-up of the TFLite tests: where things are, and a scratch tree
with the released models installed by models/fetch next to copies of the
configs (which find them as ../models/)."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("MNV3_SOURCE_ROOT", os.path.dirname(os.path.dirname(HERE)))
SHARED = os.path.join(SOURCE_ROOT, "..", "shared")
SHARED_MODELS = os.path.join(SHARED, "models")
IMAGES = os.path.join(SHARED, "media", "images")
FETCH = os.path.join(SOURCE_ROOT, "models", "fetch")

UINT8 = "v3-small_224_1.0_uint8.tflite"
INT8 = "mobilenet_v3_small_100_224_int8_ptq.tflite"
CONFIGS = {
    UINT8: "mobilenet_v3_small_tfslim_uint8.yaml",
    INT8: "mobilenet_v3_small_tfhub_int8.yaml",
}


def photos():
    found = sorted(glob.glob(os.path.join(IMAGES, "*.jpg")) +
                   glob.glob(os.path.join(IMAGES, "*.png")))
    if not found:
        sys.exit("no photos in %s" % IMAGES)
    return found


def expected():
    """EXPECTED.txt rows: file -> [(torchvision class, score) x 3]."""
    rows = {}
    with open(os.path.join(IMAGES, "EXPECTED.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cells = [c.strip() for c in line.split("|")]
            picks = []
            for cell in cells[1:4]:
                words = cell.split()
                picks.append((int(words[0]), float(words[-1])))
            rows[cells[0]] = picks
    return rows


class Tree:
    """A temporary folder with configs/ and models/ (fetched + labels)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="mnv3-tflite-")
        self.models = os.path.join(self.root, "models")
        self.configs = os.path.join(self.root, "configs")
        os.makedirs(self.configs)
        subprocess.run([FETCH, "--from", SHARED_MODELS, "--dest", self.models],
                       check=True, stdout=subprocess.DEVNULL)
        shutil.copytree(os.path.join(SOURCE_ROOT, "models", "labels"),
                        os.path.join(self.models, "labels"))
        for name in CONFIGS.values():
            shutil.copy(os.path.join(SOURCE_ROOT, "configs", name), self.configs)

    def config(self, model):
        return os.path.join(self.configs, CONFIGS[model])

    def model(self, model):
        return os.path.join(self.models, model)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)
