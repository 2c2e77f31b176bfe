"""LMTP (RFC 2033) end to end: real clients (smtplib.LMTP, swaks, raw
sockets) against a live appliance, the mail then read from the Maildir and
by POP3.  docs/LMTP.md is the operator's side of the same."""
import glob
import os
import poplib
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

from harness import Appliance, delivery_headers, free_port, proc_status, wait_until


def lmtp_data(c, msg, n):
    """DATA and its n replies, one per accepted recipient (RFC 2033 4.2):
    smtplib.LMTP reads only the first."""
    try:
        first = c.data(msg)
    except smtplib.SMTPDataError as e:
        first = (e.smtp_code, e.smtp_error)
    return [first] + [c.getreply() for _ in range(n - 1)]


class LmtpBase(unittest.TestCase):
    overrides = {}
    unix = False    # also listen on a unix socket (Postfix's lmtp:unix:)

    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance(dict({"lmtp_listen": "127.0.0.1:%d" % cls.lport}, **cls.overrides))
        cls.sock = os.path.join(cls.app.dir, "lmtp.sock")
        if cls.unix:
            cls.app.settings["lmtp_listen"] += ", " + cls.sock
            cls.app.write_conf()
        cls.app.ctl("user", "add", "off", "-p", "pw-off")
        cls.app.ctl("user", "disable", "off")
        cls.app.start()
        cls.nuser = 0

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def new_user(self):
        type(self).nuser += 1
        name = "l%d%s" % (self.nuser, self._testMethodName[5:20].replace("_", ""))
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

    def lmtp(self):
        c = smtplib.LMTP("127.0.0.1", self.lport, timeout=20)
        code, _ = c.ehlo("client.test")
        self.assertEqual(code, 250)
        return c

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.lport), timeout=20)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 "))
        return s, f

    @staticmethod
    def replies(f, n):
        out = []
        for _ in range(n):
            line = f.readline()
            while line[3:4] == b"-":
                line = f.readline()
            out.append(line.decode("ascii", "replace").strip())
        return out


