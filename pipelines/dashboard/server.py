#!/usr/bin/env python3
"""The web side of pipelines/camera-dashboard.sh: one GStreamer pipeline per
camera in this process, and a small HTTP server (standard library) for the
page, the video as MJPEG (multipart/x-mixed-replace, which an <img> plays
in any browser), and the results and statistics as Server-Sent Events.

Run it through camera-dashboard.sh --web PORT, which checks the configs and
finds the plugin first; `server.py --help` lists the options.

Results come from mnv3jsonsink, written to a FIFO per camera that a thread
here reads: the page gets the sink's records as they are, plus the time they
arrived. Statistics come from the elements' "mnv3-stats" messages.
"""
import argparse
import collections
import errno
import json
import os
import queue
import signal
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

PROG = "camera-dashboard"
HERE = os.path.dirname(os.path.abspath(__file__))
# Debian's libjs-chart.js: the page's only library, served from this machine.
CHART_JS_DIR = "/usr/share/javascript/chart.js"
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/lib/chart.js": (os.path.join(CHART_JS_DIR, "chart.min.js"),
                      "text/javascript; charset=utf-8"),
}
# What a page opened late still sees of the timeline: records of the last
# HISTORY_S seconds, one per HISTORY_STEP_S at most (a 30 fps camera would
# otherwise send thousands).
HISTORY_S = 300
HISTORY_STEP_S = 0.25
BOUNDARY = "mnv3frame"


def die(message):
    print(f"{PROG}: {message}", file=sys.stderr)
    sys.exit(1)


