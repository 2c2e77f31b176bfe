"""postern-lmtpd behind a fake master and stored (lmtp_fake.py): the
worker's half of the intake protocol, checked message by message."""
import os
import smtplib
import socket
import unittest

from harness import wait_until
from lmtp_fake import SEALS, Worker

USERS = {"a@localhost": 0, "b@localhost": 0, "gone@localhost": 2, "bad@": 3, "tmp@localhost": 4,
         "full@localhost": 0, "broken@localhost": 0, "nostore@localhost": 0}
def lmtp_data(c, msg, n):
    """DATA and the n replies (one per accepted recipient, RFC 2033 4.2):
    smtplib.LMTP reads only the first."""
    try:
        codes = [c.data(msg)[0]]
    except smtplib.SMTPDataError as e:
        codes = [e.smtp_code]
    return codes + [c.getreply()[0] for _ in range(n - 1)]


STORE = {"full@localhost": "toobig", "broken@localhost": "io", "nostore@localhost": "nostore"}


@unittest.skipUnless(os.geteuid() == 0, "the worker's sandbox needs root")
class TestLmtpWorker(unittest.TestCase):
    def setUp(self):
        self.w = Worker(USERS, STORE, conf=getattr(self, "conf", ()))

    def tearDown(self):
        self.w.close()

    def lmtp(self):
        c = smtplib.LMTP(self.w.path, timeout=10)
        wait_until(lambda: self.w.master is not None, 10, "worker spawned")
        return c

    def test_two_recipients_one_unknown_sealed_memfd(self):
        c = self.lmtp()
        code, caps = c.ehlo("client.test")
        self.assertEqual(code, 250)
        for cap in (b"PIPELINING", b"ENHANCEDSTATUSCODES", b"8BITMIME", b"SIZE 52428800",
                    b"CHUNKING"):
            self.assertIn(cap, caps)
        msg = b"Subject: hi\r\n\r\n.dot line\r\nbody\r\n"   # smtplib stuffs the dot
        c.mail("s@example.org")
        self.assertEqual(c.rcpt("a@localhost")[0], 250)
        self.assertEqual(c.rcpt("nobody@localhost"), (550, b"5.1.1 No such user here"))
        self.assertEqual(c.rcpt("b@localhost")[0], 250)
        self.assertEqual(lmtp_data(c, msg, 2), [250, 250])
        c.quit()
        m = self.w.master
        # the reset follows the replies: the fake master may still be reading it
        wait_until(lambda: ("reset",) in m.events, 5, "reset after the delivery")
        self.assertEqual(m.delivered["a@localhost"], [b"Subject: hi\n\n.dot line\nbody\n"])
        self.assertEqual(m.delivered["b@localhost"], [b"Subject: hi\n\n.dot line\nbody\n"])
        self.assertEqual(m.seals, [SEALS, SEALS])
        self.assertEqual(m.events, [("rcpt", "a@localhost"), ("rcpt", "nobody@localhost"),
                                    ("rcpt", "b@localhost"), ("deliver", 0), ("deliver", 1),
                                    ("reset",)])

    def raw(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.w.path)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 lmtp.test LMTP"))
        return s, f

    def replies(self, f, n):
        out = []
        for _ in range(n):
            line = f.readline()
            while line[3:4] == b"-":
                line = f.readline()
            out.append(line.decode().strip())
        return out

    def test_per_recipient_replies_pipelined(self):
        s, f = self.raw()
        s.sendall(b"LHLO x\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<a@localhost>\r\n"
                  b"RCPT TO:<gone@localhost>\r\nRCPT TO:<full@localhost>\r\nRCPT TO:<tmp@localhost>\r\n"
                  b"RCPT TO:<broken@localhost>\r\nRCPT TO:<nostore@localhost>\r\nDATA\r\n")
        r = self.replies(f, 9)
        self.assertEqual([x[:9] for x in r[1:]], ["250 2.1.0", "250 2.1.5", "550 5.2.1", "250 2.1.5",
                                                   "451 4.3.0", "250 2.1.5", "250 2.1.5", "354 End d"])
        s.sendall(b"x\r\n.\r\n")
        r = self.replies(f, 4)
        self.assertEqual([x[:9] for x in r], ["250 2.0.0", "552 5.2.2", "451 4.3.0", "451 4.3.0"])
        s.sendall(b"QUIT\r\n")
        self.assertTrue(f.readline().startswith(b"221"))
        s.close()

    def test_bdat_chunks_and_rset(self):
        s, f = self.raw()
        s.sendall(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@localhost>\r\nRSET\r\n")
        self.assertEqual([x[:9] for x in self.replies(f, 4)[1:]], ["250 2.1.0", "250 2.1.5", "250 2.0.0"])
        wait_until(lambda: ("reset",) in self.w.master.events, 5, "reset after RSET")
        s.sendall(b"MAIL FROM:<>\r\nRCPT TO:<b@localhost>\r\nBDAT 10\r\nA: b\r\n\r\nx\rBDAT 4 LAST\r\n\ny\r\n")
        r = self.replies(f, 4)
        self.assertEqual([x[:9] for x in r], ["250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0"])
        self.assertEqual(self.w.master.delivered["b@localhost"], [b"A: b\n\nx\ny\n"])
        s.close()

    def test_bare_lf_does_not_end_data(self):
        s, f = self.raw()
        s.sendall(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@localhost>\r\nDATA\r\n")
        self.replies(f, 4)
        s.sendall(b"one\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<b@localhost>\r\nDATA\r\nsmuggled\r\n.\r\n")
        r = self.replies(f, 1)
        self.assertTrue(r[0].startswith("554 5.6.0"), r)
        self.assertEqual(self.w.master.delivered, {})
        self.assertNotIn(("rcpt", "b@localhost"), self.w.master.events)
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "the worker's sandbox needs root")
class TestLmtpWorkerLimits(unittest.TestCase):
    def setUp(self):
        self.w = Worker(USERS, STORE, conf=(("lmtp_max_recipients", "2"),
                                            ("lmtp_max_message_size", "2048")))

    def tearDown(self):
        self.w.close()

    def test_recipient_and_size_limits(self):
        c = smtplib.LMTP(self.w.path, timeout=10)
        code, caps = c.ehlo("client.test")
        self.assertIn(b"SIZE 2048", caps)
        c.mail("s@example.org")
        self.assertEqual(c.rcpt("a@localhost")[0], 250)
        self.assertEqual(c.rcpt("b@localhost")[0], 250)
        self.assertEqual(c.rcpt("full@localhost"), (452, b"4.5.3 Too many recipients"))
        big = b"x" * 900 + b"\r\n" + b"y" * 900 + b"\r\n" + b"z" * 900 + b"\r\n"
        self.assertEqual(lmtp_data(c, big, 2), [552, 552])
        self.assertEqual(self.w.master.delivered, {})
        c.mail("s@example.org")
        self.assertEqual(c.rcpt("a@localhost")[0], 250)
        self.assertEqual(lmtp_data(c, b"small\r\n", 1), [250])
        self.assertEqual(self.w.master.delivered, {"a@localhost": [b"small\n"]})
        c.quit()


if __name__ == "__main__":
    unittest.main()
