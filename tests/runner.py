#!/usr/bin/env python3
"""Run every test of `make test` and end with one line:
"N passed, N failed, N skipped".  The exit status is 1 if anything failed
(.ci/run relies on it); a skipped test is neither passed nor failed.

- unit tests: build/tests/test_* print TAP lines ("ok N - ...", "not ok N - ...")
- corpus replay: build/replay/fuzz_* over fuzz/corpus/<target>/ (ASan/UBSan)
- integration: tests/integration/test_*.py (unittest, real daemons on loopback)

`runner.py [unit] [replay] [integration] [--dir DIR]` runs only those parts;
--dir runs the test_*.py of DIR (absolute, or relative to the checkout) as
the integration tests.
"""
import glob
import os
import subprocess
import sys
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(TOP)
passed = failed = skipped = 0
failures = []
skips = []


def record(ok, name):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        failures.append(name)


def record_skip(name, reason):
    global skipped
    skipped += 1
    skips.append("%s: %s" % (name, reason))


def unit_tests():
    for exe in sorted(glob.glob("build/tests/test_*")):
        if exe.endswith(".d") or not os.access(exe, os.X_OK):
            continue
        name = os.path.basename(exe)
        try:
            out = subprocess.run([exe], capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            record(False, name + ": timeout")
            continue
        seen = 0
        for line in out.stdout.splitlines():
            if line.startswith("ok ") and "# SKIP" in line:
                record_skip(name, line)
                seen += 1
            elif line.startswith("ok "):
                record(True, line)
                seen += 1
            elif line.startswith("not ok "):
                record(False, name + ": " + line)
                seen += 1
        if out.returncode != 0 and seen == 0:
            record(False, "%s: exit %d %s" % (name, out.returncode, out.stderr[-500:]))
        if out.returncode != 0:
            sys.stdout.write(out.stdout[-3000:] + out.stderr[-2000:])
        print("unit %-24s %d checks, exit %d" % (name, seen, out.returncode))


def replays():
    for exe in sorted(glob.glob("build/replay/fuzz_*")):
        if exe.endswith(".d"):
            continue
        name = os.path.basename(exe)
        corpus = os.path.join("fuzz", "corpus", name)
        if not os.path.isdir(corpus):
            record(False, name + ": no corpus directory " + corpus)
            continue
        out = subprocess.run([exe, corpus], capture_output=True, text=True, timeout=600)
        ok = out.returncode == 0
        record(ok, "replay " + name)
        print("replay %-22s %s %s" % (name, "ok" if ok else "FAILED", out.stdout.strip()[-80:]))
        if not ok:
            print(out.stderr[-3000:])


class Result(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        record(True, str(test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        record(False, str(test))

    def addError(self, test, err):
        super().addError(test, err)
        record(False, str(test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        record_skip(str(test), reason)


def integration(start):
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    loader = unittest.TestLoader()
    suite = loader.discover(start, pattern="test_*.py", top_level_dir=start)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result, stream=sys.stdout)
    runner.run(suite)


def main():
    t0 = time.time()
    only = sys.argv[1:]
    start = os.path.join(TOP, "tests", "integration")
    if "--dir" in only:
        i = only.index("--dir")
        start = os.path.abspath(only[i + 1])  # relative: to the checkout
        only = only[:i] + only[i + 2:] or ["integration"]
    if not only or "unit" in only:
        unit_tests()
    if not only or "replay" in only:
        replays()
    if not only or "integration" in only:
        integration(start)
    if skips:
        print("\nSkipped:")
        for sk in skips:
            print("  " + sk)
    if failures:
        print("\nFailed:")
        for f in failures:
            print("  " + f)
    print("\ntime %.0fs" % (time.time() - t0))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
