"""SMTP for the MX role (RFC 5321) end to end: real clients (smtplib, swaks,
raw sockets) against a live appliance's postern-smtpd, the mail then read
from the Maildir.  docs/SMTP.md is the operator's side of the same."""
import email.utils
import glob
import os
import re
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from harness import Appliance, delivery_headers, wait_until

RECEIVED = re.compile(rb"^Received: from (\S+) \(\[127\.0\.0\.1\]\)\n"
                      rb"\tby \S+ with (E?SMTPS?) id ([0-9a-f]{24})(\n\t\([^)]*\))?;\n"
                      rb"\t((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
                      rb"|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000)\n")


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the appliance's self-signed certificate
    return ctx


class Raw:
    """A client socket read one byte at a time, so that nothing past a reply
    is buffered here (STARTTLS hands the socket over to TLS)."""

    def __init__(self, port, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.greeting = self.line()

    def line(self):
        out = b""
        while not out.endswith(b"\n"):
            c = self.s.recv(1)
            if not c:
                break
            out += c
        return out.decode("utf-8", "replace")

    def reply(self):
        """One whole reply (its "NNN-" lines too); its last line, or "" at EOF."""
        while True:
            line = self.line()
            if len(line) < 4 or line[3] != "-":
                return line.rstrip("\r\n")

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def send(self, data):
        self.s.sendall(data)

    def close(self):
        self.s.close()


class SmtpBase(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(dict(cls.overrides))
        cls.app.start()
        cls.port = cls.app.smtp_port
        cls.nuser = 0

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def new_user(self):
        type(self).nuser += 1
        name = "s%d%s" % (self.nuser, self._testMethodName[5:20].replace("_", ""))
        self.app.ctl("user", "add", name, "-p", "pw-" + name)
        return name

    def new_files(self, user):
        return sorted(glob.glob(os.path.join(self.app.maildir(user), "new", "*")))

    def read_new(self, user):
        out = []
        for path in self.new_files(user):
            with open(path, "rb") as f:
                out.append(delivery_headers(f.read(), user)[2])
        return out

    def body_of(self, stored):
        """The stored message split into its Received header's fields and the rest."""
        m = RECEIVED.match(stored)
        self.assertIsNotNone(m, stored[:300])
        return m, stored[m.end():]

    def smtp(self):
        c = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        code, _ = c.ehlo("client.test")
        self.assertEqual(code, 250)
        return c


class TestSmtp(SmtpBase):
    def test_ehlo_capabilities_no_auth(self):
        c = self.smtp()
        for ext in ("pipelining", "8bitmime", "size", "enhancedstatuscodes", "chunking", "starttls",
                    "smtputf8"):
            self.assertTrue(c.has_extn(ext), ext)
        self.assertEqual(c.esmtp_features["size"], "52428800")
        self.assertFalse(c.has_extn("auth"), "no AUTH on the MX port")
        self.assertFalse(c.has_extn("dsn"), "no DSN without an outbound queue")
        self.assertEqual(c.docmd("AUTH", "PLAIN AGRlbW8AZGVtbw=="), (502, b"5.5.1 AUTH not offered"))
        self.assertEqual(c.docmd("VRFY", "demo")[0], 252)
        c.quit()

    def test_delivery_to_demo_and_demo2_with_received_header(self):
        # smtplib dot-stuffs the line (RFC 5321 4.5.2), smtpd removes it
        msg = (b"From: s@example.org\r\nTo: demo@localhost\r\nSubject: two\r\n\r\n"
               b".a line that starts with a dot\r\nlast line\r\n")
        want = b"From: s@example.org\nTo: demo@localhost\nSubject: two\n\n.a line that starts with a dot\nlast line\n"
        mark = self.app.log_mark()
        c = self.smtp()
        self.assertEqual(c.sendmail("s@example.org", ["demo@localhost", "demo2@localhost"], msg), {})
        # 250 came after both copies were durable: both are in new/ already
        got = {}
        for user in ("demo", "demo2"):
            files = self.read_new(user)
            self.assertEqual(len(files), 1, user)
            m, rest = self.body_of(files[0])
            self.assertEqual(rest, want)
            self.assertEqual(m.group(1), b"client.test")
            self.assertEqual(m.group(2), b"ESMTP")
            got[user] = m.group(3).decode()
            # smtpd formats the date by hand (no tzset in the sandbox): it is today's
            when = email.utils.parsedate_to_datetime(m.group(5).decode())
            self.assertLess(abs(when.timestamp() - time.time()), 300, m.group(5))
            self.assertEqual(when.strftime("%a"), m.group(5)[:3].decode(), "the weekday")
        c.quit()
        self.assertEqual(got["demo"], got["demo2"])
        line = self.app.wait_log(r"sid=(\w+) .*event=message ip=127.0.0.1 from=<s@example.org> "
                                 r"recipients=2 delivered=2 size=\d+ reply=250", start=mark)
        self.assertEqual(line.group(1), got["demo"], "the Received id is the session id")

    def test_relaying_refused_550_571(self):
        mark = self.app.log_mark()
        c = self.smtp()
        c.mail("s@example.org")
        self.assertEqual(c.rcpt("someone@elsewhere.example"), (550, b"5.7.1 Relaying denied"))
        self.assertEqual(c.rcpt("someone@LOCALHOST.example.org"), (550, b"5.7.1 Relaying denied"))
        self.assertEqual(c.docmd("DATA")[0], 554, "no valid recipients")
        c.quit()
        self.app.wait_log(r"event=rcpt_refused ip=127.0.0.1 address=\"someone@elsewhere.example\" "
                          r"reply=550/5.7.1", start=mark)

    def test_unknown_user_550_511_and_disabled(self):
        a = self.new_user()
        self.app.ctl("user", "add", "off" + a, "-p", "pw")
        self.app.ctl("user", "disable", "off" + a)
        mark = self.app.log_mark()
        c = self.smtp()
        c.mail("s@example.org")
        self.assertEqual(c.rcpt("nobody@localhost"), (550, b"5.1.1 No such user here"))
        self.assertEqual(c.rcpt("off%s@localhost" % a), (550, b"5.2.1 Mailbox disabled"))
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        self.assertEqual(c.data(b"Subject: x\r\n\r\nfor a\r\n")[0], 250)
        self.assertEqual(self.body_of(self.read_new(a)[0])[1], b"Subject: x\n\nfor a\n")
        c.quit()
        self.app.wait_log(r"event=rcpt_refused ip=127.0.0.1 address=\"nobody@localhost\" "
                          r"reply=550/5.1.1", start=mark)

    def test_size_over_the_limit_552(self):
        a = self.new_user()
        c = self.smtp()
        code, text = c.mail("s@example.org", ["SIZE=%d" % (50 * 1024 * 1024 + 1)])
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        self.assertEqual(c.mail("s@example.org", ["SIZE=1000"])[0], 250)
        c.rcpt(a + "@localhost")
        line = b"x" * 998 + b"\r\n"
        try:
            r = c.data(line * (50 * 1024 * 1024 // 999 + 10))
        except smtplib.SMTPDataError as e:
            r = (e.smtp_code, e.smtp_error)
        self.assertEqual((r[0], r[1][:5]), (552, b"5.3.4"))
        self.assertEqual(self.new_files(a), [])
        self.assertEqual(c.noop()[0], 250, "the session goes on")
        c.quit()

    def test_pipelining_a_whole_transaction(self):
        a, b = self.new_user(), self.new_user()
        r = Raw(self.port)
        self.assertTrue(r.greeting.startswith("220 "))
        # RFC 2920: everything in one write, DATA's message included
        r.send(b"EHLO c.test\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<%s@localhost>\r\n"
               b"RCPT TO:<nobody@localhost>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n"
               b"Subject: p\r\n\r\npipelined\r\n.\r\nRSET\r\nQUIT\r\n" % (a.encode(), b.encode()))
        got = [x[:9] for x in r.replies(9)]
        self.assertTrue(got[0].startswith("250 "), "EHLO")
        self.assertEqual(got[1:], ["250 2.1.0", "250 2.1.5", "550 5.1.1", "250 2.1.5", "354 End d",
                                   "250 2.0.0", "250 2.0.0", "221 2.0.0"])
        for u in (a, b):
            self.assertEqual(self.body_of(self.read_new(u)[0])[1], b"Subject: p\n\npipelined\n")
        r.close()

    def test_bdat_chunks(self):
        a = self.new_user()
        r = Raw(self.port)
        r.send(b"EHLO c.test\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<%s@localhost>\r\n" % a.encode())
        self.assertEqual([x[:9] for x in r.replies(3)[1:]], ["250 2.1.0", "250 2.1.5"])
        r.send(b"BDAT 12\r\nSubject: b\r\n")
        self.assertEqual(r.reply()[:9], "250 2.0.0")
        r.send(b"BDAT 19 LAST\r\n\r\nchunk\r\ncaf\xc3\xa9 ok\r\n")
        self.assertEqual(r.reply(), "250 2.0.0 Message accepted")
        m, rest = self.body_of(self.read_new(a)[0])
        self.assertEqual(rest, b"Subject: b\n\nchunk\ncaf\xc3\xa9 ok\n")
        r.send(b"QUIT\r\n")
        self.assertEqual(r.reply()[:3], "221")
        r.close()

    def test_8bit_message(self):
        a = self.new_user()
        msg = ("Subject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln, ½ € 😀\r\n").encode()
        c = self.smtp()
        self.assertEqual(c.sendmail("s@example.org", [a + "@localhost"], msg, mail_options=["BODY=8BITMIME"]),
                         {})
        self.assertEqual(self.body_of(self.read_new(a)[0])[1], msg.replace(b"\r\n", b"\n"))
        # SMTPUTF8 (RFC 6531): a UTF-8 sender
        self.assertEqual(c.sendmail("jörg@example.org", [a + "@localhost"], b"Subject: u\r\n\r\nu\r\n",
                                    mail_options=["SMTPUTF8"]), {})
        self.assertEqual(len(self.new_files(a)), 2)
        c.quit()

    def test_helo_is_plain_smtp(self):
        a = self.new_user()
        r = Raw(self.port)
        r.send(b"HELO old.test\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n" % a.encode())
        self.assertEqual([x[:3] for x in r.replies(4)], ["250", "250", "250", "354"])
        r.send(b"Subject: h\r\n\r\nold\r\n.\r\n")
        self.assertEqual(r.reply()[:3], "250")
        m, rest = self.body_of(self.read_new(a)[0])
        self.assertEqual((m.group(1), m.group(2)), (b"old.test", b"SMTP"))
        r.close()

    def test_bare_lf_does_not_end_data(self):
        # SMTP smuggling (CVE-2023-51764): LF . LF inside is not the end
        a = self.new_user()
        r = Raw(self.port)
        r.send(b"EHLO c.test\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n" % a.encode())
        self.assertEqual(r.replies(4)[3][:3], "354")
        r.send(b"Subject: s\r\n\r\nA\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<%s@localhost>\r\n"
               b".\r\n" % a.encode())
        self.assertEqual(r.reply()[:9], "554 5.6.0")
        self.assertEqual(self.new_files(a), [])
        r.close()

    def test_partial_failure_is_451_for_the_transaction(self):
        # broken's tmp/ cannot be written: its copy fails after the DATA while
        # a's is made; SMTP has one reply, so the client is told to retry the
        # whole message (a gets a duplicate then, as docs/SMTP.md says)
        a, broken = self.new_user(), self.new_user()
        self.app.deliver(broken, "Subject: first\n\nmakes the Maildir\n")
        os.chmod(os.path.join(self.app.maildir(broken), "tmp"), 0o500)
        mark = self.app.log_mark()
        c = self.smtp()
        c.mail("s@example.org")
        self.assertEqual(c.rcpt(broken + "@localhost")[0], 250)
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        try:
            r = c.data(b"Subject: q\r\n\r\none copy fails\r\n")
        except smtplib.SMTPDataError as e:
            r = (e.smtp_code, e.smtp_error)
        self.assertEqual(r, (451, b"4.3.0 Temporary failure, try again later"))
        self.assertEqual(len(self.new_files(a)), 1)
        self.assertEqual(len(self.new_files(broken)), 1, "only the first message")
        self.app.wait_log(r"event=message_failed ip=127.0.0.1 from=<s@example.org> recipients=2 "
                          r"delivered=1 size=\d+ reply=451 duplicates_on_retry=yes", start=mark)
        self.assertEqual(c.noop()[0], 250, "the session goes on")
        c.quit()

    def test_swaks_two_recipients_pipelined(self):
        a, b = self.new_user(), self.new_user()
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.port),
                            "--from", "s@example.org", "--to", "%s@localhost,%s@localhost" % (a, b),
                            "--header", "Subject: swaks", "--body", "from swaks", "--pipeline"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for u in (a, b):
            self.assertEqual(len(self.new_files(u)), 1)
            self.assertIn(b"from swaks", self.read_new(u)[0])

    def test_starttls_with_swaks(self):
        a = self.new_user()
        r = subprocess.run(["swaks", "--tls", "--server", "127.0.0.1", "--port", str(self.port),
                            "--from", "s@example.org", "--to", a + "@localhost",
                            "--header", "Subject: tls", "--body", "over TLS"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TLS started", r.stdout)
        m, rest = self.body_of(self.read_new(a)[0])
        self.assertEqual(m.group(2), b"ESMTPS")
        self.assertRegex(m.group(4).decode(), r"\(version=TLS1\.[23] cipher=\S+\)")
        self.assertIn(b"over TLS", rest)

    def test_command_pipelined_with_starttls_is_not_executed(self):
        # CVE-2011-0411: plaintext behind STARTTLS must never count as sent under TLS
        a = self.new_user()
        r = Raw(self.port)
        r.send(b"EHLO c.test\r\n")
        r.reply()
        r.send(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
        self.assertEqual(r.reply(), "220 2.0.0 Ready to start TLS")
        t = tls_context().wrap_socket(r.s)
        f = t.makefile("rb")

        def reply():
            while True:
                line = f.readline().decode()
                if len(line) < 4 or line[3] != "-":
                    return line.rstrip("\r\n")
        t.sendall(b"EHLO c.test\r\n")
        self.assertTrue(reply().startswith("250 "))
        t.sendall(b"RCPT TO:<%s@localhost>\r\n" % a.encode())
        self.assertEqual(reply(), "503 5.5.1 Need MAIL before RCPT", "the injected MAIL was dropped")
        t.sendall(b"STARTTLS\r\n")
        self.assertEqual(reply(), "503 5.5.1 TLS already active")
        t.sendall(b"QUIT\r\n")
        self.assertEqual(reply()[:3], "221")
        t.close()

    def test_smtplib_starttls_then_delivery(self):
        a = self.new_user()
        c = self.smtp()
        self.assertEqual(c.starttls(context=tls_context())[0], 220)
        c.ehlo("client.test")
        self.assertFalse(c.has_extn("starttls"))
        self.assertFalse(c.has_extn("auth"), "no AUTH under TLS either")
        self.assertEqual(c.sendmail("s@example.org", [a + "@localhost"], b"Subject: t\r\n\r\nt\r\n"), {})
        self.assertEqual(self.body_of(self.read_new(a)[0])[0].group(2), b"ESMTPS")
        c.quit()


class TestSmtpLimits(SmtpBase):
    overrides = {"smtp_max_recipients": "3", "smtp_max_bad_commands": "3",
                 "smtp_max_line": "256", "smtp_max_message_size": "20000"}

    def test_too_many_recipients_452(self):
        users = [self.new_user() for _ in range(4)]
        c = self.smtp()
        self.assertEqual(c.esmtp_features["size"], "20000")
        c.mail("s@example.org")
        for u in users[:3]:
            self.assertEqual(c.rcpt(u + "@localhost")[0], 250)
        self.assertEqual(c.rcpt(users[3] + "@localhost"), (452, b"4.5.3 Too many recipients"))
        self.assertEqual(c.data(b"Subject: r\r\n\r\nthree\r\n")[0], 250)
        for u in users[:3]:
            self.assertEqual(len(self.new_files(u)), 1)
        self.assertEqual(self.new_files(users[3]), [])
        c.quit()

    def test_message_size_limit_552(self):
        a = self.new_user()
        c = self.smtp()
        self.assertEqual(c.mail("s@example.org", ["SIZE=20001"])[0], 552)
        c.mail("s@example.org")
        c.rcpt(a + "@localhost")
        try:
            r = c.data(b"Subject: big\r\n\r\n" + (b"z" * 98 + b"\r\n") * 300)
        except smtplib.SMTPDataError as e:
            r = (e.smtp_code, e.smtp_error)
        self.assertEqual(r[0], 552)
        self.assertEqual(self.new_files(a), [])
        c.quit()

    def test_long_line_refused_session_goes_on(self):
        r = Raw(self.port)
        r.send(b"NOOP " + b"x" * 300 + b"\r\nNOOP\r\n")
        self.assertEqual(r.replies(2), ["500 5.5.2 Line too long", "250 2.0.0 OK"])
        r.close()

    def test_bad_commands_counted_then_closed(self):
        mark = self.app.log_mark()
        r = Raw(self.port)
        r.send(b"FOO\r\nBAR\r\nMAIL FROM:<s@example.org>\r\nBAZ\r\nNOOP\r\n")
        got = r.replies(4)
        self.assertEqual([x[:9] for x in got], ["500 5.5.1", "500 5.5.1", "503 5.5.1", "421 4.7.0"])
        self.assertEqual(r.line(), "", "closed after the fourth error")
        self.app.wait_log(r"event=disconnect child=smtpd pid=\d+ exit=0", start=mark)
        r.close()

class TestSmtpIdle(SmtpBase):
    """A short idle timeout, alone: beside other tests it would end their
    sessions between two commands on a loaded machine."""
    overrides = {"smtp_idle_timeout": "2"}

    def test_idle_timeout(self):
        mark = self.app.log_mark()
        r = Raw(self.port, timeout=20)
        r.send(b"EHLO c.test\r\n")
        r.reply()
        # smtp_idle_timeout = 2: the server speaks first, then closes
        self.assertEqual(r.reply(), "421 4.4.2 Idle timeout, closing connection")
        self.assertEqual(r.line(), "")
        self.app.wait_log(r"proc=smtpd .*event=disconnect ip=127.0.0.1 reason=idle_timeout", start=mark)
        r.close()


class TestSmtpPerIp(SmtpBase):
    overrides = {"max_per_ip": "2"}

    def test_max_per_ip(self):
        # the harness's POP3 probe must be gone before counting
        self.app.wait_log(r"event=disconnect child=pop3d")
        a, b = Raw(self.port), Raw(self.port)
        self.assertTrue(a.greeting.startswith("220 ") and b.greeting.startswith("220 "))
        c = Raw(self.port)
        self.assertTrue(c.greeting.startswith("421 4.3.2 "), c.greeting)
        self.assertEqual(c.line(), "")
        for x in (a, b, c):
            x.close()


if __name__ == "__main__":
    unittest.main()
