"""tests/runner.py, as `make test` and .ci/run use it: the last line is
"N passed, N failed, N skipped" and the exit status is 1 exactly when
something failed (a skip is neither)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import TOP

SAMPLE = '''import unittest


class T(unittest.TestCase):
    def test_pass(self):
        pass

    @unittest.skip("not here")
    def test_skip(self):
        pass
%s


@unittest.skip("no tool")
class Skipped(unittest.TestCase):
    def test_a(self):
        pass

    def test_b(self):
        pass
'''

FAILING = '''
    def test_fail(self):
        self.fail("on purpose")
'''


class TestRunnerSummary(unittest.TestCase):
    def run_sample(self, extra):
        d = tempfile.mkdtemp(prefix="postern-runner-")
        try:
            with open(os.path.join(d, "test_sample.py"), "w") as f:
                f.write(SAMPLE % extra)
            return subprocess.run([sys.executable, os.path.join(TOP, "tests", "runner.py"),
                                   "integration", "--dir", d],
                                  capture_output=True, text=True, timeout=120)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_failure_counts_and_exits_1(self):
        r = self.run_sample(FAILING)
        self.assertEqual(r.stdout.splitlines()[-1], "1 passed, 1 failed, 3 skipped")
        self.assertEqual(r.returncode, 1)
        self.assertIn("test_sample.T.test_skip", r.stdout.split("Skipped:")[1])

    def test_skips_alone_exit_0(self):
        r = self.run_sample("")
        self.assertEqual(r.stdout.splitlines()[-1], "1 passed, 0 failed, 3 skipped")
        self.assertEqual(r.returncode, 0, r.stdout[-2000:])


if __name__ == "__main__":
    unittest.main()
