"""Compares a BoGo results document with the list of known failures.

Usage: check.py results.json known-failures.txt config.json runner.log SECONDS

Fails (exit 1) on a failure not in the list, or on a listed test that did
not fail (it passes now, or is no longer run: take it off the list).
Prints the counts docs/conformance.md records.
"""
import json
import sys


def main():
    results, known_path, config_path, log, seconds = sys.argv[1:6]
    try:
        doc = json.load(open(results))
    except (OSError, ValueError) as e:
        print("bogo: no results (%s); the runner said:" % e)
        print(open(log, errors="replace").read()[-3000:])
        return 1
    tests = doc["tests"]
    known = {}
    for line in open(known_path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, why = line.partition(" ")
        known[name] = why.strip()
    disabled = json.load(open(config_path))["DisabledTests"]
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    unexpected, fixed = [], []
    for name, r in sorted(tests.items()):
        counts[r["actual"]] = counts.get(r["actual"], 0) + 1
        failed = r["actual"] == "FAIL"
        if failed and name not in known:
            unexpected.append(name)
        if not failed and name in known:
            fixed.append(name)
    gone = sorted(n for n in known if n not in tests)
    print("bogo: %d run in %s s: %d passed, %d failed (%d of them known, "
          "tests/bogo/known-failures.txt), %d unimplemented (shim exit 89); "
          "%d disabled globs in tests/bogo/config.json"
          % (len(tests), seconds, counts["PASS"], counts["FAIL"],
             counts["FAIL"] - len(unexpected), counts["SKIP"], len(disabled)))
    if unexpected:
        print("bogo: %d unexpected failures (details in %s):"
              % (len(unexpected), log))
        for n in unexpected:
            print("  " + n)
    if fixed or gone:
        print("bogo: listed as known failures but did not fail; take them "
              "off tests/bogo/known-failures.txt:")
        for n in fixed + gone:
            print("  " + n)
    return 1 if unexpected or fixed or gone else 0


if __name__ == "__main__":
    sys.exit(main())
