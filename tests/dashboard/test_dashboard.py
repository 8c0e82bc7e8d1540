#!/usr/bin/python3
"""pipelines/camera-dashboard.sh --web, seen in Debian's Chromium (headless,
driven by Selenium and chromedriver) while it plays two files in a loop with
the real TF-slim MobileNetV3-Small: the six-photo slideshow (camera 0) and
the pedestrians clip (camera 1):

- /api/status lists the two files; a second dashboard on the same port
  fails, saying the port is in use;
- the video plays: the picture the page shows changes, a new photo every
  second;
- the top class shown is, at every moment it is read, the class of a photo
  the page showed in the second before (or up to 0.3 s after: the picture
  takes longer than the label to arrive), the photo on screen being told by
  comparing it with the slideshow's own frames, the classes from the
  slideshow's EXPECTED.txt; every photo's class is shown at some point;
- the timeline chart and the statistics table are filled;
- the second camera has its own card, whose video plays and labels show;
- Ctrl-C (SIGINT) stops the script with status 0 and leaves no process and
  no temporary file behind.

The page's screenshot is kept as meson-logs/dashboard.png in the build folder.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

ROOT = os.environ["MNV3_SOURCE_ROOT"]
BUILD = os.environ["MNV3_BUILD_ROOT"]
SHARED = os.path.join(ROOT, "..", "shared")
SLIDESHOW = os.path.join(SHARED, "media", "video", "slideshow_6classes_640x480_mjpeg.avi")
PEDESTRIANS = os.path.join(SHARED, "media", "video", "pedestrians_768x576_10s.ogv")
WEIGHTS = os.path.join(SHARED, "models", "v3-small_224_1.0_uint8.tflite")
SCRIPT = os.path.join(ROOT, "pipelines", "camera-dashboard.sh")
SCREENSHOT = os.path.join(BUILD, "meson-logs", "dashboard.png")
# EXPECTED.txt: one photo per second, 6 s; the classes the model may put
# first for each.
EXPECTED = [{"tabby", "tiger cat", "Egyptian cat"}, {"hotdog"}, {"macaw"},
            {"fox squirrel"}, {"espresso", "consomme"}, {"daisy"}]
PERIOD_S = len(EXPECTED)
DELAY_S = 1.0       # a label may lag its frame by this much
LEAD_S = 0.3        # ... and come before it, while the picture is on its way
WATCH_S = 14        # two loops and more
STARTUP_S = 60

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def config(tmp):
    """The shipped config, with the shared folder's weights (CI does not run
    models/fetch) and its labels found from anywhere."""
    shipped = os.path.join(ROOT, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
    labels = os.path.join(ROOT, "models", "labels", "imagenet-background.txt")
    path = os.path.join(tmp, "tfslim.yaml")
    with open(shipped) as src, open(path, "w") as dst:
        for line in src:
            if line.strip().startswith("weights:"):
                line = f"  weights: {WEIGHTS}\n"
            elif line.startswith("labels:"):
                line = f"labels: {labels}\n"
            dst.write(line)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def session_processes(sid):
    """The processes, other than zombies, of session sid."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # After "(comm)": state ppid pgrp session ...
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(f"{pid} {stat[:stat.rindex(')') + 1]}")
    return found


