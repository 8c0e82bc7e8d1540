#!/usr/bin/python3
"""Checks that the gst-valgrind runs (tests/gst/meson.build) together cover
every gst-check case of the programs they run, each exactly once.

    check_valgrind_cases.py PROGRAM:CASE,CASE... ...

PROGRAM is classify, segment, faults or leaks (tests/gst/test_PROGRAM.c);
the cases of a program are those its suite adds with tcase_add_test.
MNV3_GST_TEST_DIR is the folder of the sources."""
import os
import re
import sys
from collections import Counter

PROGRAMS = ("classify", "segment", "faults", "leaks")


def suite_cases(program):
    path = os.path.join(os.environ["MNV3_GST_TEST_DIR"], f"test_{program}.c")
    with open(path) as f:
        text = f.read()
    cases = re.findall(r"tcase_add_test\s*\(\s*\w+\s*,\s*(\w+)\s*\)", text)
    if not cases:
        sys.exit(f"{path}: no tcase_add_test found; did the suite change "
                 "shape? Update check_valgrind_cases.py")
    return cases


def main():
    runs = Counter()
    for arg in sys.argv[1:]:
        program, _, cases = arg.partition(":")
        if program not in PROGRAMS:
            sys.exit(f"unknown program '{program}' in '{arg}': one of "
                     f"{', '.join(PROGRAMS)}")
        runs.update((program, c) for c in cases.split(",") if c)
    problems = []
    for program in PROGRAMS:
        cases = suite_cases(program)
        for case in cases:
            if runs[(program, case)] == 0:
                problems.append(f"test_{program}.c: {case} is in no "
                                "gst-valgrind run: add it to "
                                "gst_valgrind_runs in tests/gst/meson.build")
        for (p, case), n in runs.items():
            if p != program:
                continue
            if case not in cases:
                problems.append(f"gst_valgrind_runs names {case}, which "
                                f"test_{program}.c does not have")
            elif n > 1:
                problems.append(f"test_{program}.c: {case} runs {n} times "
                                "under valgrind")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{sum(runs.values())} cases, each in one valgrind run")


if __name__ == "__main__":
    main()
