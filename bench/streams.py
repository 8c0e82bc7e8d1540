#!/usr/bin/python3
"""Many streams on few cores: the elements' default thread setting against
fixed ones, when the CPU is shared.

Two workloads (each stream is one of these):

  small-clip   filesrc cockatoo_640x360.ogv (280 frames, Theora) ! decodebin
               ! videoconvert ! mnv3classify (MobileNetV3-Small TF-slim) ! fakesink
  large-test   videotestsrc num-buffers=240 ! 640x360 I420
               ! mnv3classify (MobileNetV3-Large 224, seeded random) ! fakesink

and these scenarios, each the wall time of all its streams:

  alone        one stream
  procs-N      N gst-launch-1.0 processes at once, one stream each
  streams-N    one gst-launch-1.0 with N streams (branches)
  spinner      one stream while another process spins on one core

Each runs with threads=0 (the default), threads=1 and every other fixed
count up to the number of CPUs, for every plugin build given (--build
NAME=DIR: a folder with libgstmnv3.so, e.g. the build before a change and
after it), in rounds: within a round every (build, threads) pair of a
scenario runs once, in a rotating order, so slow and fast moments of a
shared machine fall on all of them alike. A figure is the median over
rounds; "vs 1" is threads=1's time over this setting's (the throughput
ratio: above 1 is faster than one thread).

  live-8       8 live 1280x720 30 fps streams (videotestsrc is-live=true,
               300 frames each) in one process, mode=live, with each
               workload's model (Small; Large, which cannot keep up): frames
               inferred per stream (min/max against the mean), and whether
               every frame reached its sink.

  /usr/bin/python3 bench/streams.py [--build base=../base/build/gst] \\
      [--build new=build/gst] [--rounds 3] [--only alone,procs-4] [--json F]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
CLIP = os.path.join(SHARED, "media", "video", "cockatoo_640x360.ogv")
SMALL = os.path.join(ROOT, "configs", "mobilenet_v3_small_tfslim_uint8.yaml")
SCENARIOS = ["alone", "procs-4", "procs-8", "streams-4", "streams-8", "spinner"]


def log(message):
    print(message, file=sys.stderr, flush=True)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def make_large(directory):
    """MobileNetV3-Large 224 with seeded random weights (torch in a child
    process, so that its threads are gone before anything is timed)."""
    config = os.path.join(directory, "large", "model.yaml")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import torchmodels\n"
        "m = torchmodels.build('mobilenet_v3_large', 1.0, 1000, seed=7)\n"
        "torchmodels.save(m, sys.argv[2], 'mobilenet_v3_large', 1.0, 1000, (224, 224))\n")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    subprocess.run(["/usr/bin/python3", "-c", code, os.path.join(ROOT, "tests", "lib"),
                    os.path.dirname(config)], check=True)
    return config


def stream(workload, threads, configs, extra=""):
    """One stream's gst-launch-1.0 description."""
    element = f"mnv3classify threads={threads} {extra}"
    if workload == "small-clip":
        return (f"filesrc location={CLIP} ! decodebin ! videoconvert ! "
                f"{element} config={configs['small']} ! fakesink")
    return ("videotestsrc num-buffers=240 ! video/x-raw,format=I420,width=640,height=360 ! "
            f"{element} config={configs['large']} ! fakesink")


def gst_env(plugins):
    """The environment that loads the plugin from `plugins` (a registry of
    its own per build, so that two builds of one plugin never mix)."""
    registry = os.path.join(tempfile.gettempdir(),
                            f"mnv3-streams-{abs(hash(plugins)):x}.registry")
    return dict(os.environ, GST_PLUGIN_PATH=plugins, GST_REGISTRY=registry)


