"""Quotas at delivery (issue 10 item 5): the answer over quota by
quota_full_reply (552 5.2.2 or 452 4.2.2, postern-deliver 77 or 75), the
warning message of quota_warn_percent (once, until the usage drops below
it again; the "quotawarn" file in the Maildir), and `posternctl quota set`.
The permanent answer over LMTP is test_lmtp's test_quota_full_552_per_recipient."""
import glob
import imaplib
import os
import re
import smtplib
import subprocess
import unittest

from harness import BIN, Appliance, delivery_headers, free_port

DELIVER = os.path.join(BIN, "postern-deliver")


def lmtp_send(port, rcpt, body):
    c = smtplib.LMTP("127.0.0.1", port, timeout=20)
    try:
        c.ehlo("client.test")
        c.mail("s@example.org")
        code, _ = c.rcpt(rcpt)
        assert code == 250, code
        try:
            return c.data(body)
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error
    finally:
        c.quit()


def sized(n, subject):
    """A message of n bytes as stored (LF line ends), before stored's two lines."""
    head = b"Subject: %s\r\n\r\n" % subject.encode()
    left = n - (len(head) - 2)
    body = b"q" * 69 + b"\r\n"       # 70 bytes stored: lines stay short
    tail = left % 70 or 70
    return head + body * ((left - tail) // 70) + b"q" * (tail - 1) + b"\r\n"


class QuotaBase(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance(dict({"lmtp_listen": "127.0.0.1:%d" % cls.lport}, **cls.overrides))
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def add_user(self, name, quota):
        self.app.ctl("user", "add", name, "-p", "pw-" + name, "-q", str(quota))

    def files(self, user):
        return sorted(glob.glob(os.path.join(self.app.maildir(user), "new", "*")))


class TestQuotaTemporary(QuotaBase):
    overrides = {"quota_full_reply": "temporary", "quota_warn_percent": "0"}

    def test_452_over_lmtp_smtp_and_75_from_postern_deliver(self):
        self.add_user("tfull", 600)
        # 93% of the quota: no warning, quota_warn_percent = 0
        self.assertEqual(lmtp_send(self.lport, "tfull@localhost", sized(500, "fits"))[0], 250)
        self.assertEqual(len(self.files("tfull")), 1)
        self.assertFalse(os.path.exists(os.path.join(self.app.maildir("tfull"), "quotawarn")))
        r = lmtp_send(self.lport, "tfull@localhost", sized(200, "over"))
        self.assertEqual(r, (452, b"4.2.2 Mailbox full (over quota), try again later"))
        with smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20) as c:
            c.ehlo("client.test")
            c.mail("s@example.org")
            self.assertEqual(c.rcpt("tfull@localhost")[0], 250)
            code, text = c.data(sized(200, "over smtp"))
        self.assertEqual((code, text[:5]), (452, b"4.2.2"))
        # postern-deliver over the same LMTP: EX_TEMPFAIL, the MTA keeps it
        conf = os.path.join(self.app.dir, "deliver.conf")
        with open(conf, "w") as f:
            f.write("lmtp_listen = 127.0.0.1:%d\n" % self.lport)
        r = subprocess.run([DELIVER, "-c", conf, "tfull@localhost"], input=b"Subject: q\n\n" + b"q" * 300 + b"\n",
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn(b"452 4.2.2", r.stderr)
        self.assertEqual(len(self.files("tfull")), 1)

    def test_config_check_refuses_other_words(self):
        r = self.app.ctl("config", "check", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = os.path.join(self.app.dir, "bad.conf")
        with open(self.app.conf) as f, open(bad, "w") as g:
            g.write("".join(l for l in f if not l.startswith("quota_full_reply")) +
                    "quota_full_reply = sometimes\n")
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", bad, "config", "check"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("quota_full_reply 'sometimes': permanent or temporary", r.stderr)


class TestQuotaWarning(QuotaBase):
    """Default quota_warn_percent = 90."""

    def warnings(self, user):
        out = []
        for p in self.files(user):
            with open(p, "rb") as f:
                data = f.read()
            if b"\nSubject: Your mailbox is " in data:
                out.append(data)
        return out

    def test_warned_once_until_below_again(self):
        user, quota = "warned", 20000
        self.add_user(user, quota)
        flag = os.path.join(self.app.maildir(user), "quotawarn")
        self.assertEqual(lmtp_send(self.lport, user + "@localhost", sized(9000, "a"))[0], 250)
        self.assertEqual(self.warnings(user), [])
        mark = self.app.log_mark()
        # past 90%: the message that crossed it is delivered, then the warning
        self.assertEqual(lmtp_send(self.lport, user + "@localhost", sized(9200, "b"))[0], 250)
        w = self.warnings(user)
        self.assertEqual(len(w), 1)
        sender, rcpt, rest = delivery_headers(w[0], user)
        self.assertEqual(sender, b"")
        self.assertIn(b"From: Mail Delivery System <postmaster@localhost>\n", rest)
        self.assertIn(b"Subject: Your mailbox is 9", rest)
        self.assertIn(b"Auto-Submitted: auto-generated\n", rest)
        self.assertTrue(os.path.exists(flag))
        self.app.wait_log(r"event=quota_warned user=warned@localhost percent=9\d threshold=90", start=mark)
        # the name's S= is the file's size; maildirsize counts the warning
        path = [p for p in self.files(user) if "Qwarn" in p][0]
        self.assertIn(",S=%d," % os.path.getsize(path), path)
        used = self.app.ctl("quota", "get", user).stdout
        self.assertIn("messages 3", used)
        # still above: no second warning
        self.assertEqual(lmtp_send(self.lport, user + "@localhost", sized(300, "c"))[0], 250)
        self.assertEqual(len(self.warnings(user)), 1)
        # below again (b removed, recounted): the next delivery clears the flag
        for p in self.files(user):
            with open(p, "rb") as f:
                if b"Subject: b\n" in f.read():
                    os.unlink(p)
        self.app.ctl("quota", "recalc", user)
        self.assertEqual(lmtp_send(self.lport, user + "@localhost", sized(100, "d"))[0], 250)
        self.assertFalse(os.path.exists(flag))
        self.assertEqual(len(self.warnings(user)), 1)
        # and past it again: a second warning
        self.assertEqual(lmtp_send(self.lport, user + "@localhost", sized(8500, "e"))[0], 250)
        self.assertEqual(len(self.warnings(user)), 2)
        self.assertTrue(os.path.exists(flag))

    def test_no_quota_no_warning(self):
        self.add_user("unlimited", 0)
        self.assertEqual(lmtp_send(self.lport, "unlimited@localhost", sized(50000, "big"))[0], 250)
        self.assertEqual(self.warnings("unlimited"), [])


class TestQuotaSet(QuotaBase):
    overrides = {"quota_warn_percent": "0"}

    def test_quota_set_writes_the_definition_and_zero_removes_it(self):
        self.add_user("qs", 0)
        self.assertEqual(lmtp_send(self.lport, "qs@localhost", sized(1000, "one"))[0], 250)
        size = os.path.getsize(self.files("qs")[0])
        r = self.app.ctl("quota", "set", "qs", "1500")
        self.assertIn("user qs@localhost changed", r.stdout)
        self.assertIn("qs@localhost: storage %d bytes of 1500, messages 1" % size, r.stdout)
        self.assertIn("quota:     1500", self.app.ctl("user", "show", "qs").stdout)
        with open(os.path.join(self.app.maildir("qs"), "maildirsize")) as f:
            self.assertEqual(f.read().splitlines()[:2], ["1500S", "%d 1" % size])
        # enforced at the next delivery
        self.assertEqual(lmtp_send(self.lport, "qs@localhost", sized(600, "two"))[0], 552)
        r = self.app.ctl("quota", "set", "qs", "0")
        self.assertIn("no quota", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.app.maildir("qs"), "maildirsize")))
        self.assertIn("quota:     0", self.app.ctl("user", "show", "qs").stdout)
        self.assertEqual(lmtp_send(self.lport, "qs@localhost", sized(600, "two"))[0], 250)
        r = self.app.ctl("quota", "set", "qs", "lots", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad quota 'lots'", r.stderr)
        r = self.app.ctl("quota", "set", "ghost", "5", check=False)
        self.assertIn("no user ghost@localhost", r.stderr)


def trash_usage(app, port, user):
    """APPEND a 3000-byte message into Trash over IMAP; (usage in KiB
    before, after) from GETQUOTAROOT INBOX."""
    m = imaplib.IMAP4("127.0.0.1", app.imap_port, timeout=20)
    try:
        m.login(user, "pw-" + user)
        m.create("INBOX.Trash")

        def used():
            typ, data = m.getquotaroot("INBOX")
            found = re.search(rb"STORAGE (\d+) (\d+)", b" ".join(x for x in data[1] if x))
            assert found, data
            return int(found.group(1))
        before = used()
        typ, _ = m.append("INBOX.Trash", None, None, b"Subject: trash\r\n\r\n" + b"t" * 3000 + b"\r\n")
        assert typ == "OK", typ
        return before, used()
    finally:
        m.logout()


class TestTrashNotCounted(QuotaBase):
    overrides = {"quota_warn_percent": "0"}

    def test_default_trash_is_not_counted(self):
        self.add_user("tr0", 100000)
        before, after = trash_usage(self.app, self.lport, "tr0")
        self.assertEqual(before, after)
        self.assertIn("messages 0", self.app.ctl("quota", "recalc", "tr0").stdout + " " +
                      self.app.ctl("quota", "get", "tr0").stdout)


class TestTrashCounted(QuotaBase):
    overrides = {"quota_warn_percent": "0", "quota_count_trash": "yes"}

    def test_trash_counted_by_the_key(self):
        self.add_user("tr1", 100000)
        before, after = trash_usage(self.app, self.lport, "tr1")
        self.assertEqual(after - before, 3)     # KiB, rounded up
        self.app.ctl("quota", "recalc", "tr1")
        self.assertIn("messages 1", self.app.ctl("quota", "get", "tr1").stdout)


if __name__ == "__main__":
    unittest.main()
