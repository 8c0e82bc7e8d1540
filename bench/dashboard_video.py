#!/usr/bin/python3
"""Glass-to-glass latency and CPU cost of the web dashboard's video, by
transport: MJPEG (what pipelines/camera-dashboard.sh --web serves), HLS
(hlssink2), WebRTC (webrtcbin) and none (the same pipeline into a fakesink:
the CPU floor).

    bench/dashboard_video.py [--seconds S] [--clip FILE] [mjpeg] [hls] [webrtc] [none]

The source is the dashboard's live test pattern (1280x720, 30 fps) through
mnv3classify (the TF-slim MobileNetV3-Small, models/fetch), painted one solid
grey after another: every second the level steps through 16 greys, each
step's wall-clock time noted. Debian's Chromium (headless, via Selenium)
plays the stream and reads the centre of the shown picture every 4 ms; a
change of grey at browser time T, matched to the step that made that grey
last, is one latency sample T - step (both clocks are this machine's). The
CPU is that of this process (pipeline, server) and of Chromium's processes
over the same seconds. MJPEG runs the dashboard's own server
(pipelines/dashboard/server.py); HLS is x264enc (ultrafast, zerolatency,
a key frame a second) into hlssink2 with one-second segments, played natively
by Chromium; WebRTC is the same H.264 encoder (constrained baseline) sent
by webrtcbin to an RTCPeerConnection, offer and answer exchanged over HTTP
once all candidates are known (the machine's own address: Chromium's mDNS
names for it are turned off). Needs gstreamer1.0-plugins-bad, -ugly,
gstreamer1.0-nice and gir1.2-gst-plugins-bad-1.0.

Solid greys cost the encoders next to nothing: --clip FILE measures the CPU
alone (no latency) with a real video as the source instead, played once in
real time (so --seconds must be shorter than the clip less 4 s).
"""
import argparse
import http.server
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "pipelines", "dashboard"))
import server  # noqa: E402

