"""CRAM-MD5 (RFC 2195): off by default (it needs a password-equivalent
secret in the user db); with auth_mechanisms listing it, users whose
password is set from then on get the secret, Debian's gsasl logs in over
IMAP, and a client written here with hmac/md5 sends a wrong digest, an
unknown user, an initial response and a malformed answer."""
import base64
import hmac
import os
import socket
import subprocess
import unittest

from harness import Appliance

GSASL = "/usr/bin/gsasl"


def b64(data):
    return base64.b64encode(data).decode()


def pop3(app):
    s = socket.create_connection(("127.0.0.1", app.port), timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    return s, f


def send(s, f, line):
    s.sendall(line + b"\r\n")
    return f.readline().rstrip(b"\r\n")


def cram(app, user, password, mangle=None):
    """A CRAM-MD5 exchange over POP3; the last server line."""
    s, f = pop3(app)
    try:
        r = send(s, f, b"AUTH CRAM-MD5")
        if not r.startswith(b"+ "):
            return r
        challenge = base64.b64decode(r[2:])
        digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
        answer = ("%s %s" % (user, digest)).encode()
        if mangle:
            answer = mangle(answer)
        return send(s, f, b64(answer).encode())
    finally:
        f.close()
        s.close()


class TestCramOff(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_not_offered_nor_accepted_by_default(self):
        s, f = pop3(self.app)
        try:
            self.assertEqual(send(s, f, b"AUTH CRAM-MD5"), b"-ERR Unknown SASL mechanism")
        finally:
            f.close()
            s.close()
        self.assertNotIn("cram-md5:", self.app.ctl("user", "show", "demo").stdout)


class TestCramOn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        users = [("demo", "demo"), ("u1", "p1"), ("u2", "x" * 100)]
        cls.app = Appliance({"auth_mechanisms": "PLAIN LOGIN SCRAM-SHA-256 CRAM-MD5",
                             "auth_fail_ip_max": "1000"}, users=users).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_offered(self):
        s, f = pop3(self.app)
        try:
            s.sendall(b"CAPA\r\n")
            caps = []
            while True:
                line = f.readline().rstrip(b"\r\n")
                if line == b".":
                    break
                caps.append(line)
        finally:
            f.close()
            s.close()
        self.assertIn(b"SASL PLAIN LOGIN SCRAM-SHA-256 CRAM-MD5", caps)
        self.assertIn("cram-md5:  a password-equivalent secret",
                      self.app.ctl("user", "show", "demo").stdout)

    def test_login_and_failures(self):
        mark = self.app.log_mark()
        self.assertTrue(cram(self.app, "u1", "p1").startswith(b"+OK"))
        self.assertTrue(cram(self.app, "u2", "x" * 100).startswith(b"+OK"))  # a key over 64 bytes
        self.assertTrue(cram(self.app, "demo", "wrong").startswith(b"-ERR [AUTH]"))
        self.assertTrue(cram(self.app, "nosuch", "x").startswith(b"-ERR [AUTH]"))
        self.assertTrue(cram(self.app, "demo", "demo", lambda a: a[:-1]).startswith(b"-ERR"))
        self.assertTrue(cram(self.app, "*)(uid=*", "x").startswith(b"-ERR [AUTH]"))
        self.app.wait_log(r'user="demo@localhost" reason="wrong password \(CRAM-MD5 digest\)" '
                          r'mech=CRAM-MD5', start=mark)
        self.app.wait_log(r'user="nosuch@localhost" reason="unknown user" mech=CRAM-MD5',
                          start=mark)
        self.app.wait_log(r'reason="malformed CRAM-MD5 response"', start=mark)
        self.app.wait_log(r"event=auth_refused .*reason=username_chars .*mech=CRAM-MD5", start=mark)
        s, f = pop3(self.app)
        try:
            self.assertTrue(send(s, f, b"AUTH CRAM-MD5 " + b64(b"demo x").encode())
                            .startswith(b"-ERR"))
        finally:
            f.close()
            s.close()

    def test_user_made_before_has_no_secret(self):
        # a password set while CRAM-MD5 was off: no secret until it is set again
        path = os.path.join(self.app.dir, "off.conf")
        with open(self.app.conf) as f, open(path, "w") as g:
            g.write(f.read().replace("auth_mechanisms = PLAIN LOGIN SCRAM-SHA-256 CRAM-MD5",
                                     "auth_mechanisms = PLAIN LOGIN SCRAM-SHA-256"))
        r = subprocess.run([self.app_ctl_path(), "-c", path, "user", "add", "old", "-p", "old"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        mark = self.app.log_mark()
        self.assertTrue(cram(self.app, "old", "old").startswith(b"-ERR [AUTH]"))
        self.app.wait_log(r'user="old@localhost" reason="the user has no CRAM-MD5 secret', start=mark)
        self.app.ctl("user", "passwd", "old", "-p", "new")
        self.assertTrue(cram(self.app, "old", "new").startswith(b"+OK"))

    def app_ctl_path(self):
        from harness import BIN
        return os.path.join(BIN, "posternctl")

    @unittest.skipUnless(os.path.exists(GSASL), "gsasl is not installed (scripts/deps.sh)")
    def test_gsasl_imap(self):
        mark = self.app.log_mark()
        r = subprocess.run([GSASL, "--imap", "--no-starttls", "-m", "CRAM-MD5", "-a", "demo",
                            "-p", "demo", "127.0.0.1", str(self.app.imap_port)],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("AUTH=CRAM-MD5", r.stdout)
        self.app.wait_log(r"event=login service=imap .*user=demo@localhost mech=CRAM-MD5",
                          start=mark)


if __name__ == "__main__":
    unittest.main()
