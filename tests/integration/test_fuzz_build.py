"""fuzz/build.sh as OSS-Fuzz and ClusterFuzzLite call it, and the coverage
baseline of the committed corpora (fuzz/coverage.py --check).

Both build every fuzz target with clang; skipped without clang (and, for
coverage, without llvm-profdata/llvm-cov from llvm-14).
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest
import zipfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(TOP, "fuzz", "fuzz_*.c")))


def have(*tools):
    return all(shutil.which(t) for t in tools)


@unittest.skipUnless(have("clang", "clang++"), "clang is not installed (Debian: clang, libclang-rt-14-dev)")
class TestFuzzBuild(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-fuzz-build-")
        cls.out = os.path.join(cls.tmp, "out")
        flags = "-fsanitize=address,fuzzer-no-link -g -O1"
        env = dict(os.environ, CC="clang", CXX="clang++", CFLAGS=flags, CXXFLAGS=flags,
                   LIB_FUZZING_ENGINE="-fsanitize=fuzzer", OUT=cls.out,
                   SRC=os.path.dirname(TOP), WORK=os.path.join(cls.tmp, "work"), JOBS="2")
        for k in ("SANITIZER", "FUZZING_ENGINE"):
            env.pop(k, None)
        cls.build = subprocess.run(["bash", os.path.join(TOP, "fuzz", "build.sh")], env=env,
                                   capture_output=True, text=True, timeout=300)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_build_succeeds(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr[-3000:])

    def test_every_target_has_options_dict_and_seed_zip(self):
        for t in TARGETS:
            for suffix in (".options", ".dict", "_seed_corpus.zip"):
                self.assertTrue(os.path.isfile(os.path.join(self.out, t + suffix)), t + suffix)
            with open(os.path.join(self.out, t + ".options")) as f:
                text = f.read()
            self.assertIn("[libfuzzer]", text, t)
            self.assertIn("max_len", text, t)

    def test_seed_zips_hold_the_committed_corpus_in_order(self):
        for t in TARGETS:
            with zipfile.ZipFile(os.path.join(self.out, t + "_seed_corpus.zip")) as z:
                names = z.namelist()
            want = sorted(f for f in os.listdir(os.path.join(TOP, "fuzz", "corpus", t))
                          if not f.startswith("."))
            self.assertEqual(names, want, t)

    def test_targets_are_static_in_our_libraries(self):
        for t in TARGETS:
            ldd = subprocess.run(["ldd", os.path.join(self.out, t)], capture_output=True,
                                 text=True).stdout
            for lib in ("lmdb", "seccomp", "cap-ng", "bearssl", "crypt"):
                self.assertNotIn("lib%s.so" % lib, ldd, t)

    def test_every_target_runs_its_seed_corpus(self):
        for t in TARGETS:
            exe = os.path.join(self.out, t)
            self.assertTrue(os.access(exe, os.X_OK), t)
            seeds = os.path.join(self.tmp, "seeds-" + t)
            with zipfile.ZipFile(os.path.join(self.out, t + "_seed_corpus.zip")) as z:
                z.extractall(seeds)
            # -dict also checks that the dictionary parses
            r = subprocess.run([exe, "-runs=0", "-dict=" + os.path.join(self.out, t + ".dict"),
                                seeds], capture_output=True, text=True, timeout=120,
                               cwd=self.tmp)
            self.assertEqual(r.returncode, 0, "%s: %s" % (t, r.stderr[-2000:]))
            self.assertNotIn("ParseDictionaryFile", r.stderr, t)


@unittest.skipUnless(have("clang", "clang++") and
                     (have("llvm-profdata-14", "llvm-cov-14") or have("llvm-profdata", "llvm-cov")),
                     "clang or llvm-14 (llvm-profdata, llvm-cov) is not installed")
class TestFuzzCoverageBaseline(unittest.TestCase):
    def test_committed_corpora_keep_their_coverage(self):
        r = subprocess.run(["python3", os.path.join(TOP, "fuzz", "coverage.py"), "--check"],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])


if __name__ == "__main__":
    unittest.main()