def launch(description, plugins):
    env = gst_env(plugins)
    return subprocess.Popen(["gst-launch-1.0", "-q"] + description.split(), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def run_scenario(scenario, workload, threads, configs, plugins, timeout):
    """Wall seconds of one run of a scenario (at most `timeout`: the
    processes are then killed and the timeout counts as the time)."""
    one = stream(workload, threads, configs)
    spinner = None
    if scenario == "spinner":
        spinner = subprocess.Popen(["/usr/bin/python3", "-c", "while True: pass"])
        time.sleep(0.3)  # let it take its core
    start = time.monotonic()
    if scenario.startswith("procs-"):
        procs = [launch(one, plugins) for _ in range(int(scenario.split("-")[1]))]
    elif scenario.startswith("streams-"):
        procs = [launch("  ".join([one] * int(scenario.split("-")[1])), plugins)]
    else:
        procs = [launch(one, plugins)]
    errors = []
    for p in procs:
        try:
            errors.append(p.communicate(timeout=max(0.1, start + timeout - time.monotonic()))[1])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            errors.append(p.communicate()[1])
    elapsed = min(time.monotonic() - start, timeout)
    if spinner:
        spinner.kill()
        spinner.wait()
    for p, err in zip(procs, errors):
        if p.returncode != 0 and elapsed < timeout:
            raise RuntimeError(f"{scenario} threads={threads} failed: {err.strip()[-500:]}")
    return elapsed


def live_fairness(threads, config, plugins, streams=8, frames=300):
    """Frames inferred per stream of `streams` live 720p30 streams."""
    code = r"""
import sys, gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst, GLib
Gst.init(None)
n, frames, threads, config = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
desc = "  ".join(
    f"videotestsrc is-live=true num-buffers={frames} pattern=ball "
    f"! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 "
    f"! mnv3classify name=c{i} mode=live threads={threads} config={config} "
    f"! fakesink name=s{i} sync=true signal-handoffs=true" for i in range(n))
pipeline = Gst.parse_launch(desc)
reached = [0] * n
for i in range(n):
    pipeline.get_by_name(f"s{i}").connect(
        "handoff", lambda sink, buf, pad, i=i: reached.__setitem__(i, reached[i] + 1))
loop = GLib.MainLoop()
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message::eos", lambda *a: loop.quit())
bus.connect("message::error", lambda b, m: (print(m.parse_error(), file=sys.stderr), sys.exit(1)))
pipeline.set_state(Gst.State.PLAYING)
loop.run()
inferred = [pipeline.get_by_name(f"c{i}").get_property("frames-inferred") for i in range(n)]
pipeline.set_state(Gst.State.NULL)
print(" ".join(map(str, inferred)))
print(" ".join(map(str, reached)))
"""
    env = gst_env(plugins)
    out = subprocess.run(["/usr/bin/python3", "-c", code, str(streams), str(frames),
                          str(threads), config], env=env, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    inferred = [int(v) for v in out[0].split()]
    reached = [int(v) for v in out[1].split()]
    mean = statistics.mean(inferred)
    return {"inferred": inferred, "reached_sinks": reached, "frames": frames,
            "min_vs_mean": min(inferred) / mean if mean else 0.0,
            "max_vs_mean": max(inferred) / mean if mean else 0.0,
            "all_frames_reached_sinks": all(r == frames for r in reached)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", default=[],
                        help="NAME=DIR, a folder holding libgstmnv3.so (repeatable); "
                             "default this=build/gst")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated scenarios (and/or live-8)")
    parser.add_argument("--workloads", default="small-clip,large-test")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds a scenario may take; a slower one counts as this")
    parser.add_argument("--workdir", help="keeps the generated Large model between runs")
    parser.add_argument("--json", help="write every measurement here")
    args = parser.parse_args()

    builds = dict(b.split("=", 1) for b in args.build) or {
        "this": os.path.join(ROOT, "build", "gst")}
    builds = {name: os.path.abspath(d) for name, d in builds.items()}
    cpus = len(os.sched_getaffinity(0))
    settings = [0] + list(range(1, cpus + 1))
    wanted = args.only.split(",") if args.only else SCENARIOS + ["live-8"]
    workdir = args.workdir or tempfile.mkdtemp(prefix="mnv3-streams-")
    configs = {"small": SMALL}
    if "large-test" in args.workloads:
        existing = os.path.join(workdir, "large", "model.yaml")
        configs["large"] = existing if os.path.exists(existing) else make_large(workdir)

    report = {"cpu": cpu_model(), "cpus": cpus, "builds": builds,
              "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "rounds": args.rounds, "scenarios": {}, "live": {}}
    log(f"streams.py: {report['cpu']}, {cpus} CPUs, {args.rounds} rounds")
    pairs = [(b, t) for b in builds for t in settings]
    for workload in args.workloads.split(","):
        for scenario in [s for s in SCENARIOS if s in wanted]:
            times = {pair: [] for pair in pairs}
            for r in range(args.rounds):
                order = pairs[r % len(pairs):] + pairs[:r % len(pairs)]
                for build, threads in order:
                    t = run_scenario(scenario, workload, threads, configs, builds[build],
                                     args.timeout)
                    times[(build, threads)].append(t)
                    log(f"  {workload} {scenario} {build} threads={threads}: {t:.2f} s")
            rows = {}
            for build in builds:
                one = statistics.median(times[(build, 1)])
                for threads in settings:
                    median = statistics.median(times[(build, threads)])
                    rows[f"{build} threads={threads}"] = {
                        "seconds": times[(build, threads)], "median_s": median,
                        "throughput_vs_1": one / median}
            report["scenarios"][f"{workload} {scenario}"] = rows
            print(f"\n{workload} {scenario}")
            for name, row in rows.items():
                print(f"  {name:<24} {row['median_s']:8.2f} s   vs 1: "
                      f"{row['throughput_vs_1']:.2f}")
    if "live-8" in wanted:
        for workload in args.workloads.split(","):
            model = "small" if workload == "small-clip" else "large"
            for build in builds:
                for threads in settings:
                    res = live_fairness(threads, configs[model], builds[build])
                    report["live"][f"{model} {build} threads={threads}"] = res
                    print(f"\nlive-8 {model} {build} threads={threads}: inferred {res['inferred']} "
                          f"(min {res['min_vs_mean']:.2f}, max {res['max_vs_mean']:.2f} of "
                          f"the mean); every frame reached its sink: "
                          f"{res['all_frames_reached_sinks']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
