#!/usr/bin/python3
"""A/B timing of plan steps on a machine whose speed drifts: runs
mnv3-bench-kernels for every variant (a build, a config, or both) in turn,
round after round, and reports per variant the min and median of the sum
of step medians and of each kind of step (qu8_conv1x1, qu8_dwconv, ...),
and the median over rounds of each variant's ratio to the first one.

Ratios within a round compare: the variants ran seconds apart, in the same
state of the machine. Single runs do not (shared machines here drifted by
up to 1.5x from one minute to the next).

    bench/alternate.py --variant new=build/bench/mnv3-bench-kernels:large.int8.yaml \\
                       --variant old=/tmp/old/bench/mnv3-bench-kernels:large.int8.yaml \\
                       [--rounds 10] [--runs 10] [--threads 1]

A variant is LABEL=BENCH:CONFIG; int8 against float on one build is two
variants with the same BENCH. BENCH may also be mnv3-run: its --bench
median, end to end (input copies included), is then the variant's total,
with --runs runs a round (take 200). MNV3_ISA and the like pass through.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys


def step_times(bench, config, runs, threads):
    """Microseconds per kind of step (op name before "__") and "total"; or,
    for mnv3-run, the total alone."""
    end_to_end = os.path.basename(bench).startswith("mnv3-run")
    out = subprocess.run([bench, "--config", config, "--threads", str(threads),
                          "--bench" if end_to_end else "--runs", str(runs)],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    times = collections.defaultdict(float)
    if end_to_end:
        times["total"] = report["median_ms"] * 1000
        return times
    for step in report["steps"]:
        times[step["op"].split("__")[0]] += step["median_us"]
    times["total"] = report["sum_of_medians_ms"] * 1000
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", required=True,
                        help="LABEL=BENCH:CONFIG (at least two)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per step and round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    variants = []
    for text in args.variant:
        label, _, spec = text.partition("=")
        bench, _, config = spec.partition(":")
        if not label or not bench or not config:
            parser.error(f"--variant {text!r}: expected LABEL=BENCH:CONFIG")
        variants.append((label, bench, config))
    if len(variants) < 2:
        parser.error("give at least two --variant")

    rounds = {label: [] for label, _, _ in variants}
    for r in range(args.rounds):
        for label, bench, config in variants:
            rounds[label].append(step_times(bench, config, args.runs, args.threads))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{label} {rounds[label][-1]['total']:.0f}" for label, _, _ in variants),
            file=sys.stderr)

    first = variants[0][0]
    kinds = sorted(rounds[first][0], key=lambda k: -rounds[first][0][k])
    print(f"us: min / median over {args.rounds} rounds; x: median over rounds of the ratio "
          f"to {first}\n")
    print(f"| variant | {' | '.join(kinds)} |")
    print("|---|" + "---:|" * len(kinds))
    for label, _, _ in variants:
        cells = []
        for k in kinds:
            values = [t.get(k, 0.0) for t in rounds[label]]
            ratio = statistics.median(a.get(k, 0.0) / b[k]
                                      for a, b in zip(rounds[label], rounds[first]) if b[k])
            cells.append(f"{min(values):.0f} / {statistics.median(values):.0f} x{ratio:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main()
