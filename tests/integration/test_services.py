"""The service table: listeners as data, unix socket listeners, the table
as posternctl prints it."""
import os
import socket
import stat
import subprocess
import tempfile
import unittest

from harness import BIN, Appliance


class TestUnixListener(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sockdir = tempfile.mkdtemp(prefix="postern-sock-")
        cls.path = os.path.join(cls.sockdir, "pop3.sock")
        cls.app = Appliance()
        cls.app.settings["pop3_listen"] += ", " + cls.path
        cls.app.settings["listen_unix_mode"] = "0600"
        cls.app.write_conf()
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def unix_session(self, lines):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect(self.path)
        f = c.makefile("rb")
        out = [f.readline()]
        for line in lines:
            c.sendall(line + b"\r\n")
            out.append(f.readline())
        f.close()
        c.close()
        return out

    def test_socket_file_mode_and_owner(self):
        st = os.stat(self.path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        if os.geteuid() == 0:
            self.assertEqual((st.st_uid, st.st_gid), (0, 0))

    def test_login_over_a_unix_socket(self):
        mark = self.app.log_mark()
        out = self.unix_session([b"USER demo", b"PASS demo", b"QUIT"])
        self.assertTrue(out[0].startswith(b"+OK"), out)
        self.assertTrue(out[2].startswith(b"+OK"), out)  # plaintext is fine: the peer is local
        # the peer is keyed by its uid: max_per_ip and the throttle count local users apart
        self.app.wait_log(r"event=connect proto=pop3 ip=local:uid=%d " % os.geteuid(), start=mark)
        self.app.wait_log(r"event=login service=pop3 ip=local:uid=%d user=demo@localhost mech=USER"
                          % os.geteuid(), start=mark)


class TestListenerErrors(unittest.TestCase):
    def test_a_file_in_the_way_is_not_replaced(self):
        d = tempfile.mkdtemp(prefix="postern-sock-")
        path = os.path.join(d, "not-a-socket")
        with open(path, "w") as f:
            f.write("keep me\n")
        app = Appliance({"pop3_listen": path})
        try:
            r = subprocess.run([os.path.join(BIN, "postern-master"), "-c", app.conf],
                               capture_output=True, text=True, timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("listen on %s: exists and is not a socket" % path, r.stderr)
            with open(path) as f:
                self.assertEqual(f.read(), "keep me\n")
        finally:
            app.cleanup()


class TestConfigCheck(unittest.TestCase):
    """config check refuses what the master could not bind, naming the key."""

    def check(self, text):
        d = tempfile.mkdtemp(prefix="postern-cc-")
        path = os.path.join(d, "postern.conf")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run([os.path.join(BIN, "posternctl"), "-c", path, "config", "check"],
                              capture_output=True, text=True, timeout=10)

    def test_listen_addresses(self):
        cases = {
            "pop3_listen = 127.0.0.1:99999\n": "pop3_listen: bad listen address '127.0.0.1:99999'",
            "pop3_listen = localhost:41120\n": "pop3_listen: bad listen address 'localhost:41120'",
            "pop3_listen = [::1]:0\n": "pop3_listen: bad listen address '[::1]:0'",
            "pop3_listen = /" + "x" * 120 + "\n": "pop3_listen: unix socket path too long",
            "pop3_listen = 127.0.0.1:1110\npop3s_listen = 127.0.0.1:1110\n":
                "pop3s_listen: '127.0.0.1:1110' is listed twice (also in pop3_listen",
            "pop3_listen = [::1]:110, [0:0::1]:110\n": "pop3_listen: '[0:0::1]:110' is listed twice",
        }
        for text, want in cases.items():
            r = self.check(text)
            self.assertEqual(r.returncode, 1, text)
            self.assertIn(want, r.stderr, text)
        r = self.check("pop3_listen = 127.0.0.1:1110, [::1]:1110, /run/postern-test.sock\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_unknown_key_suggests_the_near_one(self):
        r = self.check("pop3_lisen = 127.0.0.1:110\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn(":1: unknown key 'pop3_lisen' (did you mean pop3_listen?)", r.stderr)
        r = self.check("MAXDAEMON = 10\n")
        self.assertIn("(did you mean MAXDAEMONS?)", r.stderr)
        r = self.check("completely_else = 1\n")
        self.assertIn("unknown key 'completely_else'", r.stderr)
        self.assertNotIn("did you mean", r.stderr)


class TestUnixListenerDirectory(unittest.TestCase):
    def test_a_directory_others_can_write_is_refused(self):
        d = tempfile.mkdtemp(prefix="postern-sock-")
        os.chmod(d, 0o777)
        path = os.path.join(d, "pop3.sock")
        app = Appliance({"pop3_listen": path})
        try:
            r = subprocess.run([os.path.join(BIN, "postern-master"), "-c", app.conf],
                               capture_output=True, text=True, timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("its directory must be owned by root", r.stderr)
            self.assertFalse(os.path.exists(path))
        finally:
            app.cleanup()


class TestServiceTable(unittest.TestCase):
    def test_posternctl_services_lists_every_row(self):
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", "/dev/null", "services"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {l.split()[0]: l.split()[1] for l in r.stdout.splitlines()[1:]}
        self.assertEqual(rows["pop3"], "enabled")
        self.assertEqual(rows["pop3s"], "enabled")
        self.assertEqual(rows["lmtp"], "enabled")
        self.assertEqual(rows["imap"], "enabled")
        self.assertEqual(rows["imaps"], "enabled")
        self.assertEqual(rows["smtp"], "enabled")
        self.assertEqual(rows["metrics"], "enabled")
        for name in ("submission", "submissions",
                     "managesieve", "http"):
            self.assertEqual(rows[name], "not", name)  # "not yet"


if __name__ == "__main__":
    unittest.main()