CONFIG = os.path.join(ROOT, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
LEVELS = 16
STEP_S = 1.0
HZ = os.sysconf("SC_CLK_TCK")

# Waits for N changes of the grey in the centre of the element, and returns
# [level, browser time in ms since the epoch] for each.
WATCH = """
const [selector, n, levels] = arguments, done = arguments[arguments.length - 1];
const c = document.createElement('canvas');
c.width = c.height = 8;
const ctx = c.getContext('2d', {willReadFrequently: true});
const seen = [];
let last = null;
const timer = setInterval(() => {
  const el = document.querySelector(selector);  // the dashboard adds it later
  if (!el || !(el.naturalWidth || el.videoWidth)) return;
  ctx.drawImage(el, 0, 0, 8, 8);
  const level = Math.round(ctx.getImageData(4, 4, 1, 1).data[1] / 255 * (levels - 1));
  if (last !== null && level !== last) seen.push([level, performance.timeOrigin + performance.now()]);
  last = level;
  if (seen.length >= n) { clearInterval(timer); done(seen); }
}, 4);
"""


def grey(level):
    v = round(level * 255 / (LEVELS - 1))
    return 0xff000000 | v << 16 | v << 8 | v


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / HZ  # utime, stime
        except (OSError, IndexError):
            pass
    return total


def descendants(root):
    children = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                "--disable-features=WebRtcHideLocalIpsWithMdns"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(120)
    return driver


class Stepper(threading.Thread):
    """Steps the source's grey every STEP_S seconds, noting when."""

    def __init__(self, src):
        super().__init__(daemon=True)
        self.src = src
        self.steps = []
        self.stop = threading.Event()

    def run(self):
        level = 0
        self.src.set_property("pattern", "solid-color")
        while not self.stop.is_set():
            level = (level + 1) % LEVELS
            self.src.set_property("foreground-color", grey(level))
            self.steps.append((level, time.time() * 1000))
            self.stop.wait(STEP_S)


def measure(src, url, selector, seconds):
    """Latency samples (ms) and CPU (% of one core: this process, Chromium);
    with src None, the CPU alone."""
    stepper = Stepper(src) if src else None
    if stepper:
        stepper.start()
    driver = browser()
    try:
        driver.get(url)
        driver.execute_async_script(WATCH, selector, 3, LEVELS)  # playing
        chromium = descendants(driver.service.process.pid)
        t0, own0, web0 = time.time(), time.process_time(), cpu_seconds(chromium)
        if stepper:
            seen = driver.execute_async_script(WATCH, selector, int(seconds / STEP_S), LEVELS)
        else:
            time.sleep(seconds)
        wall = time.time() - t0
        own = (time.process_time() - own0) / wall * 100
        web = (cpu_seconds(chromium) - web0) / wall * 100
    finally:
        driver.quit()
        if stepper:
            stepper.stop.set()
    if not stepper:
        return [], own, web
    latencies = []
    for level, t in seen:
        made = [s for lv, s in stepper.steps if lv == level and s <= t]
        if made:
            latencies.append(t - made[-1])
    return latencies, own, web


def run_in_loop(work):
    """Runs work() beside a GLib main loop (bus messages, appsink)."""
    loop = GLib.MainLoop()
    result = {}

    def target():
        try:
            result["value"] = work()
        finally:
            GLib.idle_add(loop.quit)
    threading.Thread(target=target, daemon=True).start()
    loop.run()
    if "value" not in result:
        sys.exit("the measurement failed")
    return result["value"]


def source_and_classify(clip):
    """The dashboard's own test pattern (or the clip, in real time) and
    classifier settings."""
    source = (f"filesrc location=\"{clip}\" ! decodebin ! videoconvert ! clocksync" if clip else
              "videotestsrc name=src is-live=true ! video/x-raw,width=1280,height=720,"
              "framerate=30/1")
    return f"{source} ! mnv3classify config={CONFIG} mode=live overlay=true"


def bench_mjpeg(seconds, clip):
    port = 18600 + os.getpid() % 1000
    args = server.parse_args(["--port", str(port), CONFIG])
    dashboard = server.Dashboard(args, [("file", clip) if clip else ("pattern", "test pattern")])
    threading.Thread(target=dashboard.http.serve_forever, daemon=True).start()
    for camera in dashboard.cameras:
        camera.start()
    try:
        return run_in_loop(lambda: measure(
            dashboard.cameras[0].pipeline.get_by_name("src") if not clip else None,
            f"http://127.0.0.1:{port}/", "#cam0 .video", seconds))
    finally:
        dashboard.stop()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_and_measure(name, pipeline, handler, seconds, clip, settle_s):
    """Plays pipeline, serves the page with handler, and measure()s a
    <video> there after settle_s seconds."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    pipeline.set_state(Gst.State.PLAYING)
    try:
        time.sleep(settle_s)
        return run_in_loop(lambda: measure(
            pipeline.get_by_name("src") if not clip else None,
            f"http://127.0.0.1:{httpd.server_address[1]}/", "video", seconds))
    finally:
        error = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        pipeline.set_state(Gst.State.NULL)
        httpd.shutdown()
        if error:
            sys.exit(f"{name}: {error.parse_error()[0].message}")


def bench_hls(seconds, clip):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "index.html"), "w") as f:
            f.write('<video autoplay muted playsinline src="playlist.m3u8"></video>')
        pipeline = Gst.parse_launch(
            f"{source_and_classify(clip)} ! videoconvert ! x264enc speed-preset=ultrafast"
            " tune=zerolatency key-int-max=30 ! h264parse ! hlssink2 target-duration=1"
            f" playlist-length=3 max-files=6 location={tmp}/segment%05d.ts"
            f" playlist-location={tmp}/playlist.m3u8")
        # 4 s: the first segments.
        return serve_and_measure("hls", pipeline, lambda *a: Quiet(*a, directory=tmp),
                                 seconds, clip, 4)


WEBRTC_PAGE = """<!DOCTYPE html><video autoplay muted playsinline></video><script>
(async () => {
  const pc = new RTCPeerConnection();
  pc.ontrack = (e) => { document.querySelector('video').srcObject = new MediaStream([e.track]); };
  await pc.setRemoteDescription(await (await fetch('offer')).json());
  await pc.setLocalDescription(await pc.createAnswer());
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 20));
  await fetch('answer', {method: 'POST', body: JSON.stringify(pc.localDescription)});
})();
</script>"""


class WebRTC:
    """webrtcbin's side of the exchange: one offer, one answer."""

    def __init__(self, webrtc):
        self.webrtc = webrtc
        self.offer = None
        self.ready = threading.Event()
        webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        webrtc.connect("notify::ice-gathering-state", self.on_gathering)

    def on_negotiation_needed(self, webrtc):
        webrtc.emit("create-offer", None,
                    Gst.Promise.new_with_change_func(self.on_offer, webrtc, None))

    def on_offer(self, promise, webrtc, _):
        promise.wait()
        # The reply owns the offer: it must outlive its use here.
        reply = promise.get_reply()
        webrtc.emit("set-local-description", reply.get_value("offer"), Gst.Promise.new())

    def on_gathering(self, webrtc, _):
        if webrtc.get_property("ice-gathering-state") == \
                GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self.offer = webrtc.get_property("local-description").sdp.as_text()
            self.ready.set()

    def answer(self, text):
        sdp = GstSdp.SDPMessage.new_from_text(text)[1]
        answer = GstWebRTC.WebRTCSessionDescription.new(
            GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.webrtc.emit("set-remote-description", answer, Gst.Promise.new())


def bench_webrtc(seconds, clip):
    pipeline = Gst.parse_launch(
        f"{source_and_classify(clip)} ! videoconvert ! x264enc speed-preset=ultrafast"
        " tune=zerolatency key-int-max=30 ! video/x-h264,profile=constrained-baseline"
        " ! rtph264pay config-interval=-1 aggregate-mode=zero-latency"
        " ! application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96"
        " ! webrtcbin name=webrtc bundle-policy=max-bundle")
    peer = WebRTC(pipeline.get_by_name("webrtc"))

    class Handler(Quiet):
        def do_GET(self):
            if self.path == "/offer":
                peer.ready.wait(30)
                body = json.dumps({"type": "offer", "sdp": peer.offer}).encode()
            else:
                body = WEBRTC_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            peer.answer(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["sdp"])
            self.send_response(204)
            self.end_headers()

    return serve_and_measure("webrtc", pipeline, Handler, seconds, clip, 0)


def bench_none(seconds, clip):
    pipeline = Gst.parse_launch(f"{source_and_classify(clip)} ! fakesink sync=true")
    pipeline.set_state(Gst.State.PLAYING)
    time.sleep(2)
    own0 = time.process_time()
    time.sleep(seconds)
    own = (time.process_time() - own0) / seconds * 100
    pipeline.set_state(Gst.State.NULL)
    return [], own, 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--clip", help="measure the CPU alone with this video as the source")
    p.add_argument("transports", nargs="*", default=["none", "mjpeg", "hls"])
    args = p.parse_args()
    # A timeout's SIGTERM goes through the finally blocks that quit Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    Gst.init(None)
    benches = {"mjpeg": bench_mjpeg, "hls": bench_hls, "webrtc": bench_webrtc,
               "none": bench_none}
    results = {}
    for name in args.transports:
        clip = os.path.abspath(args.clip) if args.clip else None
        latencies, own, web = benches[name](args.seconds, clip)
        results[name] = {
            "latency_ms_median": statistics.median(latencies) if latencies else None,
            "latency_ms_min": min(latencies, default=None),
            "latency_ms_max": max(latencies, default=None),
            "samples": len(latencies),
            "cpu_server_percent": round(own, 1),
            "cpu_chromium_percent": round(web, 1)}
        print(name, json.dumps(results[name]), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
