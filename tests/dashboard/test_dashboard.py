#!/usr/bin/python3
"""pipelines/camera-dashboard.sh --web, seen in Debian's Chromium (headless,
driven by Selenium and chromedriver) while it plays the six-photo slideshow
in a loop with the real TF-slim MobileNetV3-Small:

- a second dashboard on the same port fails, saying the port is in use;
- the video plays: the picture the page shows changes, a new photo every
  second;
- the top class shown is, at every moment it is read, the class of a frame
  shown in the last second (EXPECTED.txt of the slideshow gives each second's
  class), and every photo's class is shown at some point;
- the timeline chart and the statistics table are filled;
- Ctrl-C (SIGINT) stops the script with status 0 and leaves no process and
  no temporary file behind.

The page's screenshot is kept as meson-logs/dashboard.png in the build folder.
"""

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.environ["MNV3_SOURCE_ROOT"]
BUILD = os.environ["MNV3_BUILD_ROOT"]
SHARED = os.path.join(ROOT, "..", "shared")
SLIDESHOW = os.path.join(SHARED, "media", "video", "slideshow_6classes_640x480_mjpeg.avi")
WEIGHTS = os.path.join(SHARED, "models", "v3-small_224_1.0_uint8.tflite")
SCRIPT = os.path.join(ROOT, "pipelines", "camera-dashboard.sh")
SCREENSHOT = os.path.join(BUILD, "meson-logs", "dashboard.png")
# EXPECTED.txt: one photo per second, 6 s; the classes the model may put
# first for each.
EXPECTED = [{"tabby", "tiger cat", "Egyptian cat"}, {"hotdog"}, {"macaw"},
            {"fox squirrel"}, {"espresso", "consomme"}, {"daisy"}]
PERIOD_S = len(EXPECTED)
DELAY_S = 1.0       # a label may lag its frame by this much
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


# The page as the test reads it: the top label, and a digest of the picture
# the <img> shows now (drawn small on a canvas).
READ_PAGE = """
const card = document.getElementById('cam0');
if (!card) return null;
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
"""


def watch(driver, url):
    """Reads the page for WATCH_S seconds; returns [(frame time, page)], the
    frame time being the running time of the frames the sinks show at that
    moment, from the server's clock."""
    start = time.monotonic()
    status = get_json(url + "api/status")["cameras"][0]
    # The sinks show a frame at its running time plus the latency.
    t0 = (start + time.monotonic()) / 2 - (
        status["running_time_ns"] - status["latency_ns"]) / 1e9
    samples = []
    while time.monotonic() - start < WATCH_S:
        before = time.monotonic()
        page = driver.execute_script(READ_PAGE)
        samples.append(((before + time.monotonic()) / 2 - t0, page))
        time.sleep(0.05)
    return samples


def allowed_labels(frame_s):
    """The classes of the frames shown in the last DELAY_S seconds."""
    first = math.floor(frame_s - DELAY_S)
    return set().union(*(EXPECTED[k % PERIOD_S] for k in range(first, math.floor(frame_s) + 1)))


def check_page(driver, url):
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        page = driver.execute_script(READ_PAGE)
        if page and page["label"] and page["width"]:
            break
        time.sleep(0.2)
    else:
        sys.exit(f"the page showed no video or no label within {STARTUP_S} s")

    samples = watch(driver, url)
    digests = [p["digest"] for _, p in samples]
    changes = sum(a != b for a, b in zip(digests, digests[1:]))
    check(changes >= WATCH_S - 2, f"the video does not play: the picture changed {changes}"
          f" times in {WATCH_S} s of a slideshow with a new photo every second")
    check(all(p["width"] == 640 for _, p in samples),
          "the video is not the slideshow's 640x480")
    late = [(round(t % PERIOD_S, 2), p["label"]) for t, p in samples
            if p["label"] not in allowed_labels(t)]
    check(not late, f"{len(late)} of {len(samples)} readings show a label that is not"
          f" a frame's of the last {DELAY_S} s: (second of the slideshow, label) {late[:10]}")
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
    for path in (SLIDESHOW, WEIGHTS):
        if not os.path.isfile(path):
            sys.exit(f"{path} is missing: the shared folder must be beside the repository")
    with tempfile.TemporaryDirectory() as tmp:
        script_tmp = os.path.join(tmp, "script-tmp")
        os.mkdir(script_tmp)
        env = dict(os.environ, MNV3_BUILD_DIR=BUILD, TMPDIR=script_tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        command = [SCRIPT, "--web", str(port), "--input", SLIDESHOW, config(tmp)]
        log = open(os.path.join(tmp, "dashboard.log"), "w+")
        # Its own session: what it leaves behind is found by session id.
        dashboard = subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                     start_new_session=True)
        driver = None
        try:
            deadline = time.monotonic() + STARTUP_S
            while "serving" not in open(log.name).read():
                if dashboard.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"the dashboard did not start:\n{open(log.name).read()}")
                time.sleep(0.2)

            second = subprocess.run(command, env=env, capture_output=True, text=True,
                                    timeout=STARTUP_S)
            check(second.returncode != 0 and f"port {port}" in second.stderr
                  and "in use" in second.stderr,
                  f"a second dashboard on port {port} did not say the port is in use:"
                  f" {second.returncode} {second.stderr!r}")

            driver = browser()
            driver.get(url)
            check_page(driver, url)
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
