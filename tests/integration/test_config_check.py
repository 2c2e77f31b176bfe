"""config check loads every certificate/key pair as keyd will (keyd's own
code): a missing file, a key without its certificate, a mismatched key and
an expired certificate are errors naming the config key and the path; a
certificate near its end is a warning (tls_cert_warn_days).  keyd's
tls_cert line says when each certificate ends (not_after=)."""
import datetime
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, Appliance

CA_CNF = """[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
policy = policy_any
default_md = sha256
[policy_any]
commonName = supplied
"""


def openssl(*args, cwd=None):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r.stdout


def self_signed(d, name, days, kind="ec"):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    openssl("req", "-x509", *newkey, "-nodes", "-subj", "/CN=%s.example.org" % name,
            "-days", str(days), "-keyout", key, "-out", crt)
    return crt, key


def expired(d, name):
    """A pair whose certificate ended in 2020 (openssl ca sets the dates)."""
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CNF)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    key, csr, crt = (os.path.join(d, name + e) for e in (".key", ".csr", ".pem"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=%s.example.org" % name, "-keyout", key, "-out", csr)
    openssl("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", key, "-in", csr,
            "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext",
            "-out", crt, cwd=d)
    return crt, key


def not_after_iso(crt):
    """openssl's own reading of the end date, as ISO 8601 UTC."""
    out = openssl("x509", "-noout", "-enddate", "-in", crt).strip().split("=", 1)[1]
    t = datetime.datetime.strptime(out, "%b %d %H:%M:%S %Y GMT")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class TestCertificateCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="postern-cc-")
        cls.good = self_signed(cls.d, "good", 400, "rsa")
        cls.near = self_signed(cls.d, "near", 5)
        cls.old = expired(cls.d, "old")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.d, ignore_errors=True)

    def check(self, **keys):
        path = os.path.join(self.d, "postern.conf")
        with open(path, "w") as f:
            f.write("pop3_listen = 127.0.0.1:1110\nstate_dir = %s/state\n" % self.d)
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
        return subprocess.run([os.path.join(BIN, "posternctl"), "-c", path, "config", "check"],
                              capture_output=True, text=True, timeout=30)

    def assert_error(self, r, text):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(text, r.stderr)
        self.assertNotIn(": ok", r.stdout)

    def test_good_pair(self):
        r = self.check(tls_cert_file=self.good[0], tls_key_file=self.good[1])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tls_cert_file %s: rsa key matches, good.example.org, not after %s"
                      % (self.good[0], not_after_iso(self.good[0])), r.stdout)
        self.assertNotIn("warning", r.stderr)

    def test_expired(self):
        r = self.check(tls_cert_file=self.old[0], tls_key_file=self.old[1])
        self.assert_error(r, "tls_cert_file %s: certificate expired on 2020-02-01T00:00:00Z"
                          % self.old[0])

    def test_near_expiry_warns(self):
        r = self.check(tls_cert_file=self.near[0], tls_key_file=self.near[1])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"warning: tls_cert_file %s: certificate expires in [45] days "
                         r"\(.*; tls_cert_warn_days = 21\)" % self.near[0])
        # below the configured number only
        r = self.check(tls_cert_file=self.near[0], tls_key_file=self.near[1], tls_cert_warn_days=3)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("warning", r.stderr)

    def test_mismatched_key(self):
        r = self.check(tls_cert_file=self.near[0], tls_key_file=self.old[1])
        self.assert_error(r, "tls_cert_file %s: private key does not match the certificate"
                          % self.near[0])

    def test_missing_files(self):
        gone = os.path.join(self.d, "gone.pem")
        self.assert_error(self.check(tls_cert_file=gone),
                          "tls_cert_file %s: No such file or directory" % gone)
        self.assert_error(self.check(tls_cert_file=self.good[0], tls_key_file=gone),
                          "tls_key_file %s: No such file or directory" % gone)

    def test_missing_key(self):
        self.assert_error(self.check(tls_cert_file=self.good[0]),
                          "tls_cert_file %s: no private key found" % self.good[0])

    def test_key_without_its_certificate(self):
        self.assert_error(self.check(tls_key_file=self.good[1]),
                          "tls_key_file %s: a key without its certificate" % self.good[1])

    def test_sni_dir_entries_are_checked(self):
        sni = os.path.join(self.d, "sni")
        os.makedirs(sni, exist_ok=True)
        with open(os.path.join(sni, "old.example.org.pem"), "w") as f:
            for part in self.old:
                with open(part) as p:
                    f.write(p.read())
        r = self.check(tls_sni_dir=sni)
        self.assert_error(r, "tls_sni_dir %s/old.example.org.pem: certificate expired" % sni)

    def test_no_certificate_is_the_self_signed_one(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("keyd serves a self-signed certificate", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.d, "state")), "check created files")


