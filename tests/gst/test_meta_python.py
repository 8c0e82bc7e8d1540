#!/usr/bin/python3
"""The metadata is readable from Python without our headers: the
segmentation mask through Gst.Buffer.get_custom_meta, the classification
through its bus message."""

import os
import sys
import warnings

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SHARED = os.path.join(os.environ["MNV3_SOURCE_ROOT"], "..", "shared")
PHOTO = os.path.join(SHARED, "media", "images", "macaw_parrot__coral.jpg")
WEIGHTS = os.path.join(SHARED, "models", "v3-small_224_1.0_uint8.tflite")


def structures(structure, field):
    """The structures of an array field. get_array works without the
    gst-python overrides (python3-gst-1.0), which get_value needs for
    arrays."""
    ok, array = structure.get_array(field)
    assert ok, f"{field} is not an array"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # Copies: the structures belong to the array, freed on return.
        return [array.get_nth(i).copy() for i in range(array.n_values)]


def pull_one(description):
    pipeline = Gst.parse_launch(description)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    sample = sink.emit("try-pull-sample", 60 * Gst.SECOND)
    msgs = []
    bus = pipeline.get_bus()
    while True:
        msg = bus.pop_filtered(Gst.MessageType.ELEMENT | Gst.MessageType.ERROR)
        if msg is None:
            break
        if msg.type == Gst.MessageType.ERROR:
            sys.exit(f"pipeline error: {msg.parse_error()}")
        msgs.append(msg.get_structure())
    pipeline.set_state(Gst.State.NULL)
    if sample is None:
        sys.exit(f"no buffer from {description}")
    return sample.get_buffer(), msgs


def main():
    Gst.init(None)
    src = (f'filesrc location="{PHOTO}" ! decodebin ! videoconvert ! '
           'video/x-raw,format=RGB')

    buf, _ = pull_one(f'{src} ! mnv3segment config="'
                      f'{os.environ["MNV3_GST_LRASPP_CONFIG"]}" overlay=false '
                      '! appsink name=sink')
    meta = buf.get_custom_meta("Mnv3SegmentationMask")
    assert meta is not None, "no Mnv3SegmentationMask meta"
    s = meta.get_structure()
    mask = s.get_value("mask")
    w, h = s.get_value("mask_width"), s.get_value("mask_height")
    ok, info = mask.map(Gst.MapFlags.READ)
    assert ok
    data = bytes(info.data)
    mask.unmap(info)
    assert len(data) == w * h, (len(data), w, h)
    results = structures(s, "results")
    total = 0.0
    for r in results:
        share = sum(1 for v in data if v == r.get_value("label_id")) / (w * h)
        assert abs(share - r.get_value("fraction")) < 1e-9
        assert isinstance(r.get_value("label"), str)
        total += r.get_value("fraction")
    assert abs(total - 1.0) < 1e-9, total
    for name in ("x", "y", "width", "height"):
        assert isinstance(s.get_value(name), int)

    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           f"mnv3-py-{os.getpid()}.yaml"), "w") as f:
        f.write("model:\n  architecture: mobilenet_v3_small\n"
                "  num-classes: 1001\n  background-class: true\n"
                f"  weights: {WEIGHTS}\n"
                "input:\n  size: [224, 224]\n  mean: [0.5, 0.5, 0.5]\n"
                "  std: [0.5, 0.5, 0.5]\n  crop: 0.875\n")
        config = f.name
    try:
        _, msgs = pull_one(f'{src} ! mnv3classify config="{config}" '
                           'post-messages=true ! appsink name=sink')
    finally:
        os.unlink(config)
    assert msgs and msgs[0].get_name() == "mnv3-classification"
    assert msgs[0].get_value("label_id") == 88, msgs[0].to_string()
    top = structures(msgs[0], "results")
    assert top[0].get_value("label_id") == 88
    print("metadata readable from Python")


if __name__ == "__main__":
    main()
