"""smtp_greet_pause: smtpd waits before its 220, and a client that talks
before the greeting (an early talker, as spam engines are) gets one 554
5.5.0 line and the connection closes.  Raw sockets: the waiting client
reads the greeting, the early talker sends at once.  docs/SMTP.md "Greet
pause" is the operator's side of the same."""
import re
import smtplib
import socket
import time
import unittest

from harness import Appliance, free_port

PAUSE_MS = 1500


def read_all(s):
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            return out
        out += b


class TestGreetPause(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance({"smtp_greet_pause": str(PAUSE_MS), "lmtp_listen": "127.0.0.1:%d" % cls.lport})
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def connect(self, port=None):
        return socket.create_connection(("127.0.0.1", port or self.app.smtp_port), timeout=20)

    def test_a_client_that_waits_is_greeted_after_the_pause(self):
        t0 = time.monotonic()
        with self.connect() as s:
            f = s.makefile("rb")
            greeting = f.readline()
            waited = time.monotonic() - t0
            self.assertTrue(greeting.startswith(b"220 "), greeting)
            self.assertGreaterEqual(waited, PAUSE_MS / 1000.0 * 0.9)
            s.sendall(b"EHLO client.test\r\n")
            while True:
                line = f.readline()
                self.assertTrue(line.startswith(b"250"), line)
                if line.startswith(b"250 "):
                    break
            s.sendall(b"QUIT\r\n")
            self.assertTrue(f.readline().startswith(b"221"))
            f.close()
        # a real client delivers as before
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20)
        c.sendmail("s@example.org", ["demo@localhost"], b"Subject: after the pause\r\n\r\nx\r\n")
        c.quit()

    def test_early_talker_gets_554_and_is_closed(self):
        mark = self.app.log_mark()
        with self.connect() as s:
            s.sendall(b"EHLO spam.example\r\nMAIL FROM:<s@example.org>\r\n")
            data = read_all(s)
        self.assertEqual(data, b"554 5.5.0 Protocol error: data sent before the greeting\r\n")
        m = self.app.wait_log(r"proc=smtpd pid=\d+ sid=([0-9a-f]{24}) level=warn event=early_talker "
                              r"ip=127\.0\.0\.1 bytes=\d+ waited_ms=\d+ reason=\"sent data before the greeting\"",
                              start=mark)
        # the session id is the one of the master's connect line
        self.assertRegex(self.app.log()[mark:], r"sid=%s .*event=connect" % m.group(1))

    def test_early_talker_with_much_to_say_still_reads_the_554(self):
        with self.connect() as s:
            s.sendall(b"EHLO spam.example\r\n" + b"RCPT TO:<x@localhost>\r\n" * 1000)
            data = read_all(s)
        self.assertEqual(data, b"554 5.5.0 Protocol error: data sent before the greeting\r\n")

    def test_a_client_that_leaves_before_the_greeting(self):
        mark = self.app.log_mark()
        s = self.connect()
        s.close()
        self.app.wait_log(r"proc=smtpd .*event=disconnect ip=127\.0\.0\.1 reason=\"left before the greeting\"",
                          start=mark)

    def test_lmtp_greets_at_once(self):
        """The pause is the MX's: LMTP's client is the local MTA."""
        with self.connect(self.lport) as s:
            s.sendall(b"LHLO mta.test\r\n")
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"220 "))
            self.assertTrue(f.readline().startswith(b"250"))
            f.close()


if __name__ == "__main__":
    unittest.main()
