#!/usr/bin/python3
"""mnv3jsonsink location=mqtt://... against a real mosquitto broker on
localhost: every record reaches a subscriber; the broker stopped and started
again mid-stream costs the records of the outage, which are counted (the
records-dropped property, the statistics message) and warned about, never a
stalled pipeline; records flow again after the restart. Without a broker the
stream still runs to its end, every record counted as dropped; a location
that names no topic fails the start with a message saying what to give."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SOURCE = os.environ["MNV3_SOURCE_ROOT"]
SHARED = os.path.join(SOURCE, "..", "shared")
CONFIG = os.path.join(SOURCE, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
WEIGHTS = os.path.join(SHARED, "models", "v3-small_224_1.0_uint8.tflite")
TOPIC = "mnv3/test"
FPS = 20

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto on localhost, started and stopped by the test."""

    def __init__(self, port):
        self.port = port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit(f"mosquitto -p {self.port} does not accept connections")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class Subscriber:
    """mosquitto_sub collecting the topic's messages, one per line; it
    reconnects and subscribes again by itself after a broker restart."""

    def __init__(self, port):
        self.port = port
        self.lines = []
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", TOPIC,
             "-t", "probe", "-C", "100000", "-W", "300"],
            stdout=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_subscribed(self):
        """Until a probe message comes back: then records will too."""
        for _ in range(100):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port),
                            "-t", "probe", "-m", "probe"], check=False)
            time.sleep(0.1)
            if "probe" in self.lines:
                self.lines.remove("probe")
                return
        sys.exit("mosquitto_sub did not subscribe")

    def records(self):
        return [json.loads(line) for line in self.lines if line != "probe"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.reader.join(10)


def pipeline(port, frames, live):
    desc = (f"videotestsrc num-buffers={frames} is-live={'true' if live else 'false'} ! "
            f"video/x-raw,width=64,height=48,framerate={FPS}/1 ! "
            f'mnv3classify config="{CONFIG}" weights="{WEIGHTS}" top-k=1 ! '
            f"mnv3jsonsink name=sink location=mqtt://127.0.0.1:{port}/{TOPIC}")
    p = Gst.parse_launch(desc)
    return p, p.get_by_name("sink")


def run(p, sink, during=None):
    """Plays to the end; returns the bus messages, the frames' arrival
    times at the sink and the sink's final counts."""
    arrivals = []
    sink.get_static_pad("sink").add_probe(
        Gst.PadProbeType.BUFFER, lambda pad, info: arrivals.append(time.monotonic())
        or Gst.PadProbeReturn.OK)
    bus = p.get_bus()
    p.set_state(Gst.State.PLAYING)
    if during:
        during()
    msgs = []
    while True:
        msg = bus.timed_pop(120 * Gst.SECOND)
        if msg is None:
            sys.exit("the pipeline did not end")
        msgs.append(msg)
        if msg.type in (Gst.MessageType.EOS, Gst.MessageType.ERROR):
            break
    p.set_state(Gst.State.NULL)
    return msgs, arrivals, (sink.get_property("records-sent"),
                            sink.get_property("records-dropped"))


def stats_message(msgs):
    for m in msgs:
        s = m.get_structure()
        if m.type == Gst.MessageType.ELEMENT and s.get_name() == "mnv3-jsonsink-stats" \
                and s.get_value("eos"):
            return s
    return None


def warnings(msgs):
    return [m.parse_warning()[0].message for m in msgs if m.type == Gst.MessageType.WARNING]


def test_restart(port):
    # Long enough for libmosquitto's retries (every 1 to 2 s) to find the
    # restarted broker with records still to come.
    frames = 8 * FPS
    broker = Broker(port)
    broker.start()
    sub = Subscriber(port)
    sub.wait_subscribed()
    p, sink = pipeline(port, frames, live=True)

    def restart():
        time.sleep(1.5)
        broker.stop()
        time.sleep(1.0)
        broker.start()

    msgs, arrivals, (sent, dropped) = run(p, sink, restart)
    time.sleep(0.5)  # the last messages on their way to the subscriber
    sub.stop()
    broker.stop()
    check(msgs[-1].type == Gst.MessageType.EOS,
          f"restart: {msgs[-1].parse_error() if msgs[-1].type == Gst.MessageType.ERROR else ''}")
    check(len(arrivals) == frames, f"restart: {len(arrivals)} frames reached the sink")
    # A pipeline held up by the network would show a gap of seconds.
    gap = max(b - a for a, b in zip(arrivals, arrivals[1:]))
    check(gap < 0.5, f"restart: the sink waited {gap:.2f} s between two frames")
    check(sent + dropped == frames and dropped > 0,
          f"restart: {sent} sent + {dropped} dropped for {frames} records")
    stats = stats_message(msgs)
    check(stats is not None and stats.get_value("records") == frames
          and stats.get_value("records-sent") == sent
          and stats.get_value("records-dropped") == dropped
          and stats.get_value("connected"), f"restart: stats message {stats}")
    check(any("Lost the connection to the MQTT broker" in w for w in warnings(msgs)),
          f"restart: warnings {warnings(msgs)}")
    records = sub.records()
    frames_seen = [r["frame"] for r in records]
    check(frames_seen == sorted(frames_seen) and len(records) <= sent,
          f"restart: {len(records)} records received, {sent} sent")
    check(all(r["version"] == 2 and len(r["classification"]) == 1 for r in records),
          "restart: records are not complete")
    # Records before the outage and after the restart both arrived; the
    # outage's are missing.
    missing = sorted(set(range(frames)) - set(frames_seen))
    check(frames_seen and frames_seen[0] < missing[0] < missing[-1] < frames_seen[-1]
          if missing else False,
          f"restart: frames received {frames_seen}")
    print(f"restart: {sent} sent, {dropped} dropped, {len(records)} received, "
          f"longest wait {gap * 1000:.0f} ms")


def test_no_broker(port):
    frames = 10
    p, sink = pipeline(port, frames, live=False)
    msgs, _, (sent, dropped) = run(p, sink)
    check(msgs[-1].type == Gst.MessageType.EOS, "no broker: the stream did not end")
    check((sent, dropped) == (0, frames), f"no broker: {sent} sent, {dropped} dropped")
    check(any(f"Could not connect to the MQTT broker at 127.0.0.1:{port}" in w
              for w in warnings(msgs)), f"no broker: warnings {warnings(msgs)}")


def test_bad_location():
    p = Gst.parse_launch("videotestsrc num-buffers=1 ! "
                         "mnv3jsonsink location=mqtt://127.0.0.1:1883")
    p.set_state(Gst.State.PLAYING)
    msg = p.get_bus().timed_pop_filtered(30 * Gst.SECOND,
                                         Gst.MessageType.ERROR | Gst.MessageType.EOS)
    p.set_state(Gst.State.NULL)
    check(msg is not None and msg.type == Gst.MessageType.ERROR
          and "mqtt://HOST[:PORT]/TOPIC" in msg.parse_error()[0].message,
          f"no topic: {msg.parse_error()[0].message if msg else 'no message'}")


def main():
    for tool in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin"):
            sys.exit(f"{tool} not found: install mosquitto and mosquitto-clients "
                     "(scripts/install-deps)")
    os.environ["PATH"] += ":/usr/sbin"
    Gst.init(None)
    test_restart(free_port())
    test_no_broker(free_port())
    test_bad_location()
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
