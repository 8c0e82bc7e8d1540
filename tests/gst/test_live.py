#!/usr/bin/python3
"""Live mode of mnv3classify (the shared base class of both elements).

An artificially slow model (MobileNetV3-Large, seeded random weights, at
1024x1024, several times slower than a 30 fps frame period) runs behind a live
1280x720 30 fps videotestsrc for 3 s:

- live (mode=auto on a live source): the sink still gets every frame, on
  time against the pipeline clock; skipped frames carry the last result
  marked stale; frames-skipped > 0; the LATENCY query answers at least the
  inference time measured on the frames; a latency message was posted;
  mnv3-stats messages come periodically and at EOS; fps and average-fps
  are the source's 30 fps.
- batch (mode=batch, same source and model): nothing is skipped nor dropped,
  even with a QoS-enabled synchronising sink.
- auto on a non-live source is batch.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import torchmodels  # noqa: E402

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

FPS = 30
FRAME = Gst.SECOND // FPS
SIZE = 1024         # network input: several times slower than a frame period (SIMD: ~100 ms)
LIVE_FRAMES = 90    # 3 s
BATCH_FRAMES = 8

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(config, frames, mode, live_source=True, stats_interval=0):
    """Runs the pipeline to EOS; returns what the sink, the bus and the
    element saw."""
    desc = (f"videotestsrc is-live={str(live_source).lower()} "
            f"num-buffers={frames} pattern=ball "
            f"! video/x-raw,format=I420,width=1280,height=720,framerate={FPS}/1 "
            f"! mnv3classify name=net config={config} threads=2 mode={mode} "
            f"post-messages=true stats-interval={stats_interval} "
            # The queue lets the network work while the sink waits for the
            # clock (see the element's documentation on live pipelines).
            "! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 "
            "! fakesink name=sink sync=true qos=true signal-handoffs=true")
    pipeline = Gst.parse_launch(desc)
    net = pipeline.get_by_name("net")
    sink = pipeline.get_by_name("sink")
    seen = {"pts": [], "lateness": [], "frames": {}, "stats": [],
            "latency_messages": 0}

    def on_handoff(element, buffer, pad):
        clock = pipeline.get_clock()
        now = clock.get_time() - pipeline.get_base_time()
        seen["pts"].append(buffer.pts)
        seen["lateness"].append((now, buffer.pts))

    sink.connect("handoff", on_handoff)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    start = time.monotonic()
    eos = False
    while not eos:
        msg = bus.timed_pop(10 * Gst.SECOND)
        if msg is None:
            sys.exit(f"{mode}: no message for 10 s (pipeline stuck)")
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            sys.exit(f"{mode}: pipeline error: {err.message}\n{debug}")
        elif msg.type == Gst.MessageType.EOS:
            eos = True
        elif msg.type == Gst.MessageType.LATENCY:
            if msg.src == net:
                seen["latency_messages"] += 1
            pipeline.recalculate_latency()
        elif msg.type == Gst.MessageType.ELEMENT and msg.src == net:
            s = msg.get_structure()
            if s.get_name() == "mnv3-classification":
                seen["frames"][s.get_value("frame")] = {
                    k: s.get_value(k) for k in
                    ("inference_frame", "stale", "skipped")}
                if s.has_field("inference_ms"):
                    seen["frames"][s.get_value("frame")]["inference_ms"] = \
                        s.get_value("inference_ms")
            elif s.get_name() == "mnv3-stats":
                seen["stats"].append({k: s.get_value(k) for k in (
                    "frames-in", "frames-inferred", "frames-skipped",
                    "mean-inference-ms", "max-inference-ms", "fps", "average-fps",
                    "eos")})
    seen["wall"] = time.monotonic() - start

    # Still PLAYING at EOS: what does the element add to the latency, and
    # what does upstream say on its own?
    q = Gst.Query.new_latency()
    check(net.get_static_pad("src").query(q), f"{mode}: LATENCY query failed")
    seen["query"] = q.parse_latency()
    q = Gst.Query.new_latency()
    net.get_static_pad("sink").peer_query(q)
    seen["upstream_query"] = q.parse_latency()
    seen["pipeline_latency"] = pipeline.get_latency()

    for prop in ("live", "frames-in", "frames-inferred", "frames-skipped",
                 "mean-inference-ms", "max-inference-ms", "fps", "average-fps"):
        seen[prop] = net.get_property(prop)
    pipeline.set_state(Gst.State.NULL)
    return seen


def check_live(config):
    seen = run(config, LIVE_FRAMES, "auto", stats_interval=1)
    print(f"live: {seen['frames-in']} in, {seen['frames-inferred']} inferred, "
          f"{seen['frames-skipped']} skipped, mean "
          f"{seen['mean-inference-ms']:.1f} ms, max "
          f"{seen['max-inference-ms']:.1f} ms, {len(seen['pts'])} frames out "
          f"in {seen['wall']:.2f} s, latency {seen['query']}")
    check(seen["live"], "auto on a live source is not live mode")

    # Every frame reaches the sink, in order, without gaps.
    pts = seen["pts"]
    check(len(pts) == LIVE_FRAMES,
          f"live: the sink got {len(pts)} frames, not {LIVE_FRAMES}")
    check(all(b - a == FRAME or abs(b - a - FRAME) <= 1
              for a, b in zip(pts, pts[1:])),
          "live: the sink's timestamps are not one frame apart")

    # The frame rate holds: frames are rendered at their deadline (running
    # time + latency), not later, apart from a few around latency changes
    # and CPU hiccups.
    latency = seen["pipeline_latency"]
    late = [now - (p + latency) for now, p in seen["lateness"]]
    on_time = sum(1 for x in late if x < 100 * Gst.MSECOND)
    check(on_time >= 0.8 * LIVE_FRAMES,
          f"live: only {on_time} of {LIVE_FRAMES} frames were rendered within "
          f"100 ms of their deadline (latency {latency / 1e6:.0f} ms)")
    last_render = seen["lateness"][-1][0]
    check(last_render < pts[-1] + latency + 500 * Gst.MSECOND,
          f"live: the last frame came {(last_render - pts[-1]) / 1e6:.0f} ms "
          "after its timestamp: the stream fell behind")

    # The network is slower than the frame rate, so it skipped, and the
    # skipped frames carry the last result marked stale.
    check(seen["frames-in"] == LIVE_FRAMES, f"live: frames-in "
          f"{seen['frames-in']}")
    check(seen["frames-skipped"] > 0, "live: nothing was skipped")
    check(seen["frames-inferred"] >= 2, "live: inferred at most once")
    check(seen["frames-inferred"] + seen["frames-skipped"] == LIVE_FRAMES,
          "live: frames-inferred + frames-skipped != frames-in")
    frames = seen["frames"]
    check(len(frames) == LIVE_FRAMES, f"live: {len(frames)} messages")
    skipped = [f for f, m in frames.items() if m["skipped"]]
    check(len(skipped) == seen["frames-skipped"],
          "live: skipped messages do not match frames-skipped")
    check(all(frames[f]["stale"] and frames[f]["inference_frame"] < f
              for f in skipped), "live: a skipped frame is not marked stale")
    inferred = sorted(f for f, m in frames.items() if not m["skipped"])
    check(all(not frames[f]["stale"] and frames[f]["inference_frame"] == f
              for f in inferred), "live: an inferred frame is marked stale")
    # A skipped frame carries the latest result, not an older one.
    for f in skipped:
        latest = max(i for i in inferred if i < f)
        check(frames[f]["inference_frame"] == latest,
              f"live: frame {f} carries frame {frames[f]['inference_frame']}"
              f"'s result, not the latest ({latest})")
        break

    # LATENCY: upstream's own plus at least the recent inference times.
    ok_live, qmin, qmax = seen["query"]
    _, umin, _ = seen["upstream_query"]
    recent = [frames[f]["inference_ms"] for f in inferred[1:]][-8:]
    ours = (qmin - umin) / 1e6
    check(ok_live, "live: the LATENCY answer is not live")
    check(recent and ours >= max(recent),
          f"live: the element adds {ours:.1f} ms of latency, less than its "
          f"recent inference times {recent}")
    check(seen["pipeline_latency"] >= qmin,
          "live: the pipeline's latency does not include the element's")
    check(seen["latency_messages"] >= 1, "live: no latency message posted")

    # Periodic statistics (every second of a 3 s run) and the totals at EOS.
    stats = seen["stats"]
    check(len(stats) >= 3, f"live: {len(stats)} mnv3-stats messages in 3 s")
    check(stats and stats[-1]["eos"]
          and stats[-1]["frames-in"] == LIVE_FRAMES
          and stats[-1]["frames-skipped"] == seen["frames-skipped"]
          and stats[-1]["frames-inferred"] == seen["frames-inferred"],
          f"live: last mnv3-stats {stats[-1] if stats else None} does not "
          "match the properties")
    check(seen["max-inference-ms"] >= seen["mean-inference-ms"] > 0,
          "live: max-inference-ms < mean-inference-ms")
    # Every frame passes at the source's rate, inferred or skipped.
    check(0.8 * FPS <= seen["average-fps"] <= 1.2 * FPS
          and 0.6 * FPS <= seen["fps"] <= 1.4 * FPS,
          f"live: average-fps {seen['average-fps']:.1f}, fps {seen['fps']:.1f} "
          f"for a {FPS} fps source")
    check(stats and abs(stats[-1]["average-fps"] - seen["average-fps"]) < 1e-9
          and stats[-1]["fps"] > 0,
          f"live: last mnv3-stats fps {stats[-1] if stats else None} does not match "
          "the properties")


def check_batch(config):
    seen = run(config, BATCH_FRAMES, "batch")
    print(f"batch: {seen['frames-in']} in, {seen['frames-inferred']} "
          f"inferred, {seen['frames-skipped']} skipped, "
          f"{len(seen['pts'])} frames out in {seen['wall']:.2f} s")
    check(not seen["live"], "mode=batch runs live")
    check(len(seen["pts"]) == BATCH_FRAMES,
          f"batch: the sink got {len(seen['pts'])} frames, not {BATCH_FRAMES}")
    check(seen["frames-in"] == BATCH_FRAMES
          and seen["frames-inferred"] == BATCH_FRAMES
          and seen["frames-skipped"] == 0,
          "batch: not every frame was inferred")
    check(not any(m["stale"] for m in seen["frames"].values()),
          "batch: a frame carries a stale result")
    # Frames were late (the model is slower than the frame rate), so the
    # sink's QoS did ask to drop: nothing was dropped all the same.
    mean = seen["mean-inference-ms"]
    check(mean * Gst.MSECOND > FRAME, f"batch: the model ({mean:.1f} ms) is "
          "not slower than a frame period, the test proves nothing")

    seen = run(config, 3, "auto", live_source=False)
    check(not seen["live"], "auto on a non-live source runs live")
    check(seen["frames-inferred"] == 3, "auto, non-live: frames skipped")


def main():
    Gst.init(None)
    with tempfile.TemporaryDirectory() as tmp:
        model = torchmodels.build("mobilenet_v3_large", seed=11)
        config = torchmodels.save(model, tmp, "mobilenet_v3_large",
                                  size=(SIZE, SIZE), name="slow")
        del model
        check_live(config)
        check_batch(config)
    if failures:
        sys.exit(f"{len(failures)} checks failed")
    print("ok")


if __name__ == "__main__":
    main()
