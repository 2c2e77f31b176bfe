"""Return-Path and Delivered-To at final delivery, over SMTP and LMTP: the
deliver view of stored writes them ahead of each recipient's copy (the
sender from the worker, checked as an SMTP mailbox; the recipient from the
master), and refuses a copy whose message already has that recipient's
Delivered-To (554 5.4.6, a mail loop).  The files are read as bytes and with
Python's email parser, and POP3, IMAP, the Maildir name and maildirsize must
all agree on their size.  docs/SMTP.md "At final delivery" is the operator's
side of the same."""
import email
import email.policy
import glob
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import unittest

from harness import Appliance, free_port


class HeadersBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance({"lmtp_listen": "127.0.0.1:%d" % cls.lport})
        cls.app.ctl("alias", "add", "info@localhost", "demo2@localhost")
        cls.app.start()
        cls.nuser = 0

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def new_user(self, quota=None):
        type(self).nuser += 1
        name = "h%d%s" % (self.nuser, self._testMethodName[5:18].replace("_", ""))
        self.app.ctl("user", "add", name, "-p", "pw-" + name, *(["-q", str(quota)] if quota else []))
        return name

    def files(self, user):
        return sorted(glob.glob(os.path.join(self.app.maildir(user), "new", "*")))

    def last(self, user):
        with open(self.files(user)[-1], "rb") as f:
            return f.read()

    def smtp(self):
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20)
        self.assertEqual(c.ehlo("client.test")[0], 250)
        return c

    def lmtp(self):
        c = smtplib.LMTP("127.0.0.1", self.lport, timeout=20)
        self.assertEqual(c.ehlo("client.test")[0], 250)
        return c

    def transaction(self, client, sender, rcpts, msg, options=()):
        """MAIL, RCPTs, DATA; the DATA replies (LMTP: one per recipient)."""
        c = client()
        self.assertEqual(c.mail(sender, list(options))[0], 250)
        for r in rcpts:
            self.assertEqual(c.rcpt(r)[0], 250, r)
        try:
            first = c.data(msg)
        except smtplib.SMTPDataError as e:
            first = (e.smtp_code, e.smtp_error)
        out = [first]
        if client == self.lmtp:
            out += [c.getreply() for _ in rcpts[1:]]
        c.quit()
        return out


