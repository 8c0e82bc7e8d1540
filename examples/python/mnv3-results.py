#!/usr/bin/python3
"""Prints every mnv3 result of every frame of a video, read from the buffers'
metadata with plain GObject introspection (python3-gi, python3-gst-1.0) and
numpy.

  examples/python/mnv3-results.py VIDEO ELEMENT [ELEMENT ...]

Each ELEMENT is an mnv3classify or mnv3segment with its properties, as
gst-launch-1.0 writes them, e.g.

  examples/python/mnv3-results.py clip.avi \\
      "mnv3classify name=slim config=configs/mobilenet_v3_small_tfslim_uint8.yaml top-k=3" \\
      "mnv3classify name=hub config=configs/mobilenet_v3_small_tfhub_int8.yaml inference-interval=2"

One line per result, tab-separated: frame, element, model, fresh or stale,
then "LABEL_ID LABEL CONFIDENCE" per class, best first. A segmentation
result has "mask WIDTHxHEIGHT" after "fresh" or "stale", then
"LABEL_ID LABEL FRACTION PIXELS" per class present, largest first, where
PIXELS is counted in the mask itself. (Run from the repository without
installing: GST_PLUGIN_PATH=build/gst.)
"""

import sys

import gi
import numpy

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

KINDS = ("mnv3-classification", "mnv3-segmentation")


def mnv3_results(buffer):
    """(kind, param) of every mnv3 element's result on the buffer, upstream
    element first. GI cannot iterate a buffer's metas, but each mnv3 region
    of interest meta has the number of metas before it as its id."""
    roi_api = GstVideo.VideoRegionOfInterestMeta.get_info().api
    for roi_id in range(buffer.get_n_meta(roi_api)):
        roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buffer, roi_id)
        kind = GLib.quark_to_string(roi.roi_type) if roi else None
        if kind in KINDS:
            yield kind, roi.get_param(kind)


def mask_array(param):
    """The class mask as a height x width numpy array of class ids."""
    mask = param.get_value("mask")
    height, stride = param.get_value("mask_height"), param.get_value("mask_stride")
    ok, info = mask.map(Gst.MapFlags.READ)
    if not ok:
        raise RuntimeError("cannot map the mask")
    try:
        rows = numpy.frombuffer(info.data, numpy.uint8).reshape(height, stride)
        return rows[:, :param.get_value("mask_width")].copy()
    finally:
        mask.unmap(info)


def describe(kind, param):
    fields = [str(param.get_value("frame")), param.get_value("element"),
              param.get_value("model"),
              "stale" if param.get_value("stale") else "fresh"]
    classes = param.get_value("results")
    if kind == "mnv3-classification":
        fields += [f'{c.get_value("label_id")} {c.get_value("label")} '
                   f'{c.get_value("confidence"):.6f}' for c in classes]
    else:
        mask = mask_array(param)
        pixels = numpy.bincount(mask.ravel(), minlength=256)
        fields.append(f"mask {mask.shape[1]}x{mask.shape[0]}")
        fields += [f'{c.get_value("label_id")} {c.get_value("label")} '
                   f'{c.get_value("fraction"):.6f} {pixels[c.get_value("label_id")]}'
                   for c in classes]
    return "\t".join(fields)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    Gst.init(None)
    video = argv[1].replace("\\", "\\\\").replace('"', '\\"')
    pipeline = Gst.parse_launch(
        f'filesrc location="{video}" ! decodebin ! videoconvert ! '
        + " ! ".join(argv[2:]) + " ! appsink name=sink sync=false")
    sink = pipeline.get_by_name("sink")
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    error = None
    while not sink.get_property("eos") and error is None:
        # An error stops the stream without an end: look at the bus between
        # samples.
        sample = sink.emit("try-pull-sample", Gst.SECOND // 10)
        if sample is not None:
            for kind, param in mnv3_results(sample.get_buffer()):
                print(describe(kind, param))
        error = bus.pop_filtered(Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if error:
        err, debug = error.parse_error()
        sys.exit(f"{argv[0]}: {err.message} ({debug})")


if __name__ == "__main__":
    main(sys.argv)
