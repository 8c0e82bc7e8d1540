#!/usr/bin/python3
"""Idle costs nothing: mnv3classify (released MobileNetV3-Small) uses CPU
only for the frames it infers, with the automatic thread count and with
threads=2 (the worker pool always used).

- paused: after some frames, a PAUSED pipeline uses (almost) no CPU time
  over a second;
- 5 fps live stream: the process's CPU time over 2 s is at most what the
  same frames cost on one thread in a batch run (measured first), plus a
  margin for splitting and the live pacing: worker threads that spun
  between frames or after each layer would add a large part of a core.
"""

import os
import sys
import time

import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

ROOT = os.environ.get("MNV3_SOURCE_ROOT", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIG = os.path.join(ROOT, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
WEIGHTS = os.path.abspath(os.path.join(ROOT, "..", "shared", "models",
                                       "v3-small_224_1.0_uint8.tflite"))
CAPS = "video/x-raw,format=I420,width=1280,height=720"
results = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    results.append(cond)


def pipeline(threads, live, frames, fps):
    desc = (f"videotestsrc is-live={str(live).lower()} num-buffers={frames} pattern=ball "
            f"! {CAPS},framerate={fps}/1 ! mnv3classify name=net config={CONFIG} "
            f"weights={WEIGHTS} threads={threads} ! fakesink sync={str(live).lower()}")
    return Gst.parse_launch(desc)


def run_to_eos(p):
    p.set_state(Gst.State.PLAYING)
    msg = p.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                         Gst.MessageType.EOS | Gst.MessageType.ERROR)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        raise RuntimeError(f"pipeline failed: {msg.parse_error() if msg else 'timeout'}")


def batch_cpu_per_frame(threads, frames=40):
    p = pipeline(threads, False, frames, 30)
    p.set_state(Gst.State.PAUSED)
    p.get_state(Gst.CLOCK_TIME_NONE)
    cpu0 = time.process_time()
    run_to_eos(p)
    used = time.process_time() - cpu0
    p.set_state(Gst.State.NULL)
    return used / frames


def live_cpu(threads, seconds=2.0, fps=5):
    p = pipeline(threads, True, -1, fps)
    net = p.get_by_name("net")
    p.set_state(Gst.State.PLAYING)
    time.sleep(1.0)  # model loaded, first frames through
    cpu0, inferred0 = time.process_time(), net.get_property("frames-inferred")
    time.sleep(seconds)
    used = time.process_time() - cpu0
    inferred = net.get_property("frames-inferred") - inferred0
    p.set_state(Gst.State.PAUSED)
    time.sleep(0.3)  # past any spin after the last frame
    cpu1 = time.process_time()
    time.sleep(1.0)
    paused = time.process_time() - cpu1
    p.set_state(Gst.State.NULL)
    return used, inferred, paused


def main():
    Gst.init(None)
    per_frame = batch_cpu_per_frame(1)
    for threads in (0, 2):
        used, inferred, paused = live_cpu(threads)
        budget = 1.5 * inferred * per_frame + 0.1
        check(inferred >= 5, f"threads={threads}: {inferred} frames inferred in 2 s at 5 fps")
        check(used <= budget,
              f"threads={threads}: 5 fps live used {used * 1e3:.0f} ms of CPU in 2 s, "
              f"{inferred} frames at {per_frame * 1e3:.1f} ms each on one thread in batch "
              f"(at most {budget * 1e3:.0f})")
        check(paused <= 0.02,
              f"threads={threads}: paused, {paused * 1e3:.1f} ms of CPU in 1 s (at most 20)")
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
