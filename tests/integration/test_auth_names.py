"""Login names with bytes outside auth_username_chars never reach a lookup:
authd refuses them first, as a failed login (event=auth_refused
reason=username_chars, with the session id) that the throttle counts for
the address.  The issue's injection strings go in over IMAP LOGIN, IMAP
AUTHENTICATE PLAIN, POP3 USER/PASS and POP3 AUTH PLAIN (SASL is the way a
NUL or a CRLF can get inside a name at all).  SMTP AUTH needs the
submission service, which is not there yet: the MX port offers no AUTH."""
import base64
import imaplib
import re
import signal
import socket
import unittest

from harness import Appliance, command

INJECTIONS = [b"*)(uid=*", b"'; DROP TABLE users; --", b"demo\r\nx", b"de mo", b"a(b)c",
              b"back\\slash", b"semi;colon", "d\u00e9mo".encode()]
LONG = b"a" * 10240


def b64(data):
    return base64.b64encode(data).decode()


def pop3_userpass(app, user, pw=b"demo"):
    s, f = app.connect()
    try:
        s.sendall(b"USER " + user + b"\r\n")
        first = f.readline()
        if not first.startswith(b"+OK"):
            return first
        s.sendall(b"PASS " + pw + b"\r\n")
        return f.readline()
    finally:
        f.close()
        s.close()


def pop3_plain(app, user, pw=b"demo"):
    s, f = app.connect()
    try:
        return command(s, f, "AUTH PLAIN " + b64(b"\0" + user + b"\0" + pw))[0]
    finally:
        f.close()
        s.close()


def imap_connect(app):
    s = socket.create_connection(("127.0.0.1", app.imap_port), timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    return s, f


def imap_tagged(s, f, line):
    s.sendall(line)
    while True:
        r = f.readline()
        if not r or r.startswith(b"a "):
            return r


def imap_login_literal(app, user, pw=b"demo"):
    """LOGIN with the name as a non-synchronising literal: any byte but NUL."""
    s, f = imap_connect(app)
    try:
        return imap_tagged(s, f, b"a LOGIN {%d+}\r\n" % len(user) + user + b" " + pw + b"\r\n")
    finally:
        f.close()
        s.close()


def imap_plain(app, user, pw=b"demo"):
    s, f = imap_connect(app)
    try:
        return imap_tagged(s, f, b"a AUTHENTICATE PLAIN " +
                           b64(b"\0" + user + b"\0" + pw).encode() + b"\r\n")
    finally:
        f.close()
        s.close()


class TestNameCharacters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_ip_max": "1000", "auth_fail_user_max": "1000"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def refused(self, mark, count):
        """count auth_refused lines since mark, each with a session id, and
        no lookup of any of those names (no auth_failed line for them)."""
        log = self.app.log()[mark:]
        lines = [l for l in log.splitlines() if "event=auth_refused" in l]
        self.assertEqual(len(lines), count, log)
        for l in lines:
            self.assertRegex(l, r"sid=[0-9a-f]{24} ")
            self.assertRegex(l, r"reason=username_(chars|length) ")
        self.assertNotIn("event=auth_failed", log)
        self.assertNotIn("event=login ", log)

    def test_pop3_user_pass(self):
        # (a CRLF in a USER line ends the line: that name is two commands,
        # so it can only come through SASL, below)
        names = [n for n in INJECTIONS if b"\r\n" not in n and b" " not in n]
        mark = self.app.log_mark()
        for name in names:
            r = pop3_userpass(self.app, name)
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), (name, r))
        self.app.wait_log(r"(?s)(event=auth_refused.*){%d}" % len(names), start=mark)
        self.refused(mark, len(names))
        # over pop3_max_line: the worker refuses the line itself
        self.assertTrue(pop3_userpass(self.app, LONG).startswith(b"-ERR"))

    def test_pop3_sasl_plain(self):
        mark = self.app.log_mark()
        for name in INJECTIONS:
            r = pop3_plain(self.app, name)
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), (name, r))
        self.app.wait_log(r"(?s)(event=auth_refused.*){%d}" % len(INJECTIONS), start=mark)
        self.refused(mark, len(INJECTIONS))

    def test_imap_login_literal(self):
        mark = self.app.log_mark()
        for name in INJECTIONS:
            r = imap_login_literal(self.app, name)
            self.assertTrue(r.startswith(b"a NO"), (name, r))
        self.app.wait_log(r"(?s)(event=auth_refused.*){%d}" % len(INJECTIONS), start=mark)
        self.refused(mark, len(INJECTIONS))

    def test_imap_authenticate_plain(self):
        mark = self.app.log_mark()
        for name in INJECTIONS:
            r = imap_plain(self.app, name)
            self.assertTrue(r.startswith(b"a NO"), (name, r))
        self.app.wait_log(r"(?s)(event=auth_refused.*){%d}" % len(INJECTIONS), start=mark)
        self.refused(mark, len(INJECTIONS))

    def test_nul_and_long_names_never_reach_a_lookup(self):
        mark = self.app.log_mark()
        # a NUL cannot be inside PLAIN's authcid (it ends it): a malformed
        # message; in an IMAP literal the parser refuses it
        self.assertTrue(pop3_userpass(self.app, b"de\0mo").startswith(b"-ERR"))
        self.assertTrue(imap_login_literal(self.app, b"de\0mo").startswith(b"a "))
        self.assertTrue(imap_login_literal(self.app, LONG).startswith(b"a "))
        self.assertTrue(pop3_plain(self.app, LONG).startswith(b"-ERR"))
        self.assertTrue(imap_plain(self.app, LONG).startswith(b"a "))
        log = self.app.log()[mark:]
        self.assertNotIn("event=auth_failed service=imap ip=127.0.0.1 user=\"a", log)
        self.assertNotIn("event=login ", log)

    def test_good_names_still_log_in(self):
        self.assertTrue(pop3_userpass(self.app, b"demo").startswith(b"+OK"))
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        try:
            self.assertEqual(m.login("demo@localhost", "demo")[0], "OK")
        finally:
            m.logout()

    def test_smtp_mx_offers_no_auth(self):
        s = socket.create_connection(("127.0.0.1", self.app.smtp_port), timeout=10)
        f = s.makefile("rb")
        try:
            self.assertTrue(f.readline().startswith(b"220"))
            s.sendall(b"EHLO x\r\n")
            ehlo = b""
            while True:
                line = f.readline()
                ehlo += line
                if line[3:4] != b"-":
                    break
            self.assertNotIn(b"AUTH", ehlo)
            s.sendall(b"AUTH PLAIN " + b64(b"\0*)(uid=*\0x").encode() + b"\r\n")
            self.assertTrue(f.readline()[:1] == b"5")
        finally:
            f.close()
            s.close()