class TestLmtpDelivery(LmtpBase):
    def test_lhlo_capabilities(self):
        c = self.lmtp()
        for cap in ("pipelining", "enhancedstatuscodes", "8bitmime", "size", "chunking"):
            self.assertTrue(c.has_extn(cap), cap)
        self.assertEqual(c.esmtp_features["size"], str(50 * 1024 * 1024))
        c.quit()

    def test_two_users_exact_bytes_durable_before_reply(self):
        a, b = self.new_user(), self.new_user()
        msg = (b"From: s@example.org\r\nSubject: two\r\n\r\n.starts with a dot\r\n"
               b"caf\xc3\xa9 8-bit\r\nlast line\r\n")
        want = msg.replace(b"\r\n", b"\n")
        c = self.lmtp()
        c.mail("s@example.org", ["BODY=8BITMIME"])
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        self.assertEqual(c.rcpt(b + "@localhost")[0], 250)
        try:
            first = c.data(msg)
        except smtplib.SMTPDataError as e:
            first = (e.smtp_code, e.smtp_error)
        self.assertEqual(first[0], 250, first)
        # invariant 5: the first recipient's 250 came after its file was durable
        self.assertEqual(self.read_new(a), [want])
        second = c.getreply()
        self.assertEqual(second[0], 250, second)
        self.assertEqual(self.read_new(b), [want])
        c.quit()

    def test_unknown_and_disabled_beside_a_known_user(self):
        a = self.new_user()
        c = self.lmtp()
        c.mail("s@example.org")
        self.assertEqual(c.rcpt("nobody@localhost"), (550, b"5.1.1 No such user here"))
        self.assertEqual(c.rcpt("off@localhost"), (550, b"5.2.1 Mailbox disabled"))
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        r = lmtp_data(c, b"Subject: x\r\n\r\nfor a\r\n", 1)
        self.assertEqual(r[0][0], 250)
        self.assertEqual(self.read_new(a), [b"Subject: x\n\nfor a\n"])
        self.assertEqual(self.new_files("off"), [])
        c.quit()

    def test_no_valid_recipient_data_is_503(self):
        c = self.lmtp()
        c.mail("s@example.org")
        c.rcpt("nobody@localhost")
        code, _ = c.docmd("DATA")
        self.assertEqual(code, 503)
        c.quit()

    def test_oversize_message_552(self):
        a = self.new_user()
        c = self.lmtp()
        c.mail("s@example.org")
        c.rcpt(a + "@localhost")
        line = b"x" * 998 + b"\r\n"
        # 999 bytes a line once stored: just over 50 MiB
        r = lmtp_data(c, line * (50 * 1024 * 1024 // 999 + 10), 1)
        self.assertEqual(r[0][0], 552)
        self.assertEqual(self.new_files(a), [])
        # SIZE= over the limit is refused at MAIL
        code, _ = c.mail("s@example.org", ["SIZE=%d" % (60 * 1024 * 1024)])
        self.assertEqual(code, 552)
        c.quit()

    def test_subaddress_delivers_to_the_user(self):
        """recipient_delimiter (default "+"): user+tag@domain is user's mail, unless
        the whole address is a user or an alias of its own."""
        a = self.new_user()
        self.app.ctl("alias", "add", a + "+own@localhost", "demo2@localhost")
        before = len(self.new_files("demo2"))
        c = self.lmtp()
        c.mail("s@example.org")
        self.assertEqual(c.rcpt(a + "+lists@localhost")[0], 250)
        self.assertEqual(c.rcpt(a + "+own@localhost")[0], 250)
        self.assertEqual(c.rcpt("+tag@localhost")[0], 550)  # no user before the delimiter
        r = lmtp_data(c, b"Subject: tagged\r\n\r\nx\r\n", 2)
        self.assertEqual([x[0] for x in r], [250, 250])
        c.quit()
        self.assertEqual(len(self.new_files(a)), 1)
        self.assertEqual(len(self.new_files("demo2")), before + 1)

    def test_quota_full_552_per_recipient(self):
        """The user db's quota is maildirsize's definition; a delivery that would
        pass it is refused 552 5.2.2 for that recipient only, nothing written."""
        full = self.new_user()
        self.app.ctl("user", "set", full, "--quota", "600")
        other = self.new_user()
        mark = self.app.log_mark()
        c = self.lmtp()
        c.mail("s@example.org")
        c.rcpt(full + "@localhost")
        c.rcpt(other + "@localhost")
        r = lmtp_data(c, b"Subject: small\r\n\r\n" + b"y" * 300 + b"\r\n", 2)
        self.assertEqual([x[0] for x in r], [250, 250])
        c.mail("s@example.org")
        c.rcpt(full + "@localhost")
        c.rcpt(other + "@localhost")
        r = lmtp_data(c, b"Subject: big\r\n\r\n" + b"z" * 400 + b"\r\n", 2)
        self.assertEqual(r[0], (552, b"5.2.2 Mailbox full (over quota)"))
        self.assertEqual(r[1][0], 250)
        c.quit()
        self.assertEqual(len(self.new_files(full)), 1)
        self.assertEqual(len(self.new_files(other)), 2)
        with open(os.path.join(self.app.maildir(full), "maildirsize")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "600S")
        # the one message, with its Return-Path and Delivered-To: the bytes on disk
        size = os.path.getsize(self.new_files(full)[0])
        self.assertEqual(size, 317 + len(b"Return-Path: <s@example.org>\nDelivered-To: @localhost\n") + len(full))
        self.assertEqual(sum(int(l.split()[0]) for l in lines[1:]), size)
        self.app.wait_log(r"proc=stored .*event=quota_refused reason=storage size=\d+", start=mark)
        self.app.wait_log(r"event=rcpt_refused ip=\S+ rcpt=0 reason=quota", start=mark)

    def test_bdat_chunks(self):
        a, b = self.new_user(), self.new_user()
        s, f = self.raw()
        s.sendall(b"LHLO c\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<%s@localhost>\r\n"
                  b"RCPT TO:<%s@localhost>\r\n" % (a.encode(), b.encode()))
        self.assertEqual([r[:9] for r in self.replies(f, 4)[1:]], ["250 2.1.0", "250 2.1.5", "250 2.1.5"])
        s.sendall(b"BDAT 12\r\nSubject: b\r\n")
        self.assertEqual(self.replies(f, 1)[0][:9], "250 2.0.0")
        s.sendall(b"BDAT 9 LAST\r\n\r\nchunk\r\n")
        self.assertEqual([r[:9] for r in self.replies(f, 2)], ["250 2.0.0", "250 2.0.0"])
        self.assertEqual(self.read_new(a), [b"Subject: b\n\nchunk\n"])
        self.assertEqual(self.read_new(b), [b"Subject: b\n\nchunk\n"])
        s.close()

    def test_bdat_message_without_final_newline(self):
        a = self.new_user()
        s, f = self.raw()
        s.sendall(b"LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<%s@localhost>\r\nBDAT 20 LAST\r\n"
                  b"Subject: n\r\n\r\nno end" % a.encode())
        self.assertEqual([r[:9] for r in self.replies(f, 4)[1:]], ["250 2.1.0", "250 2.1.5", "250 2.0.0"])
        self.assertEqual(self.read_new(a), [b"Subject: n\n\nno end"])
        s.close()

    @unittest.skipUnless(os.geteuid() == 0, "signals a worker of another uid")
    def test_worker_killed_mid_data_leaves_nothing(self):
        a = self.new_user()
        mark = self.app.log_mark()
        s, f = self.raw()
        pid = int(self.app.wait_log(r"event=connect proto=lmtp ip=\S+ worker_pid=(\d+)",
                                    start=mark).group(1))
        s.sendall(b"LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n" % a.encode())
        self.replies(f, 4)
        s.sendall(b"Subject: k\r\n\r\nhalf a message")
        os.kill(pid, 9)
        try:
            self.assertEqual(f.read(), b"")     # closed, no reply
        except ConnectionResetError:
            pass                                # or reset: our bytes were unread
        s.close()
        for sub in ("new", "tmp", "cur"):   # (no Maildir yet is fine too)
            self.assertEqual(glob.glob(os.path.join(self.app.maildir(a), sub, "*")), [], sub)

    def test_pipelining_and_rset(self):
        a, b = self.new_user(), self.new_user()
        s, f = self.raw()
        s.sendall(b"LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<%s@localhost>\r\nRSET\r\n"
                  b"MAIL FROM:<>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n" % (a.encode(), b.encode()))
        r = self.replies(f, 7)
        self.assertEqual([x[:3] for x in r[1:]], ["250", "250", "250", "250", "250", "354"])
        s.sendall(b"Subject: p\r\n\r\nafter rset\r\n.\r\nQUIT\r\n")
        self.assertEqual([x[:9] for x in self.replies(f, 2)], ["250 2.0.0", "221 2.0.0"])
        # the RSET forgot a: only b got the message
        self.assertEqual(self.new_files(a), [])
        self.assertEqual(self.read_new(b), [b"Subject: p\n\nafter rset\n"])
        s.close()

    def test_too_many_recipients_452(self):
        a = self.new_user()
        c = self.lmtp()
        c.mail("s@example.org")
        for _ in range(100):
            self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        self.assertEqual(c.rcpt(a + "@localhost"), (452, b"4.5.3 Too many recipients"))
        c.rset()
        c.quit()

    def test_bare_lf_smuggling_does_not_end_data(self):
        a, b = self.new_user(), self.new_user()
        s, f = self.raw()
        s.sendall(b"LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<%s@localhost>\r\nDATA\r\n" % a.encode())
        self.replies(f, 4)
        s.sendall(b"Subject: s\r\n\r\nhello\n.\nMAIL FROM:<evil@example.org>\r\n"
                  b"RCPT TO:<%s@localhost>\r\nDATA\r\nsmuggled\r\n.\r\n" % b.encode())
        r = self.replies(f, 1)
        self.assertTrue(r[0].startswith("554 5.6.0"), r)
        s.sendall(b"QUIT\r\n")
        self.assertTrue(self.replies(f, 1)[0].startswith("221"))
        self.assertEqual(self.new_files(a), [])
        self.assertEqual(self.new_files(b), [])
        s.close()

    def test_pop3_reads_the_delivered_message(self):
        a = self.new_user()
        msg = b"Subject: loop\r\n\r\n.dot\r\nline two\r\n"
        c = self.lmtp()
        c.mail("s@example.org")
        c.rcpt(a + "@localhost")
        self.assertEqual(lmtp_data(c, msg, 1)[0][0], 250)
        c.quit()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user(a)
        p.pass_("pw-" + a)
        self.assertEqual(p.stat()[0], 1)
        _, lines, _ = p.retr(1)
        self.assertEqual(lines, [b"Return-Path: <s@example.org>", b"Delivered-To: %s@localhost" % a.encode(),
                                 b"Subject: loop", b"", b".dot", b"line two"])
        p.quit()

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks(self):
        a, b = self.new_user(), self.new_user()
        r = subprocess.run(["swaks", "--protocol", "LMTP", "--server", "127.0.0.1", "--port",
                            str(self.lport), "--from", "s@example.org",
                            "--to", "%s@localhost,%s@localhost" % (a, b), "--header", "Subject: swaks",
                            "--body", "from swaks", "--pipeline"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(self.new_files(a)), 1)
        self.assertEqual(len(self.new_files(b)), 1)
        self.assertIn(b"from swaks", self.read_new(a)[0])

    @unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
    def test_lmtpd_confined(self):
        mark = self.app.log_mark()
        s, f = self.raw()
        m = self.app.wait_log(r"event=connect proto=lmtp ip=\S+ worker_pid=(\d+)", start=mark)
        pid = int(m.group(1))
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), ["7002"] * 4)
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), self.app.empty)
        self.assertEqual(os.listdir("/proc/%d/root/" % pid), [])
        limits = open("/proc/%d/limits" % pid).read()
        self.assertRegex(limits, r"Max file size\s+52428800\s+52428800")
        s.close()


class TestLmtpNoSubaddress(LmtpBase):
    overrides = {"recipient_delimiter": '""'}

    def test_delimiter_off(self):
        a = self.new_user()
        c = self.lmtp()
        c.mail("s@example.org")
        self.assertEqual(c.rcpt(a + "+tag@localhost")[0], 550)
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        c.rset()
        c.quit()


class TestLmtpUnixSocketAndLongSession(LmtpBase):
    """A unix-socket listener (Postfix's lmtp:unix:) and a session that
    outlives login_timeout (an intake session has no login)."""
    overrides = {"login_timeout": "2"}
    unix = True

    def test_unix_socket_and_past_login_timeout(self):
        a = self.new_user()
        c = smtplib.LMTP(self.sock, timeout=20)
        c.ehlo("client.test")
        c.mail("s@example.org")
        self.assertEqual(c.rcpt(a + "@localhost")[0], 250)
        time.sleep(3)   # not a synchronisation: outlive login_timeout, the master must not kill
        self.assertEqual(lmtp_data(c, b"Subject: u\r\n\r\nunix\r\n", 1)[0][0], 250)
        c.quit()
        self.assertEqual(self.read_new(a), [b"Subject: u\n\nunix\n"])


if __name__ == "__main__":
    unittest.main()
