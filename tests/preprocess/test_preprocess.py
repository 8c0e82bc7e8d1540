#!/usr/bin/env python3
"""mnv3_preprocess against a plain numpy implementation of the same maths, and
the RGB path on a real photo against torch's F.interpolate.

usage: test_preprocess.py PATH/TO/preprocess_dump
The real photo comes from $MNV3_SOURCE_ROOT/../shared/media/images.
"""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

DUMP = None  # set from argv in __main__
TOL = 1e-4

PACKED = {  # format: (bytes per pixel, offsets of R, G, B)
    "RGB": (3, (0, 1, 2)), "BGR": (3, (2, 1, 0)),
    "RGBX": (4, (0, 1, 2)), "BGRX": (4, (2, 1, 0)),
    "XRGB": (4, (1, 2, 3)), "XBGR": (4, (3, 2, 1)),
    "RGBA": (4, (0, 1, 2)), "BGRA": (4, (2, 1, 0)),
    "ARGB": (4, (1, 2, 3)), "ABGR": (4, (3, 2, 1)),
}
YUV = ("I420", "YV12", "NV12", "NV21")
ALL_FORMATS = list(PACKED) + list(YUV) + ["GRAY8"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ---- reference maths ------------------------------------------------------

def yuv_to_rgb(y, u, v, full_range):
    """BT.601 Y'CbCr -> R'G'B' on 0..255, clamped (float64)."""
    y = y.astype(np.float64)
    u = u.astype(np.float64) - 128.0
    v = v.astype(np.float64) - 128.0
    if full_range:
        yv, cs = y, 1.0
    else:
        yv, cs = (y - 16.0) * 255.0 / 219.0, 255.0 / 224.0
    r = yv + 1.402 * cs * v
    g = yv - 0.344136 * cs * u - 0.714136 * cs * v
    b = yv + 1.772 * cs * u
    return np.clip(np.stack([r, g, b], axis=-1), 0.0, 255.0)


def axis_taps(in_size, out_size):
    """Half-pixel-centre bilinear taps, edge clamped (align_corners=False).
    Coordinates and weights in float32 as torch computes them for float
    tensors (in float64 the weights of a 641-wide row differ by ~6e-5)."""
    f32 = np.float32
    scale = f32(in_size) / f32(out_size)
    src = (np.arange(out_size, dtype=f32) + f32(0.5)) * scale - f32(0.5)
    src = np.maximum(src, f32(0.0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    w1 = (src - i0.astype(f32)).astype(f32)
    w0 = (f32(1.0) - w1).astype(f32)
    return i0, i1, w0.astype(np.float64), w1.astype(np.float64)


def resize_bilinear(img, out_h, out_w):
    """img: H x W x C float64 -> out_h x out_w x C."""
    y0, y1, hy0, hy1 = axis_taps(img.shape[0], out_h)
    x0, x1, wx0, wx1 = axis_taps(img.shape[1], out_w)
    rows = img[y0] * hy0[:, None, None] + img[y1] * hy1[:, None, None]
    return rows[:, x0] * wx0[None, :, None] + rows[:, x1] * wx1[None, :, None]


def normalise(rgb, mean, std):
    return (rgb / 255.0 - np.asarray(mean)) / np.asarray(std)


# ---- frames ---------------------------------------------------------------

class Frame:
    """A frame in one pixel format, its raw planes with padded strides, and
    its samples as the reference resizes them: R, G, B, or for YUV formats
    Y with the nearest U and V (converted to RGB after the resize)."""

    def __init__(self, fmt, width, height, rng, pad=(0, 0, 0), full_range=0,
                 rgb_source=None):
        self.fmt, self.width, self.height = fmt, width, height
        self.full_range = full_range
        cw, ch = (width + 1) // 2, (height + 1) // 2
        if fmt in PACKED:
            bpp, off = PACKED[fmt]
            pix = rng.integers(0, 256, (height, width, bpp), dtype=np.uint8)
            if rgb_source is not None:
                pix[..., list(off)] = rgb_source
            self.samples = pix[..., list(off)].astype(np.float64)
            planes = [pix.reshape(height, width * bpp)]
        elif fmt == "GRAY8":
            y = rng.integers(0, 256, (height, width), dtype=np.uint8)
            self.samples = np.repeat(y[..., None].astype(np.float64), 3, axis=2)
            planes = [y]
        else:
            if rgb_source is not None:
                y, u, v = rgb_to_yuv420(rgb_source)
            else:
                y = rng.integers(0, 256, (height, width), dtype=np.uint8)
                u = rng.integers(0, 256, (ch, cw), dtype=np.uint8)
                v = rng.integers(0, 256, (ch, cw), dtype=np.uint8)
            # Nearest chroma: sample (i // 2, j // 2) covers luma (i, j).
            uf = u[np.arange(height) // 2][:, np.arange(width) // 2]
            vf = v[np.arange(height) // 2][:, np.arange(width) // 2]
            self.samples = np.stack([y, uf, vf], axis=-1).astype(np.float64)
            if fmt in ("I420", "YV12"):  # the caller maps U to planes[1]
                planes = [y, u, v]
            else:
                inter = np.empty((ch, 2 * cw), dtype=np.uint8)
                first, second = (u, v) if fmt == "NV12" else (v, u)
                inter[:, 0::2], inter[:, 1::2] = first, second
                planes = [y, inter]
        # Pad each row with random bytes: reading padding would show.
        self.strides = [0, 0, 0]
        chunks = []
        for i, p in enumerate(planes):
            stride = p.shape[1] + pad[i]
            padded = rng.integers(0, 256, (p.shape[0], stride), dtype=np.uint8)
            padded[:, :p.shape[1]] = p
            self.strides[i] = stride
            chunks.append(padded.tobytes())
        self.raw = b"".join(chunks)


def rgb_to_yuv420(rgb):
    """An RGB uint8 image to limited-range I420 planes (to build real YUV
    content; the exact encoder does not matter for the tests)."""
    rgb = rgb.astype(np.float64)
    h, w = rgb.shape[:2]
    y = 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255
    cb = 128 + (-37.797 * rgb[..., 0] - 74.203 * rgb[..., 1] + 112.0 * rgb[..., 2]) / 255
    cr = 128 + (112.0 * rgb[..., 0] - 93.786 * rgb[..., 1] - 18.214 * rgb[..., 2]) / 255
    ph, pw = (h + 1) // 2 * 2, (w + 1) // 2 * 2
    cb = np.pad(cb, ((0, ph - h), (0, pw - w)), mode="edge")
    cr = np.pad(cr, ((0, ph - h), (0, pw - w)), mode="edge")
    cb = cb.reshape(ph // 2, 2, pw // 2, 2).mean(axis=(1, 3))
    cr = cr.reshape(ph // 2, 2, pw // 2, 2).mean(axis=(1, 3))
    to8 = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return to8(y), to8(cb), to8(cr)


def run_dump(frame, crop, out_h, out_w, mean, std):
    """Runs the C harness; returns (returncode, output array or None, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.f32")
        with open(src, "wb") as f:
            f.write(frame.raw)
        cx, cy, cw, ch = crop if crop is not None else (0, 0, 0, 0)
        args = [DUMP, "frame", frame.fmt, frame.width, frame.height,
                *frame.strides, frame.full_range, cx, cy, cw, ch, out_h, out_w,
                *["%.9g" % m for m in mean], *["%.9g" % s for s in std],
                src, dst]
        res = subprocess.run([str(a) for a in args], capture_output=True,
                             text=True)
        out = None
        if res.returncode == 0:
            out = np.fromfile(dst, dtype=np.float32).reshape(out_h, out_w, 3)
        return res.returncode, out, res.stderr


def to_rgb(frame, samples):
    """Resized samples of the frame's format to RGB on 0..255."""
    if frame.fmt not in YUV:
        return samples
    return yuv_to_rgb(samples[..., 0], samples[..., 1], samples[..., 2],
                      frame.full_range)


def expected(frame, crop, out_h, out_w, mean, std):
    x, y, w, h = crop if crop is not None else (0, 0, frame.width, frame.height)
    region = frame.samples[y:y + h, x:x + w]
    return normalise(to_rgb(frame, resize_bilinear(region, out_h, out_w)),
                     mean, std)


def random_crop(rng, width, height):
    w = int(rng.integers(1, width + 1))
    h = int(rng.integers(1, height + 1))
    return (int(rng.integers(0, width - w + 1)),
            int(rng.integers(0, height - h + 1)), w, h)


# ---- tests ----------------------------------------------------------------

class AgainstNumpy(unittest.TestCase):
    def check(self, frame, crop, out_h, out_w, mean, std):
        code, got, err = run_dump(frame, crop, out_h, out_w, mean, std)
        what = "%s %dx%d strides %s range %d crop %s -> %dx%d" % (
            frame.fmt, frame.width, frame.height, frame.strides,
            frame.full_range, crop, out_w, out_h)
        self.assertEqual(code, 0, "%s failed: %s" % (what, err))
        want = expected(frame, crop, out_h, out_w, mean, std)
        diff = np.abs(got.astype(np.float64) - want).max()
        self.assertLess(diff, TOL, "%s: max abs diff %g" % (what, diff))

    def test_every_format_odd_sizes_padded_strides_random_crops(self):
        rng = np.random.default_rng(20240601)
        sizes = [(641, 479), (1, 1), (3, 2), (2, 3), (5, 7)]
        outputs = [(224, 224), (7, 5), (1, 1), (3, 600)]  # 600 > stack width
        for fmt in ALL_FORMATS:
            for (w, h) in sizes:
                for full_range in ((0, 1) if fmt in YUV else (0,)):
                    pad = tuple(int(p) for p in rng.integers(0, 13, 3))
                    frame = Frame(fmt, w, h, rng, pad, full_range)
                    mean = tuple(rng.uniform(0.2, 0.6, 3))
                    std = tuple(rng.uniform(0.15, 0.5, 3))
                    crops = [None, (0, 0, w, h)] + [random_crop(rng, w, h)
                                                    for _ in range(3)]
                    for i, crop in enumerate(crops):
                        out_h, out_w = outputs[i % len(outputs)]
                        with self.subTest(fmt=fmt, size=(w, h), crop=crop,
                                          full_range=full_range):
                            self.check(frame, crop, out_h, out_w, mean, std)

    def test_odd_crop_offsets_hit_the_right_chroma(self):
        # A crop starting at an odd x/y must read chroma of the frame's own
        # 2x2 blocks, not of blocks relative to the crop.
        rng = np.random.default_rng(7)
        for fmt in YUV:
            frame = Frame(fmt, 9, 7, rng, (3, 1, 2))
            for crop in [(1, 1, 5, 5), (3, 5, 6, 1), (8, 6, 1, 1)]:
                with self.subTest(fmt=fmt, crop=crop):
                    self.check(frame, crop, crop[3], crop[2], (0, 0, 0),
                               (1, 1, 1))

    def test_identity_size_is_exact_copy(self):
        # Same size in and out: every weight is 0/1, the output is the pixels.
        rng = np.random.default_rng(3)
        frame = Frame("BGRA", 31, 17, rng, (5, 0, 0))
        code, got, err = run_dump(frame, None, 17, 31, (0, 0, 0), (1, 1, 1))
        self.assertEqual(code, 0, err)
        np.testing.assert_array_equal(np.rint(got * 255.0), frame.samples)
        self.assertLess(np.abs(got * 255.0 - frame.samples).max(), 1e-3)

    def test_invalid_arguments_fail_with_a_message(self):
        rng = np.random.default_rng(11)
        frame = Frame("RGB", 8, 6, rng)
        norm = ((0.5,) * 3, (0.5,) * 3)
        for crop in [(1, 0, 8, 6), (0, 1, 8, 6), (-1, 0, 2, 2), (0, 0, 9, 3),
                     (7, 5, 2, 1)]:
            with self.subTest(crop=crop):
                code, _, err = run_dump(frame, crop, 4, 4, *norm)
                self.assertEqual(code, 2)
                self.assertIn("does not lie within", err)
        code, _, err = run_dump(frame, None, 0, 4, *norm)
        self.assertEqual(code, 2)
        self.assertIn("output size", err)
        code, _, err = run_dump(frame, None, 4, 4, (0.5,) * 3, (0.5, 0.0, 0.5))
        self.assertEqual(code, 2)
        self.assertIn("std", err)
        short = Frame("RGB", 8, 6, rng)
        short.strides[0] = 23  # below 8 * 3; the raw data has 23 * 6 bytes
        short.raw = short.raw[:23 * 6]
        code, _, err = run_dump(short, None, 4, 4, *norm)
        self.assertEqual(code, 2)
        self.assertIn("stride 23", err)


class CentreCrop(unittest.TestCase):
    def crop(self, w, h, fraction):
        out = subprocess.run([DUMP, "centre-crop", str(w), str(h),
                              repr(fraction)], capture_output=True, text=True,
                             check=True).stdout.split()
        return tuple(int(v) for v in out)

    def test_matches_tf_central_crop(self):
        # tf.image.central_crop: start = int((side - side * f) / 2),
        # size = side - 2 * start.
        def tf(side, f):
            start = int((side - side * f) / 2)
            return start, side - 2 * start
        rng = np.random.default_rng(5)
        cases = [(1280, 720, 0.875), (641, 479, 0.875), (224, 224, 1.0),
                 (3, 2, 0.5), (1, 1, 0.875), (500, 375, 0.875)]
        cases += [(int(rng.integers(1, 3000)), int(rng.integers(1, 3000)),
                   float(rng.uniform(0.05, 1.0))) for _ in range(200)]
        for w, h, f in cases:
            (x, cw), (y, ch) = tf(w, f), tf(h, f)
            self.assertEqual(self.crop(w, h, f), (x, y, cw, ch), (w, h, f))

    def test_known_values(self):
        self.assertEqual(self.crop(1280, 720, 0.875), (80, 45, 1120, 630))
        self.assertEqual(self.crop(640, 480, 1.0), (0, 0, 640, 480))
        # fraction out of (0, 1] keeps the whole frame
        self.assertEqual(self.crop(640, 480, 0.0), (0, 0, 640, 480))
        self.assertEqual(self.crop(640, 480, 1.5), (0, 0, 640, 480))


class AgainstTorch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from PIL import Image
        root = os.environ.get("MNV3_SOURCE_ROOT")
        if not root:
            raise RuntimeError("MNV3_SOURCE_ROOT is not set; run through meson test")
        path = os.path.join(root, "..", "shared", "media", "images",
                            "cat_720p__coral.jpg")
        with Image.open(path) as img:
            cls.photo = np.asarray(img.convert("RGB"))

    def torch_reference(self, rgb, crop, out_h, out_w, mean, std):
        import torch
        import torch.nn.functional as F
        x, y, w, h = crop
        t = torch.from_numpy(np.ascontiguousarray(rgb[y:y + h, x:x + w]))
        t = t.permute(2, 0, 1).unsqueeze(0).to(torch.float32) / 255.0
        t = F.interpolate(t, size=(out_h, out_w), mode="bilinear",
                          align_corners=False, antialias=False)
        t = (t - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
        return t[0].permute(1, 2, 0).numpy().astype(np.float64)

    def test_photo_rgb_formats_match_torch(self):
        rng = np.random.default_rng(1)
        h, w = self.photo.shape[:2]
        crop = CentreCrop.crop(self, w, h, 0.875)
        for fmt in ("RGB", "BGRX", "ABGR"):
            frame = Frame(fmt, w, h, rng, (8, 0, 0), rgb_source=self.photo)
            for out in [(224, 224), (513, 700)]:
                with self.subTest(fmt=fmt, out=out):
                    code, got, err = run_dump(frame, crop, *out, IMAGENET_MEAN,
                                              IMAGENET_STD)
                    self.assertEqual(code, 0, err)
                    want = self.torch_reference(self.photo, crop, *out,
                                                IMAGENET_MEAN, IMAGENET_STD)
                    diff = np.abs(got - want).max()
                    self.assertLess(diff, TOL, "max abs diff %g" % diff)

    def test_photo_yuv_equals_torch_resize_of_the_planes_then_bt601(self):
        # Resizing the frame's Y, U and V planes with torch (chroma upsampled
        # to the luma grid, nearest) and converting the result to RGB must
        # give what the engine computes straight from NV12.
        import torch
        import torch.nn.functional as F
        rng = np.random.default_rng(2)
        h, w = self.photo.shape[:2]
        frame = Frame("NV12", w, h, rng, (4, 6, 0), rgb_source=self.photo)
        crop = (101, 37, 901, 599)  # odd offsets and sizes
        code, got, err = run_dump(frame, crop, 224, 224, IMAGENET_MEAN,
                                  IMAGENET_STD)
        self.assertEqual(code, 0, err)
        x, y, cw, ch = crop
        planes = torch.from_numpy(
            frame.samples[y:y + ch, x:x + cw].astype(np.float32))
        planes = planes.permute(2, 0, 1).unsqueeze(0)
        resized = F.interpolate(planes, size=(224, 224), mode="bilinear",
                                align_corners=False, antialias=False)
        resized = resized[0].permute(1, 2, 0).numpy().astype(np.float64)
        want = normalise(to_rgb(frame, resized), IMAGENET_MEAN, IMAGENET_STD)
        diff = np.abs(got - want).max()
        self.assertLess(diff, TOL, "max abs diff %g" % diff)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    DUMP = sys.argv.pop(1)
    unittest.main(verbosity=2)