class TestTlsCertLogLine(unittest.TestCase):
    def test_not_after_in_tls_cert(self):
        d = tempfile.mkdtemp(prefix="postern-cc-")
        crt, key = self_signed(d, "log", 30)
        app = Appliance({"tls_cert_file": crt, "tls_key_file": key})
        try:
            app.start()
            app.wait_log(r"event=tls_cert file=%s type=ecdsa names=1 first=log.example.org "
                         r"not_after=%s" % (crt, not_after_iso(crt)))
        finally:
            app.cleanup()
            shutil.rmtree(d, ignore_errors=True)


class TestConfigDumpChanged(unittest.TestCase):
    """config dump -n: only the keys that differ from the defaults (doveconf -n)."""

    def ctl(self, conf, *args, env=None):
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", conf] + list(args),
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, **(env or {})))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_only_changes_and_they_read_back(self):
        d = tempfile.mkdtemp(prefix="postern-cc-")
        try:
            conf = os.path.join(d, "postern.conf")
            with open(conf, "w") as f:
                # max_daemons at its default value is not a change
                f.write("pop3_listen = 127.0.0.1:1110\nmax_daemons = 200\nMAXPERIP = 5\n"
                        "listen_unix_mode = 0600\ntls_plaintext_loopback = on\n")
            out = self.ctl(conf, "config", "dump", "-n",
                           env={"POSTERN_LOGIN_TIMEOUT": "30"})
            self.assertEqual(out.splitlines(), [
                'pop3_listen = "127.0.0.1:1110"', "tls_plaintext_loopback = yes",
                "max_per_ip = 5", "listen_unix_mode = 0600", "login_timeout = 30"])
            again = os.path.join(d, "again.conf")
            with open(again, "w") as f:
                f.write(out)
            self.assertEqual(self.ctl(again, "config", "dump"),
                             self.ctl(conf, "config", "dump", env={"POSTERN_LOGIN_TIMEOUT": "30"}))
            self.assertEqual(self.ctl("none", "config", "dump", "-n"), "")
        finally:
            shutil.rmtree(d, ignore_errors=True)


class TestDirectoryCheck(unittest.TestCase):
    """config check looks at the directories the master trusts as it does."""

    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="postern-cd-")
        os.chmod(self.d, 0o755)
        self.state = os.path.join(self.d, "state")

    def tearDown(self):
        shutil.rmtree(self.d, ignore_errors=True)

    def check(self, **keys):
        path = os.path.join(self.d, "postern.conf")
        keys = dict({"pop3_listen": "127.0.0.1:1110", "state_dir": self.state,
                     "userdb": self.state + "/userdb", "empty_root": self.d + "/empty"}, **keys)
        with open(path, "w") as f:
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
        return subprocess.run([os.path.join(BIN, "posternctl"), "-c", path, "config", "check"],
                              capture_output=True, text=True, timeout=30)

    def test_missing_ones_the_master_makes_are_fine(self):
        r = self.check()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("state_dir %s: missing, the master creates it" % self.state, r.stdout)
        self.assertIn("empty_root %s/empty: missing, the master creates it" % self.d, r.stdout)

    def test_writable_by_others_is_an_error_naming_the_key(self):
        os.mkdir(self.state)
        os.chmod(self.state, 0o777)
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("state_dir %s: mode 0777 (uid 0): it must not be writable by group or "
                      "others" % self.state, r.stderr)

    def test_empty_root_must_be_empty(self):
        e = os.path.join(self.d, "empty")
        os.mkdir(e, 0o555)
        open(os.path.join(self.d, "x"), "w").close()
        os.rename(os.path.join(self.d, "x"), os.path.join(e, "x"))
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("empty_root %s: not empty (1 entries)" % e, r.stderr)

    def test_socket_directories(self):
        open_dir = os.path.join(self.d, "open")
        os.mkdir(open_dir)
        os.chmod(open_dir, 0o1777)
        r = self.check(control_socket=open_dir + "/control")
        self.assertEqual(r.returncode, 1)
        self.assertIn("control_socket's directory %s: mode 1777" % open_dir, r.stderr)
        r = self.check(lmtp_listen=open_dir + "/lmtp")
        self.assertEqual(r.returncode, 1)
        self.assertIn("lmtp_listen's directory %s: mode 1777" % open_dir, r.stderr)
        r = self.check(lmtp_listen=self.d + "/nodir/lmtp")
        self.assertEqual(r.returncode, 1)
        self.assertIn("lmtp_listen's directory %s/nodir: No such file or directory" % self.d,
                      r.stderr)

    def test_symlinks_are_followed_to_what_they_name(self):
        real = os.path.join(self.d, "real")
        os.mkdir(real)
        os.symlink(real, self.state)
        self.assertEqual(self.check().returncode, 0)
        os.chmod(real, 0o777)
        r = self.check()
        self.assertEqual(r.returncode, 1)
        self.assertIn("state_dir %s: mode 0777" % self.state, r.stderr)
        os.unlink(self.state)
        open(self.state, "w").close()
        r = self.check()
        self.assertIn("state_dir %s: not a directory" % self.state, r.stderr)


if __name__ == "__main__":
    unittest.main()