class Hub:
    """Fans events out to the connected Server-Sent Events clients."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clients = set()

    def subscribe(self):
        q = queue.Queue(maxsize=1000)
        with self.lock:
            self.clients.add(q)
        return q

    def unsubscribe(self, q):
        with self.lock:
            self.clients.discard(q)

    def subscribed(self, q):
        with self.lock:
            return q in self.clients

    def publish(self, event, data):
        message = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
        with self.lock:
            for q in list(self.clients):
                try:
                    q.put_nowait(message)
                except queue.Full:
                    # A client that reads nothing for so long is gone or
                    # stuck: drop it rather than hold its backlog (a
                    # browser reconnects and starts afresh).
                    self.clients.discard(q)


class Camera:
    """One source, its pipeline, its latest JPEG, results and statistics."""

    def __init__(self, index, source, args, fifo_dir, dashboard):
        self.index = index
        self.dashboard = dashboard
        self.hub = dashboard.hub
        # A file's name says enough and keeps its folders private.
        self.name = os.path.basename(source[1]) if source[0] == "file" else source[1]
        self.looping = source[0] == "file"
        self.fifo = os.path.join(fifo_dir, f"results{index}.jsonl")
        os.mkfifo(self.fifo)
        self.frame = None
        self.frame_number = 0
        self.frame_cond = threading.Condition()
        self.stats = {}
        self.last_record = None
        self.history = collections.deque()
        self.history_lock = threading.Lock()

        kind, what = source
        src = {
            "file": "filesrc name=src ! decodebin ! videoconvert",
            "device": "v4l2src name=src ! videoconvert",
            "pattern": "videotestsrc name=src is-live=true pattern=ball"
                       " ! video/x-raw,width=1280,height=720,framerate=30/1",
        }[kind]
        live = f"mode=live threads={args.threads} stats-interval=1 overlay=true"
        analysis = f"mnv3classify name=classify {live}"
        if args.config_segment:
            analysis += f" ! mnv3segment name=segment {live}"
        # Both sinks sync to the clock, so a record reaches the page when its
        # frame does. The queues give each sink its own thread; their fill is
        # bounded by the latency the elements report (as in the desktop
        # pipeline).
        unbounded = "queue max-size-buffers=0 max-size-bytes=0 max-size-time=5000000000"
        self.pipeline = Gst.parse_launch(
            f"{src} ! {analysis} ! tee name=t"
            f" t. ! {unbounded} ! mnv3jsonsink name=results sync=true"
            f" t. ! {unbounded} ! videoconvert ! jpegenc quality={args.quality}"
            " ! appsink name=video sync=true max-buffers=1 drop=true emit-signals=true")
        srcel = self.pipeline.get_by_name("src")
        if kind == "file":
            srcel.set_property("location", what)
        elif kind == "device":
            srcel.set_property("device", what)
        self.pipeline.get_by_name("classify").set_property("config", args.config_classify)
        if args.config_segment:
            self.pipeline.get_by_name("segment").set_property("config", args.config_segment)
        self.pipeline.get_by_name("results").set_property("location", self.fifo)
        self.pipeline.get_by_name("video").connect("new-sample", self.on_sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def start(self):
        # The sink opens the FIFO when it starts, which blocks until a reader
        # has it open: the reader runs first.
        threading.Thread(target=self.read_results, daemon=True).start()
        if self.looping:
            # A file stands for a camera: it loops, through segment seeks that
            # keep the running time (and so the live elements) going.
            self.pipeline.set_state(Gst.State.PAUSED)
            if self.pipeline.get_state(Gst.CLOCK_TIME_NONE)[0] == Gst.StateChangeReturn.FAILURE:
                # The bus has why; the main loop, not running yet, has not
                # read it.
                self.fail(self.pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR))
                return
            self.seek_start(Gst.SeekFlags.FLUSH)
        self.pipeline.set_state(Gst.State.PLAYING)

    def seek_start(self, flags):
        # The stop is the file's end, not its last frame's start: the next
        # loop's running time then starts where this one's last frame ends.
        ok, duration = self.pipeline.query_duration(Gst.Format.TIME)
        if not ok or not self.pipeline.seek(
                1.0, Gst.Format.TIME, flags | Gst.SeekFlags.SEGMENT,
                Gst.SeekType.SET, 0, Gst.SeekType.SET, duration):
            self.dashboard.fail(f"{self.name}: cannot loop this file (no duration, or it"
                                " does not seek)")

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)

    def status(self):
        return {"name": self.name, "segmentation": bool(self.pipeline.get_by_name("segment")),
                "stats": self.stats, "last": self.last_record}

    def on_sample(self, sink):
        buf = sink.emit("pull-sample").get_buffer()
        data = buf.extract_dup(0, buf.get_size())
        with self.frame_cond:
            self.frame = data
            self.frame_number += 1
            self.frame_cond.notify_all()
        return Gst.FlowReturn.OK

    def on_message(self, bus, message):
        t = message.type
        if t == Gst.MessageType.ELEMENT:
            s = message.get_structure()
            if s.get_name() == "mnv3-stats":
                fields = {s.nth_field_name(i): s.get_value(s.nth_field_name(i))
                          for i in range(s.n_fields())}
                self.stats[message.src.get_name()] = fields
                self.hub.publish("stats", {"camera": self.index,
                                           "element": message.src.get_name(),
                                           "stats": fields})
        elif t == Gst.MessageType.SEGMENT_DONE:
            self.seek_start(Gst.SeekFlags.NONE)
        elif t == Gst.MessageType.EOS:
            print(f"{PROG}: {self.name}: end of stream", file=sys.stderr)
            self.hub.publish("ended", {"camera": self.index})
        elif t == Gst.MessageType.ERROR:
            self.fail(message)

    def fail(self, error_message):
        err, debug = error_message.parse_error()
        self.dashboard.fail(f"{self.name}: {err.message} ({debug})")

    def read_results(self):
        with open(self.fifo, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                event = {"camera": self.index, "t": time.time() * 1000, "record": record}
                self.last_record = event
                self.remember(event)
                self.hub.publish("result", event)

    def remember(self, event):
        with self.history_lock:
            h = self.history
            if h and event["t"] - h[-1]["t"] < HISTORY_STEP_S * 1000:
                return
            h.append(event)
            while h[0]["t"] < event["t"] - HISTORY_S * 1000:
                h.popleft()

    def history_copy(self):
        with self.history_lock:
            return list(self.history)


class Handler(BaseHTTPRequestHandler):
    server_version = "mnv3-dashboard"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # the terminal shows the pipelines' state, not each request

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        dashboard = self.server.dashboard
        try:
            if path in STATIC:
                self.send_file(*STATIC[path])
            elif path == "/api/status":
                self.send_json({"cameras": [c.status() for c in dashboard.cameras]})
            elif path == "/events":
                self.send_events(dashboard)
            elif path.startswith("/video/") and path.endswith(".mjpeg"):
                index = path[len("/video/"):-len(".mjpeg")]
                if not index.isdigit() or int(index) >= len(dashboard.cameras):
                    self.send_error(404)
                    return
                self.send_video(dashboard.cameras[int(index)])
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser closed the page

    def send_body(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def send_file(self, name, content_type):
        with open(os.path.join(HERE, name), "rb") as f:
            self.send_body(f.read(), content_type)

    def send_json(self, value):
        self.send_body(json.dumps(value).encode(), "application/json")

    def send_stream_headers(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def send_events(self, dashboard):
        q = dashboard.hub.subscribe()
        try:
            self.send_stream_headers("text/event-stream")
            hello = {"cameras": [dict(c.status(), history=c.history_copy())
                                 for c in dashboard.cameras]}
            self.wfile.write(f"event: hello\ndata: {json.dumps(hello)}\n\n".encode())
            self.wfile.flush()
            while not dashboard.stopping.is_set() and dashboard.hub.subscribed(q):
                try:
                    message = q.get(timeout=10)
                except queue.Empty:
                    message = b": keep-alive\n\n"  # lets a dead client show up
                self.wfile.write(message)
                self.wfile.flush()
        finally:
            dashboard.hub.unsubscribe(q)

    def send_video(self, camera):
        self.send_stream_headers(f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        # Each part is followed at once by the next boundary, not preceded by
        # it: a browser shows a part when it sees that it has ended, which
        # would otherwise be one frame later.
        self.wfile.write(f"--{BOUNDARY}\r\n".encode())
        seen = 0
        while not self.server.dashboard.stopping.is_set():
            # Always the newest frame: a slow client skips frames instead of
            # falling behind.
            with camera.frame_cond:
                camera.frame_cond.wait_for(lambda: camera.frame_number != seen, timeout=1)
                if camera.frame_number == seen:
                    continue
                seen, frame = camera.frame_number, camera.frame
            self.wfile.write(f"Content-Type: image/jpeg\r\n"
                             f"Content-Length: {len(frame)}\r\n\r\n".encode())
            self.wfile.write(frame)
            self.wfile.write(f"\r\n--{BOUNDARY}\r\n".encode())
            self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True


class Dashboard:
    def __init__(self, args, sources):
        self.hub = Hub()
        self.stopping = threading.Event()
        self.fifo_dir = tempfile.mkdtemp(prefix=f"{PROG}.")
        try:
            self.http = Server((args.listen, args.port), Handler)
        except OSError as e:
            os.rmdir(self.fifo_dir)
            if e.errno == errno.EADDRINUSE:
                die(f"port {args.port} on {args.listen} is in use (another dashboard?):"
                    " choose another with --web PORT")
            die(f"cannot listen on {args.listen}:{args.port}: {e.strerror}")
        self.http.dashboard = self
        self.error = None
        self.loop = GLib.MainLoop()
        self.cameras = [Camera(i, s, args, self.fifo_dir, self)
                        for i, s in enumerate(sources)]

    def fail(self, message):
        """Stops everything: the exit status and stderr say why."""
        self.error = self.error or message
        self.loop.quit()

    def run(self):
        loop = self.loop
        for sig in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        for camera in self.cameras:
            camera.start()
        try:
            if not self.error:  # a camera may have failed to start
                host, port = self.http.server_address[:2]
                print(f"{PROG}: serving http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
                loop.run()
        finally:
            self.stop()
        if self.error:
            die(self.error)

    def stop(self):
        self.stopping.set()
        for camera in self.cameras:
            camera.stop()
            os.unlink(camera.fifo)
        os.rmdir(self.fifo_dir)
        self.http.shutdown()
        self.http.server_close()


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--listen", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--input", action="append", default=[], help="a video file (loops)")
    p.add_argument("--device", action="append", default=[], help="a V4L2 camera")
    p.add_argument("--test-pattern", action="store_true", help="a live test pattern")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--quality", type=int, default=80, help="JPEG quality of the video")
    p.add_argument("config_classify")
    p.add_argument("config_segment", nargs="?")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    sources = ([("file", os.path.abspath(f)) for f in args.input]
               + [("device", d) for d in args.device]
               + ([("pattern", "live test pattern")] if args.test_pattern else []))
    if not sources:
        die("no source: give --input FILE, --device DEV or --test-pattern")
    if not os.path.isfile(os.path.join(CHART_JS_DIR, "chart.min.js")):
        die(f"{CHART_JS_DIR}/chart.min.js not found: install libjs-chart.js"
            " (scripts/install-deps does)")
    Gst.init(None)
    Dashboard(args, sources).run()


if __name__ == "__main__":
    main(sys.argv[1:])