def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        sys.exit("python3-selenium is missing: install it (scripts/install-deps does)")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        sys.exit("Debian's chromium and chromium-driver are missing: install them"
                 " (scripts/install-deps does)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # Root in a container: no sandbox, no /dev/shm to spare.
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


# The page as the test reads it, per camera card: the top label, and a
# digest of the picture its <img> shows now (drawn small on a canvas).
READ_PAGE = """
return Array.from(document.querySelectorAll('.camera'), (card) => {
  const img = card.querySelector('.video');
  const label = card.querySelector('.top li .label');
  let digest = null;
  if (img.naturalWidth) {
    const c = document.createElement('canvas');
    c.width = 32; c.height = 24;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0, 32, 24);
    digest = Array.from(ctx.getImageData(0, 0, 32, 24).data).join(',');
  }
  return {label: label ? label.textContent : null, digest, width: img.naturalWidth};
});
"""


def watch(driver):
    """Reads the page for WATCH_S seconds: [(time, cards)]."""
    start = time.monotonic()
    samples = []
    while time.monotonic() - start < WATCH_S:
        before = time.monotonic()
        cards = driver.execute_script(READ_PAGE)
        samples.append(((before + time.monotonic()) / 2, cards))
        time.sleep(0.05)
    return samples


def blocks(rgba):
    """A picture's 32x24 RGBA values as the mean colours of its 8x8 blocks:
    enough to tell the six photos apart whatever scaled them down."""
    a = np.asarray(rgba, float).reshape(24, 32, 4)[:, :, :3]
    return a.reshape(3, 8, 4, 8, 3).mean(axis=(1, 3))


def photos():
    """The slideshow's six photos, each as blocks() of its middle frame."""
    pipeline = Gst.parse_launch(
        f'filesrc location="{SLIDESHOW}" ! decodebin ! videoconvert ! videoscale'
        " ! video/x-raw,format=RGBA,width=32,height=24 ! appsink name=sink sync=false")
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    frames = []
    while (sample := sink.emit("pull-sample")) is not None:
        buf = sample.get_buffer()
        frames.append(np.frombuffer(buf.extract_dup(0, buf.get_size()), np.uint8))
    pipeline.set_state(Gst.State.NULL)
    per_photo = len(frames) // PERIOD_S
    return [blocks(frames[k * per_photo + per_photo // 2]) for k in range(PERIOD_S)]


def check_page(driver):
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        cards = driver.execute_script(READ_PAGE)
        if len(cards) == 2 and all(c["label"] and c["width"] for c in cards):
            break
        time.sleep(0.2)
    else:
        sys.exit(f"the page did not show two cameras' video and labels within {STARTUP_S} s")

    samples = watch(driver)
    for camera, what, width, least_changes in ((0, "slideshow", 640, WATCH_S - 2),
                                               (1, "pedestrians clip", 768, WATCH_S * 5)):
        digests = [cards[camera]["digest"] for _, cards in samples]
        changes = sum(a != b for a, b in zip(digests, digests[1:]))
        check(changes >= least_changes, f"the {what}'s video does not play: the picture"
              f" changed {changes} times in {WATCH_S} s")
        check(all(cards[camera]["width"] == width for _, cards in samples),
              f"camera {camera} does not show the {what}")
        check(all(cards[camera]["label"] for _, cards in samples),
              f"camera {camera} showed no label at times")

    # Which photo the page showed at each reading, by its nearest reference.
    references = photos()
    samples = [(t, cards[0]) for t, cards in samples]
    shown_photo = [int(np.argmin([np.abs(blocks(p["digest"].split(",")) - r).mean() for r in references]))
                   for _, p in samples]
    check(set(shown_photo) == set(range(PERIOD_S)),
          f"the page did not show every photo of the slideshow: {sorted(set(shown_photo))}")
    late = []
    first, last = samples[0][0], samples[-1][0]
    for i, (t, p) in enumerate(samples):
        # The photos on screen from DELAY_S before this reading to LEAD_S
        # after it (the video path is longer than the labels'), for the
        # readings whose window was watched whole.
        if not first + DELAY_S <= t <= last - LEAD_S:
            continue
        near = {shown_photo[j] for j, (u, _) in enumerate(samples) if -DELAY_S <= u - t <= LEAD_S}
        if p["label"] not in set().union(*(EXPECTED[k] for k in near)):
            late.append((round(t - samples[0][0], 2), shown_photo[i], p["label"]))
    check(not late, f"{len(late)} of {len(samples)} readings show a label of no photo shown"
          f" from {DELAY_S} s before to {LEAD_S} s after: (time, photo shown, label)"
          f" {late[:10]}")
    shown = {p["label"] for _, p in samples}
    for expected in EXPECTED:
        check(shown & expected, f"none of {sorted(expected)} was shown (shown: {sorted(shown)})")

    timeline = driver.execute_script(
        "return Chart.getChart(document.querySelector('#cam0 .timeline'))"
        ".data.datasets.map(d => d.label)")
    check({"hotdog", "macaw", "daisy"} <= set(timeline),
          f"the timeline chart lacks the slideshow's classes: {timeline}")
    stats = driver.execute_script(
        "return Array.from(document.querySelectorAll('#cam0 .stats tbody tr'),"
        " r => Array.from(r.cells, c => c.textContent))")
    check(any(row[0] == "classify" and float(row[1]) > 5 for row in stats),
          f"the statistics table shows no classify row at the slideshow's 10 fps: {stats}")


def main():
    # meson's timeout sends SIGTERM: exit through the finally blocks, which
    # stop the dashboard (in a session of its own) and Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    Gst.init(None)
    for path in (SLIDESHOW, WEIGHTS):
        if not os.path.isfile(path):
            sys.exit(f"{path} is missing: the shared folder must be beside the repository")
    with tempfile.TemporaryDirectory() as tmp:
        script_tmp = os.path.join(tmp, "script-tmp")
        os.mkdir(script_tmp)
        env = dict(os.environ, MNV3_BUILD_DIR=BUILD, TMPDIR=script_tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        command = [SCRIPT, "--web", str(port), "--input", SLIDESHOW,
                   "--input", PEDESTRIANS, config(tmp)]
        log = open(os.path.join(tmp, "dashboard.log"), "w+")
        # Its own session: what it leaves behind is found by session id.
        dashboard = subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                     start_new_session=True)
        driver = None
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                try:
                    status = get_json(url + "api/status")
                    break
                except OSError:
                    if dashboard.poll() is not None or time.monotonic() > deadline:
                        sys.exit(f"the dashboard did not start:\n{open(log.name).read()}")
                    time.sleep(0.2)
            check([c["name"] for c in status["cameras"]] == [os.path.basename(SLIDESHOW),
                                                             os.path.basename(PEDESTRIANS)],
                  f"/api/status does not list the two files: {status}")

            second = subprocess.run(command, env=env, capture_output=True, text=True,
                                    timeout=STARTUP_S)
            check(second.returncode != 0 and f"port {port}" in second.stderr
                  and "in use" in second.stderr,
                  f"a second dashboard on port {port} did not say the port is in use:"
                  f" {second.returncode} {second.stderr!r}")

            driver = browser()
            driver.get(url)
            check_page(driver)
            os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
            check(driver.save_screenshot(SCREENSHOT), "no screenshot")
            print(f"screenshot: {SCREENSHOT}")
        finally:
            if driver:
                driver.quit()
            dashboard.send_signal(signal.SIGINT)
            try:
                rc = dashboard.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rc = None
            left = session_processes(dashboard.pid)
            # Whatever happened, leave nothing running.
            if rc is None or left:
                os.killpg(dashboard.pid, signal.SIGKILL)
            log.seek(0)
            print(log.read(), file=sys.stderr)
        check(rc == 0, f"Ctrl-C: the dashboard exited with {rc}, not 0")
        check(not left, f"processes left after Ctrl-C: {left}")
        check(not os.listdir(script_tmp),
              f"files left in TMPDIR after Ctrl-C: {os.listdir(script_tmp)}")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("dashboard: all checks passed")


if __name__ == "__main__":
    main()