class TestThrottleCountsThem(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_ip_max": "3"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_refused_names_count_like_wrong_passwords(self):
        for _ in range(3):
            self.assertTrue(pop3_plain(self.app, b"*)(uid=*").startswith(b"-ERR [AUTH]"))
        # the address is now backed off, even for the right password
        self.assertIn(b"too many failures", pop3_userpass(self.app, b"demo"))


class TestConfiguredSet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_username_chars": "a-z@", "auth_username_max": "20"},
                            users=(("demo", "demo"),)).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_narrow_set_and_length(self):
        mark = self.app.log_mark()
        self.assertTrue(pop3_userpass(self.app, b"demo").startswith(b"+OK"))
        self.assertTrue(pop3_userpass(self.app, b"demo.x").startswith(b"-ERR [AUTH]"))
        self.app.wait_log(r"reason=username_chars len=6", start=mark)
        self.assertTrue(pop3_userpass(self.app, b"a" * 21).startswith(b"-ERR [AUTH]"))
        self.app.wait_log(r"reason=username_length len=21", start=mark)

    def test_posternctl_refuses_such_a_user(self):
        r = self.app.ctl("user", "add", "bad.name", "-p", "x", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("auth_username_chars", r.stderr)
        r = self.app.ctl("user", "add", "*)(uid=*", "-p", "x", check=False)
        self.assertNotEqual(r.returncode, 0)


class TestReload(unittest.TestCase):
    """The set reaches authd again on SIGHUP (MSG_AUTHD_SASL_CONFIG)."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_sighup_narrows_the_set(self):
        self.assertTrue(pop3_userpass(self.app, b"demo2", b"demo2").startswith(b"+OK"))
        mark = self.app.log_mark()
        self.app.settings["auth_username_chars"] = "a-z@"
        self.app.write_conf()
        self.app.proc.send_signal(signal.SIGHUP)
        self.app.wait_log(r"event=reloaded", start=mark)
        self.assertTrue(pop3_userpass(self.app, b"demo2", b"demo2").startswith(b"-ERR [AUTH]"))
        self.app.wait_log(r"reason=username_chars len=5", start=mark)


if __name__ == "__main__":
    unittest.main()
