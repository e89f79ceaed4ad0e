#!/usr/bin/env python3
"""Runs CPython's own test_ssl (or another stdlib suite) against moat's
_ssl and compares the outcome with the list of known failures.

usage: run_cpython.py PYTHON MODULE_DIR SUITE [--matchfile LIST]
                      --known FILE [--tag 3.11]

Every test that fails must be listed in FILE (with its reason) for this
version, and a listed test that runs and passes fails the check too, so
the list stays true.  Exit status 1 when a test fails that is not listed,
a listed one passes, or moat's _ssl was not the one loaded."""
import argparse
import os
import re
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("python")
p.add_argument("module_dir")
p.add_argument("suite", nargs="+")
p.add_argument("--matchfile")
p.add_argument("--known", required=True)
p.add_argument("--tag", required=True)
p.add_argument("--log")
a = p.parse_args()

known = {}
with open(a.known) as f:
    for line in f:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        # "3.11,3.12 test.test_ssl.Class.test_name  reason"
        vers, name, *reason = line.split(None, 2)
        if a.tag in vers.split(",") or vers == "all":
            known[name] = reason[0] if reason else ""

env = dict(os.environ, PYTHONPATH=a.module_dir)
cmd = [a.python, "-m", "test"] + a.suite + ["-u", "walltime,network", "-v"]
if a.matchfile:
    cmd += ["--matchfile", a.matchfile]
probe = subprocess.run([a.python, "-c", "import _ssl; print(_ssl.OPENSSL_VERSION)"],
                       env=env, capture_output=True, text=True)
if not probe.stdout.startswith("moat "):
    print("moat's _ssl was not loaded:", probe.stdout, probe.stderr)
    sys.exit(1)
r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1500)
out = r.stdout + r.stderr
if a.log:
    with open(a.log, "w") as f:
        f.write(out)
failed = sorted(set(m.group(2) for m in re.finditer(
    r"^(?:FAIL|ERROR): (test\w+) \(([\w.]+)\)", out, re.M)))
m = re.search(r"Total tests: run=(\d+)", out) or re.search(r"Ran (\d+) test", out)
run = int(m.group(1)) if m else 0
m = re.search(r"skipped=(\d+)", out)
skipped = int(m.group(1)) if m else 0
passed = run - len(failed) - skipped
unexpected = [n for n in failed if n not in known]
# ran (named in the verbose output), not failed and not skipped
fixed = [n for n in known if n not in failed and re.search(
    r"\(" + re.escape(n) + r"\)", out) and not re.search(
    r"\(" + re.escape(n) + r"\) \.\.\. skipped", out)]
print(f"{a.tag} {' '.join(a.suite)}: {run} run, {passed} passed, "
      f"{len(failed)} failed ({len(failed) - len(unexpected)} known), "
      f"{skipped} skipped")
for n in unexpected:
    print("  UNEXPECTED FAILURE:", n)
for n in fixed:
    print("  LISTED AS FAILING BUT PASSES (take it off the list):", n)
if run == 0:
    print(out[-3000:])
    sys.exit(1)
sys.exit(1 if unexpected or fixed else 0)
