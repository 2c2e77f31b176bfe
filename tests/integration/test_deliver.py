"""postern-deliver, the MDA for other MTAs: a message on stdin reaches the
Maildir through the appliance's own LMTP listener, with sysexits codes an
MTA maps to defer or bounce."""
import glob
import os
import subprocess
import unittest

from harness import BIN, Appliance, delivery_headers, free_port

DELIVER = os.path.join(BIN, "postern-deliver")


class TestDeliver(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"lmtp_listen": "127.0.0.1:%d" % free_port()})
        cls.sock = os.path.join(cls.app.dir, "lmtp.sock")
        cls.app.settings["lmtp_listen"] = cls.sock + ", " + cls.app.settings["lmtp_listen"]
        cls.app.settings["listen_unix_mode"] = "0666"
        cls.app.write_conf()
        cls.app.ctl("user", "add", "full", "-p", "pw", "-q", "100")
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def run_deliver(self, args, data, conf=None, user=None):
        cmd = [DELIVER, "-c", conf or self.app.conf] + args
        pre = (lambda: os.setuid(65534)) if user else None
        return subprocess.run(cmd, input=data, capture_output=True, timeout=60, preexec_fn=pre)

    def files(self, user):
        return sorted(glob.glob(os.path.join(self.app.maildir(user), "new", "*")))

    def test_delivers_exact_bytes_and_drops_the_mbox_line(self):
        before = len(self.files("demo"))
        body = b"From sender@example.org Tue Dec  1 10:00:00 2026\nSubject: via MDA\n\n.dot\nbody\n"
        r = self.run_deliver(["-f", "sender@example.org", "demo@localhost"], body)
        self.assertEqual(r.returncode, 0, r.stderr)
        new = self.files("demo")
        self.assertEqual(len(new), before + 1)
        with open(new[-1], "rb") as f:
            self.assertEqual(f.read(), b"Return-Path: <sender@example.org>\nDelivered-To: demo@localhost\n"
                             b"Subject: via MDA\n\n.dot\nbody\n")

    def test_large_message_in_chunks(self):
        body = b"Subject: big\n\n" + (b"x" * 76 + b"\n") * 20000   # 1.5 MB, several BDAT chunks
        r = self.run_deliver(["demo2@localhost"], body)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = self.files("demo2")[-1]
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(delivery_headers(data, "demo2")[2], body)
        # the sizes in the name count the header lines too (what is on disk)
        self.assertTrue(path.endswith(",S=%d,W=%d" % (len(data), len(data) + data.count(b"\n"))), path)

    def test_unknown_user_67_and_mixed_recipients(self):
        r = self.run_deliver(["nobody@localhost"], b"Subject: x\n\nx\n")
        self.assertEqual(r.returncode, 67)
        self.assertIn(b"nobody@localhost: 550 5.1.1", r.stderr)
        before = len(self.files("demo"))
        r = self.run_deliver(["demo@localhost", "nobody@localhost"], b"Subject: y\n\ny\n")
        self.assertEqual(r.returncode, 67)
        self.assertEqual(len(self.files("demo")), before + 1)  # the known one got it

    def test_loop_65_and_null_sender(self):
        """A message that already has the recipient's Delivered-To is refused for
        that recipient (554 5.4.6 over LMTP): EX_DATAERR, the data is at fault
        and a retry cannot help; the others still get it."""
        before = (len(self.files("demo")), len(self.files("demo2")))
        r = self.run_deliver(["-f", "<>", "demo2@localhost"], b"Delivered-To: demo@localhost\n"
                             b"Subject: bounced\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.files("demo2")[-1], "rb") as f:
            self.assertTrue(f.read().startswith(b"Return-Path: <>\nDelivered-To: demo2@localhost\n"
                                                b"Delivered-To: demo@localhost\n"))
        r = self.run_deliver(["demo@localhost"], b"Subject: again\nDelivered-To: Demo@Localhost\n\nx\n")
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertIn(b"demo@localhost: 554 5.4.6", r.stderr)
        r = self.run_deliver(["demo@localhost", "demo2@localhost"], b"Delivered-To: demo@localhost\n\nx\n")
        self.assertEqual(r.returncode, 65, r.stderr)
        self.assertEqual((len(self.files("demo")), len(self.files("demo2"))), (before[0], before[1] + 2))

    def test_over_quota_77(self):
        r = self.run_deliver(["full@localhost"], b"Subject: q\n\n" + b"q" * 200 + b"\n")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn(b"552 5.2.2", r.stderr)
        self.assertEqual(self.files("full"), [])

    def test_needs_no_privilege(self):
        # any uid that may connect to the socket delivers (mode 0666 here)
        r = self.run_deliver(["demo@localhost"], b"Subject: nobody\n\nz\n", user=65534)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_no_listener_is_a_config_error_and_down_is_a_deferral(self):
        conf = os.path.join(self.app.dir, "nolmtp.conf")
        with open(self.app.conf) as f, open(conf, "w") as g:
            g.write("".join(l for l in f if not l.startswith("lmtp_listen")))
        r = self.run_deliver(["demo@localhost"], b"x\n", conf=conf)
        self.assertEqual(r.returncode, 78)
        self.assertIn(b"lmtp_listen is empty", r.stderr)
        down = os.path.join(self.app.dir, "down.conf")
        with open(conf) as f, open(down, "w") as g:
            g.write(f.read() + "lmtp_listen = 127.0.0.1:%d\n" % free_port())
        r = self.run_deliver(["demo@localhost"], b"x\n", conf=down)
        self.assertEqual(r.returncode, 75)

    def test_usage(self):
        self.assertEqual(self.run_deliver([], b"").returncode, 64)
        self.assertEqual(self.run_deliver(["a b@localhost"], b"").returncode, 64)


if __name__ == "__main__":
    unittest.main()