class TestDeliveryHeaders(HeadersBase):
    def test_return_path_and_delivered_to_lead_each_copy(self):
        for client in (self.smtp, self.lmtp):
            a, b = self.new_user(), self.new_user()
            msg = b"Subject: headers\r\n\r\nbody\r\n"
            r = self.transaction(client, "sender@example.org", [a + "@localhost", b.upper() + "@LOCALHOST"], msg)
            self.assertEqual([x[0] for x in r], [250] * len(r))
            for u in (a, b):
                data = self.last(u)
                head = b"Return-Path: <sender@example.org>\nDelivered-To: %s@localhost\n" % u.encode()
                self.assertTrue(data.startswith(head), data[:200])
                rest = data[len(head):]
                if client == self.smtp:
                    self.assertTrue(rest.startswith(b"Received: from client.test"), rest[:100])
                self.assertTrue(rest.endswith(b"Subject: headers\n\nbody\n"), rest)
                m = email.message_from_bytes(data, policy=email.policy.default)
                self.assertEqual(m["Return-Path"], "<sender@example.org>")
                self.assertEqual(m.get_all("Delivered-To"), ["%s@localhost" % u])
                self.assertEqual(m["Subject"], "headers")
                self.assertEqual(m.get_content(), "body\n")

    def test_null_sender_alias_and_subaddress_name_the_resolved_user(self):
        for client in (self.smtp, self.lmtp):
            a = self.new_user()
            r = self.transaction(client, "", ["info@localhost", a + "+tag@localhost"], b"Subject: n\r\n\r\nx\r\n")
            self.assertEqual([x[0] for x in r], [250] * len(r))
            self.assertTrue(self.last("demo2").startswith(b"Return-Path: <>\nDelivered-To: demo2@localhost\n"))
            self.assertTrue(self.last(a).startswith(b"Return-Path: <>\nDelivered-To: %s@localhost\n" % a.encode()))
            m = email.message_from_bytes(self.last("demo2"), policy=email.policy.default)
            self.assertEqual(m["Return-Path"], "<>")

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks_over_smtp_and_lmtp(self):
        for proto, port in (("ESMTP", self.app.smtp_port), ("LMTP", self.lport)):
            a = self.new_user()
            r = subprocess.run(["swaks", "--protocol", proto, "--server", "127.0.0.1", "--port", str(port),
                                "--from", "bounce-42@lists.example", "--to", "%s@localhost" % a,
                                "--header", "Subject: swaks", "--body", "from swaks"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            m = email.message_from_bytes(self.last(a), policy=email.policy.default)
            self.assertEqual(m["Return-Path"], "<bounce-42@lists.example>")
            self.assertEqual(m["Delivered-To"], "%s@localhost" % a)
            self.assertEqual(m["Subject"], "swaks")

    def test_utf8_sender_kept_as_sent(self):
        a = self.new_user()
        c = self.smtp()
        self.assertEqual(c.mail("j\u00f6rg@example.org", ["SMTPUTF8"])[0], 250)
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        self.assertEqual(c.data(b"Subject: u\r\n\r\nx\r\n")[0], 250)
        c.quit()
        self.assertTrue(self.last(a).startswith("Return-Path: <j\u00f6rg@example.org>\n".encode()))

    def test_sender_with_a_line_break_never_reaches_a_header(self):
        a = self.new_user()
        s = socket.create_connection(("127.0.0.1", self.app.smtp_port), timeout=20)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 "))
        s.sendall(b"EHLO client.test\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"MAIL FROM:<x@example.org>\rX-Injected: yes\r\n")
        self.assertEqual(f.readline()[:1], b"5")  # refused: no such sender
        s.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n" % a.encode())
        self.assertTrue(f.readline().startswith(b"250"))
        self.assertTrue(f.readline().startswith(b"250"))
        self.assertTrue(f.readline().startswith(b"354"))
        s.sendall(b"Subject: i\r\n\r\nx\r\n.\r\nQUIT\r\n")
        self.assertTrue(f.readline().startswith(b"250"))
        f.close()
        s.close()
        data = self.last(a)
        self.assertNotIn(b"X-Injected", data)
        self.assertTrue(data.startswith(b"Return-Path: <a@example.org>\nDelivered-To: "))


class TestLoops(HeadersBase):
    def test_lmtp_loop_refused_for_that_recipient_only(self):
        a, b = self.new_user(), self.new_user()
        msg = b"Received: x\r\nDELIVERED-TO: <%s@LOCALHOST>\r\nSubject: loop\r\n\r\nx\r\n" % a.encode()
        mark = self.app.log_mark()
        r = self.transaction(self.lmtp, "s@example.org", [a + "@localhost", b + "@localhost"], msg)
        self.assertEqual(r[0], (554, b"5.4.6 Mail loop: already delivered to this recipient"))
        self.assertEqual(r[1][0], 250)
        self.assertEqual(self.files(a), [])
        self.assertEqual(len(self.files(b)), 1)
        # two Delivered-To lines now: ours first, then the one that came
        m = email.message_from_bytes(self.last(b), policy=email.policy.default)
        self.assertEqual(m.get_all("Delivered-To"), ["%s@localhost" % b, "<%s@LOCALHOST>" % a])
        self.app.wait_log(r"proc=stored .*event=loop_refused user=%s@localhost" % a, start=mark)
        self.app.wait_log(r"event=rcpt_refused ip=\S+ rcpt=0 reason=loop", start=mark)

    def test_smtp_loop_one_reply(self):
        a, b = self.new_user(), self.new_user()
        msg = b"Delivered-To: %s@localhost\r\nSubject: loop\r\n\r\nx\r\n" % a.encode()
        r = self.transaction(self.smtp, "s@example.org", [a + "@localhost"], msg)
        self.assertEqual(r[0][0], 554)
        self.assertTrue(r[0][1].startswith(b"5.4.6"), r)
        # beside a recipient that takes it: 250 (the looping one had it already)
        r = self.transaction(self.smtp, "s@example.org", [a + "@localhost", b + "@localhost"], msg)
        self.assertEqual(r[0][0], 250)
        self.assertEqual(self.files(a), [])
        self.assertEqual(len(self.files(b)), 1)

    def test_delivered_to_in_the_body_is_no_loop(self):
        a = self.new_user()
        msg = b"Subject: quoted\r\n\r\nDelivered-To: %s@localhost\r\n" % a.encode()
        self.assertEqual(self.transaction(self.lmtp, "s@example.org", [a + "@localhost"], msg)[0][0], 250)
        # and delivering the stored copy again to the same user is a loop
        again = self.last(a).replace(b"\n", b"\r\n")
        self.assertEqual(self.transaction(self.lmtp, "s@example.org", [a + "@localhost"], again)[0][0], 554)


class TestSizesAgree(HeadersBase):
    def test_pop3_imap_name_and_maildirsize_count_the_headers(self):
        a = self.new_user(quota=1000000)
        body = b"Subject: sizes\r\n\r\n" + b"line\r\n" * 50
        self.assertEqual(self.transaction(self.smtp, "s@example.org", [a + "@localhost"], body)[0][0], 250)
        path = self.files(a)[0]
        with open(path, "rb") as f:
            data = f.read()
        crlf = len(data) + data.count(b"\n")
        m = re.search(r",S=(\d+),W=(\d+)$", path)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (len(data), crlf))
        with open(os.path.join(self.app.maildir(a), "maildirsize")) as f:
            lines = f.read().splitlines()
        self.assertEqual(sum(int(l.split()[0]) for l in lines[1:]), len(data))
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=20)
        p.user(a)
        p.pass_("pw-" + a)
        self.assertEqual(p.list()[1], [b"1 %d" % crlf])
        _, lines, octets = p.retr(1)
        self.assertEqual(lines[0], b"Return-Path: <s@example.org>")
        self.assertEqual(lines[1], b"Delivered-To: %s@localhost" % a.encode())
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", data.replace(b"\n", b"\r\n"))
        p.quit()
        i = imaplib.IMAP4("127.0.0.1", self.app.imap_port)
        i.login(a, "pw-" + a)
        i.select("INBOX")
        typ, d = i.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"RFC822.SIZE %d" % crlf, d[0][0])
        self.assertEqual(d[0][1], data.replace(b"\n", b"\r\n"))
        i.logout()


if __name__ == "__main__":
    unittest.main()
