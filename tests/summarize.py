#!/usr/bin/env python3
"""Adds up what every test program reported, from meson's testlog.json files.

A Criterion program counts its tests (its "Synthesis" line); a script that
prints "N passed, N failed" counts those; any other test counts as one.
"--check NAME=OK|FAIL|SKIP" adds one check that run-all.sh made itself (no
leftovers, fuzzers skipped). The last line printed is "N passed, N failed,
N skipped". Exits 1 when anything failed or nothing was tested.

Usage: summarize.py [--check NAME=RESULT]... TESTLOG.json..."""
import json
import re
import sys

CRITERION = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
PLAIN = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", re.M)


def count(entry):
    """(passed, failed, skipped) for one test program."""
    text = (entry.get("stdout") or "") + (entry.get("stderr") or "")
    result = entry["result"]
    if result == "SKIP":
        return 0, 0, 1
    criterion = CRITERION.findall(text)
    if criterion:
        _, passing, failing, crashing = map(int, criterion[-1])
        failed = failing + crashing
        if result != "OK" and failed == 0:
            failed = 1  # died after its summary, or timed out
        return passing, failed, 0
    plain = PLAIN.findall(text)
    if plain:
        passed, failed, skipped = plain[-1]
        failed = int(failed)
        if result != "OK" and failed == 0:
            failed = 1
        return int(passed), failed, int(skipped or 0)
    return (1, 0, 0) if result in ("OK", "EXPECTEDFAIL") else (0, 1, 0)


def main(args):
    passed = failed = skipped = 0
    paths = []
    while args:
        arg = args.pop(0)
        if arg != "--check":
            paths.append(arg)
            continue
        name, _, result = args.pop(0).partition("=")
        if result == "OK":
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {name}")
    for path in paths:
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError as err:
            print(f"summarize: {path}: {err.strerror}", file=sys.stderr)
            failed += 1
            continue
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            p, f, s = count(entry)
            passed, failed, skipped = passed + p, failed + f, skipped + s
            if f:
                print(f"FAILED: {path}: {entry['name']} ({entry['result']})")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
