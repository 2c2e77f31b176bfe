"""smtp_bad_mime (Courier's BOFHBADMIME) over SMTP and LMTP: accept stores
every message as it came; reject refuses a message that is not conformant
MIME with 550 5.6.0 naming the defect (once per recipient in LMTP); wrap
delivers it inside a new multipart/mixed with a text part saying why and
the original attached, unchanged (message/rfc822, or base64
application/octet-stream when it is not even RFC 5322).  One event=bad_mime
line per refused or wrapped message.  docs/SMTP.md "MIME conformance" is
the operator's side of the same."""
import base64
import email
import email.policy
import glob
import os
import smtplib
import socket
import subprocess
import unittest

from harness import BIN, Appliance, delivery_headers, free_port

GOOD = (b"From: Sender <sender@example.org>\nTo: demo@localhost\nSubject: good\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
        b"--b1\nContent-Type: text/plain; charset=us-ascii\n\nhello\n"
        b"--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        b"aGVsbG8=\n--b1--\n")
PLAIN = b"From: sender@example.org\nSubject: plain\n\nJust text, no MIME at all.\n"
UNCLOSED = (b"From: Sender <sender@example.org>\nTo: demo@localhost\nSubject: unclosed\n"
            b"Date: Tue, 01 Dec 2026 10:00:00 +0000\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
            b"--b1\nContent-Type: text/plain\n\nthe close delimiter never comes\n")
EIGHTBIT = (b"From: sender@example.org\nSubject: eight\nMIME-Version: 1.0\n"
            b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            b"caf\xc3\xa9\n")
UNKNOWN_CTE = (b"From: sender@example.org\nSubject: cte\nMIME-Version: 1.0\n"
               b"Content-Transfer-Encoding: x-rot13\n\nuryyb\n")


def crlf(b):
    """smtplib sends bytes as given: the wire's line ends are CRLF (the
    messages above are written as they are stored, with LF)."""
    return b.replace(b"\n", b"\r\n")


class BadMimeBase(unittest.TestCase):
    MODE = None
    EXTRA = {}

    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        over = dict(cls.EXTRA, lmtp_listen="127.0.0.1:%d" % cls.lport)
        if cls.MODE is not None:
            over["BOFHBADMIME" if cls.MODE == "reject" else "smtp_bad_mime"] = cls.MODE
        cls.app = Appliance(over)
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def files(self, user="demo"):
        return sorted(glob.glob(os.path.join(self.app.maildir(user), "new", "*")))

    def stored(self, before, user="demo"):
        new = [f for f in self.files(user) if f not in before]
        self.assertEqual(len(new), 1, new)
        with open(new[0], "rb") as f:
            return delivery_headers(f.read(), user)[2]

    def smtp_send(self, msg, rcpts=("demo@localhost",), options=()):
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20)
        try:
            c.ehlo("client.test")
            self.assertEqual(c.mail("s@example.org", list(options))[0], 250)
            for r in rcpts:
                self.assertEqual(c.rcpt(r)[0], 250)
            try:
                return c.data(crlf(msg))
            except smtplib.SMTPDataError as e:
                return (e.smtp_code, e.smtp_error)
        finally:
            c.quit()

    def lmtp_send(self, msg, rcpts, options=()):
        c = smtplib.LMTP("127.0.0.1", self.lport, timeout=20)
        try:
            c.ehlo("client.test")
            self.assertEqual(c.mail("s@example.org", list(options))[0], 250)
            for r in rcpts:
                self.assertEqual(c.rcpt(r)[0], 250)
            try:
                first = c.data(crlf(msg))
            except smtplib.SMTPDataError as e:
                first = (e.smtp_code, e.smtp_error)
            return [first] + [c.getreply() for _ in rcpts[1:]]
        finally:
            c.quit()

    def bdat(self, payload):
        """One BDAT LAST chunk over SMTP with a raw socket: the reply line."""
        with socket.create_connection(("127.0.0.1", self.app.smtp_port), timeout=20) as s:
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"220"))
            s.sendall(b"EHLO client.test\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            s.sendall(b"MAIL FROM:<s@example.org> BODY=8BITMIME\r\nRCPT TO:<demo@localhost>\r\n")
            self.assertTrue(f.readline().startswith(b"250"))
            self.assertTrue(f.readline().startswith(b"250"))
            s.sendall(b"BDAT %d LAST\r\n" % len(payload) + payload)
            reply = f.readline()
            s.sendall(b"QUIT\r\n")
            f.readline()
            f.close()
            return reply


class TestAccept(BadMimeBase):
    """The default: every message is stored as it came."""

    def test_unclosed_multipart_is_stored_as_it_came(self):
        before = self.files()
        self.assertEqual(self.smtp_send(UNCLOSED)[0], 250)
        body = self.stored(before)
        self.assertTrue(body.endswith(UNCLOSED), body[-200:])
        self.assertNotIn("event=bad_mime ", self.app.log())


class TestReject(BadMimeBase):
    MODE = "reject"  # through Courier's name, the alias

    def test_conformant_and_plain_messages_are_delivered(self):
        for msg in (GOOD, PLAIN):
            before = self.files()
            self.assertEqual(self.smtp_send(msg)[0], 250)
            self.assertTrue(self.stored(before).endswith(msg))

    def test_unclosed_multipart_550_560(self):
        before, mark = self.files(), self.app.log_mark()
        code, text = self.smtp_send(UNCLOSED)
        self.assertEqual(code, 550)
        self.assertTrue(text.startswith(b"5.6.0 "), text)
        self.assertIn(b"a multipart that is not closed, line 11", text)
        self.assertEqual(self.files(), before, "nothing delivered")
        self.app.wait_log(r"sid=\w+ .*event=bad_mime ip=127.0.0.1 action=reject "
                          r"defect=unclosed_multipart line=11 size=\d+ reply=550/5.6.0", start=mark)

    def test_eight_bit_body_needs_8bitmime(self):
        mark = self.app.log_mark()
        code, text = self.smtp_send(EIGHTBIT)
        self.assertEqual(code, 550)
        self.assertIn(b"8-bit bytes in the body without 8BITMIME", text)
        self.app.wait_log(r"event=bad_mime .*defect=8bit_body", start=mark)
        before = self.files()
        self.assertEqual(self.smtp_send(EIGHTBIT, options=("BODY=8BITMIME",))[0], 250)
        self.assertTrue(self.stored(before).endswith(EIGHTBIT))

    def test_unknown_encoding_refused_once_per_recipient_over_lmtp(self):
        before = self.files("demo") + self.files("demo2")
        replies = self.lmtp_send(UNKNOWN_CTE, ["demo@localhost", "demo2@localhost"])
        self.assertEqual(len(replies), 2)
        for code, text in replies:
            self.assertEqual(code, 550)
            self.assertIn(b"5.6.0 Message refused: not conformant MIME "
                          b"(an unknown Content-Transfer-Encoding, line 5)", text)
        self.assertEqual(self.files("demo") + self.files("demo2"), before)
        # the session goes on: a good message in the next transaction
        self.assertEqual(self.lmtp_send(GOOD, ["demo@localhost"])[0][0], 250)

    def test_nul_in_bdat_refused(self):
        # DATA refuses a NUL itself (554 5.6.0); BDAT carries it to the check
        mark = self.app.log_mark()
        reply = self.bdat(crlf(b"Subject: nul\r\n\r\na\x00b\r\n"))
        self.assertTrue(reply.startswith(b"550 5.6.0 "), reply)
        self.assertIn(b"a NUL byte, line 3", reply)
        self.app.wait_log(r"event=bad_mime .*action=reject defect=nul line=3", start=mark)

    def test_postern_deliver_declares_8bitmime(self):
        # the MTA behind postern-deliver took the message as it is: an 8-bit
        # MIME message passes, a broken one is refused (exit 69, the 5.6.0 quoted)
        before = self.files()
        r = subprocess.run([os.path.join(BIN, "postern-deliver"), "-c", self.app.conf, "-f",
                            "s@example.org", "demo@localhost"], input=EIGHTBIT,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.stored(before).endswith(EIGHTBIT))
        r = subprocess.run([os.path.join(BIN, "postern-deliver"), "-c", self.app.conf,
                            "demo@localhost"], input=UNCLOSED, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn(b"5.6.0", r.stderr)

    def test_long_line_in_bdat_refused(self):
        reply = self.bdat(b"Subject: long\r\n\r\n" + b"a" * 1200 + b"\r\n")
        self.assertTrue(reply.startswith(b"550 5.6.0 "), reply)
        self.assertIn(b"a line over 998 octets", reply)


class TestWrap(BadMimeBase):
    MODE = "wrap"
    EXTRA = {"smtp_max_message_size": "65536"}  # the wrapping may pass it (base64)

    def parse(self, body):
        return email.message_from_bytes(body, policy=email.policy.default)

    def test_conformant_message_is_not_wrapped(self):
        before = self.files()
        self.assertEqual(self.smtp_send(GOOD)[0], 250)
        self.assertTrue(self.stored(before).endswith(GOOD))

    def test_unclosed_multipart_wrapped_as_message_rfc822(self):
        before, mark = self.files(), self.app.log_mark()
        self.assertEqual(self.smtp_send(UNCLOSED)[0], 250)
        body = self.stored(before)
        self.assertTrue(body.startswith(b"Received: from client.test "), body[:80])
        m = self.parse(body)
        self.assertEqual(m["Subject"], "unclosed")
        self.assertEqual(m["From"], "Sender <sender@example.org>")
        self.assertEqual(m["To"], "demo@localhost")
        self.assertEqual(m["Date"], "Tue, 01 Dec 2026 10:00:00 +0000")
        self.assertEqual(m["X-Postern-Bad-MIME"], "unclosed_multipart (line 11)")
        self.assertEqual(m.get_content_type(), "multipart/mixed")
        self.assertEqual(m.defects, [], "the wrapper itself is conformant")
        text, orig = m.get_payload()
        self.assertEqual(text.get_content_type(), "text/plain")
        self.assertIn("not conformant MIME (a multipart that is not closed, line 11)",
                      text.get_content())
        self.assertEqual(orig.get_content_type(), "message/rfc822")
        self.assertEqual(orig.get_filename(), "original.eml")
        # the original, byte for byte, between the part header and the close delimiter
        raw = body.split(b"filename=\"original.eml\"\n\n", 1)[1]
        self.assertTrue(raw.endswith(b"\n--%s--\n" % m.get_boundary().encode()))
        self.assertEqual(raw[:len(UNCLOSED)], UNCLOSED)
        self.assertEqual(len(raw), len(UNCLOSED) + len(b"\n--%s--\n" % m.get_boundary().encode()))
        self.app.wait_log(r"sid=\w+ .*event=bad_mime ip=127.0.0.1 action=wrap "
                          r"defect=unclosed_multipart line=11 size=\d+ wrapped_as=message/rfc822 "
                          r"wrapped_size=\d+", start=mark)

    def test_eight_bit_without_8bitmime_wrapped_as_octet_stream_over_lmtp(self):
        before1, before2, mark = self.files("demo"), self.files("demo2"), self.app.log_mark()
        msg = b"From: sender@example.org\nSubject: latin\n\ncaf\xe9 au lait\n"
        replies = self.lmtp_send(msg, ["demo@localhost", "demo2@localhost"])
        self.assertEqual([r[0] for r in replies], [250, 250])
        for user, before in (("demo", before1), ("demo2", before2)):
            body = self.stored(before, user)
            m = self.parse(body)
            self.assertEqual(m["Subject"], "latin")
            text, orig = m.get_payload()
            self.assertIn("8-bit bytes in the body without 8BITMIME", text.get_content())
            self.assertEqual(orig.get_content_type(), "application/octet-stream")
            self.assertEqual(orig["Content-Transfer-Encoding"], "base64")
            self.assertEqual(orig.get_payload(decode=True), msg)
            self.assertTrue(all(b < 0x80 for b in body), "the wrapper is 7-bit")
        self.app.wait_log(r"event=bad_mime .*action=wrap defect=8bit_body line=4 .*"
                          r"wrapped_as=application/octet-stream", start=mark)

    def test_a_message_near_the_size_limit_is_wrapped_whole(self):
        # 8-bit lines without 8BITMIME: base64, a third larger than the limit
        before = self.files()
        msg = b"Subject: big\n\n" + (b"\xe9" * 70 + b"\n") * 900
        self.assertLess(len(msg), 65536)
        self.assertEqual(self.smtp_send(msg)[0], 250)
        body = self.stored(before)
        self.assertGreater(len(body), 65536 + 4096)
        self.assertEqual(self.parse(body).get_payload()[1].get_payload(decode=True), msg)

    def test_no_header_at_all_gets_from_and_date(self):
        before = self.files()
        msg = b"this is no header line\n\nbody\n"
        self.assertEqual(self.smtp_send(msg)[0], 250)
        m = self.parse(self.stored(before))
        self.assertEqual(m["From"].addresses[0].addr_spec, "s@example.org")
        self.assertIsNotNone(m["Date"])
        self.assertEqual(m["X-Postern-Bad-MIME"], "header_syntax (line 1)")
        self.assertEqual(m.get_payload()[1].get_payload(decode=True), msg)


if __name__ == "__main__":
    unittest.main()
