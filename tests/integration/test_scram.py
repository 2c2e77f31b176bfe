"""SCRAM-SHA-256 (RFC 5802, RFC 7677) through authd, without plaintext on
the server: Debian's gsasl logs in over IMAP (its --imap mode) and over
POP3 (gsasl's own client, its stdin/stdout mode, with this test doing the
POP3 framing: gsasl has no POP3 mode), and a SCRAM client written here
with hashlib/hmac sends what a normal client never does: a wrong proof, an
unknown user, "p=" channel binding, malformed messages.  SMTP submission
AUTH is not there yet (the submission service is not built), so it is not
tested here."""
import base64
import hashlib
import hmac
import imaplib
import os
import re
import select
import socket
import subprocess
import time
import unittest

from harness import Appliance, wait_until

GSASL = "/usr/bin/gsasl"


def b64(data):
    return base64.b64encode(data).decode()


class ScramClient:
    """The client's side of RFC 5802, enough to break it on purpose."""

    def __init__(self, user, password, gs2="n,,", nonce=None):
        self.user, self.password, self.gs2 = user, password, gs2
        self.nonce = nonce or b64(os.urandom(18))
        self.bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), self.nonce)

    def first(self):
        return (self.gs2 + self.bare).encode()

    def final(self, server_first, wrong=False):
        self.server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        assert attrs["r"].startswith(self.nonce)
        salt, iters = base64.b64decode(attrs["s"]), int(attrs["i"])
        self.salt, self.iterations = salt, iters
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iters)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        stored = hashlib.sha256(client_key).digest()
        without = "c=%s,r=%s" % (b64(self.gs2.encode()), attrs["r"])
        authmsg = ",".join([self.bare, self.server_first, without]).encode()
        sig = hmac.new(stored, authmsg, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        if wrong:
            proof = bytes([proof[0] ^ 1]) + proof[1:]
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self.expect = "v=" + b64(hmac.new(server_key, authmsg, "sha256").digest())
        return (without + ",p=" + b64(proof)).encode()


class Pop3:
    def __init__(self, app):
        self.s = socket.create_connection(("127.0.0.1", app.port), timeout=10)
        self.f = self.s.makefile("rb")
        assert self.f.readline().startswith(b"+OK")

    def send(self, line):
        self.s.sendall(line + b"\r\n")
        return self.f.readline().rstrip(b"\r\n")

    def close(self):
        self.f.close()
        self.s.close()


def challenge(reply):
    """The decoded data of a "+ base64" continuation."""
    assert reply.startswith(b"+ ") or reply == b"+", reply
    return base64.b64decode(reply[2:])


def pop3_scram(app, client, wrong=False, ir=True):
    """A SCRAM exchange over POP3 AUTH; returns the last server line."""
    p = Pop3(app)
    try:
        if ir:
            r = p.send(b"AUTH SCRAM-SHA-256 " + b64(client.first()).encode())
        else:
            r = p.send(b"AUTH SCRAM-SHA-256")
            if not r.startswith(b"+"):
                return r
            r = p.send(b64(client.first()).encode())
        if not r.startswith(b"+ "):
            return r
        r = p.send(b64(client.final(challenge(r), wrong)).encode())
        if not r.startswith(b"+ "):
            return r
        assert challenge(r).decode() == client.expect, (r, client.expect)
        return p.send(b"")
    finally:
        p.close()


class GsaslBridge:
    """gsasl --client on pipes: server data in, client data out (base64 lines)."""

    def __init__(self, user, password):
        # stdbuf: gsasl's stdout is a pipe here, line-buffer it
        self.proc = subprocess.Popen(["stdbuf", "-oL", GSASL, "--client", "--no-cb", "-m", "SCRAM-SHA-256",
                                      "-a", user, "-p", password], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def line(self):
        # our own buffer: select() cannot see what a file object has read ahead
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            r, _, _ = select.select([fd], [], [], 10)
            assert r, "gsasl said nothing"
            chunk = os.read(fd, 4096)
            assert chunk, "gsasl ended"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.strip()

    def give(self, data):
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def close(self):
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err.decode(errors="replace")


@unittest.skipUnless(os.path.exists(GSASL), "gsasl is not installed (scripts/deps.sh)")
class TestGsasl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_ip_max": "1000"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def gsasl_imap(self, user, password):
        return subprocess.run([GSASL, "--imap", "--no-starttls", "-m", "SCRAM-SHA-256", "-a", user,
                               "-p", password, "127.0.0.1", str(self.app.imap_port)],
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)

    def test_imap_login(self):
        mark = self.app.log_mark()
        r = self.gsasl_imap("demo", "demo")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("server trusted", r.stderr)  # it checked our server signature
        self.assertIn("AUTH=SCRAM-SHA-256", r.stdout)
        self.assertRegex(r.stdout, r"\. OK .*Logged in")
        self.app.wait_log(r"event=login service=imap ip=127\.0\.0\.1 user=demo@localhost "
                          r"mech=SCRAM-SHA-256", start=mark)

    def test_imap_wrong_password(self):
        mark = self.app.log_mark()
        r = self.gsasl_imap("demo", "wrong")
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("Logged in", r.stdout)
        self.app.wait_log(r'user="demo@localhost" reason="wrong password \(SCRAM proof\)" '
                          r'mech=SCRAM-SHA-256', start=mark)

    def test_pop3_login(self):
        mark = self.app.log_mark()
        g = GsaslBridge("demo2", "demo2")
        p = Pop3(self.app)
        try:
            self.assertEqual(g.line(), b"SCRAM-SHA-256")
            r = p.send(b"AUTH SCRAM-SHA-256 " + g.line())    # client-first
            self.assertTrue(r.startswith(b"+ "), r)
            g.give(r[2:])                                    # server-first
            r = p.send(g.line())                             # client-final
            self.assertTrue(r.startswith(b"+ "), r)
            g.give(r[2:])                                    # server-final
            self.assertTrue(p.send(b"").startswith(b"+OK"))
            self.assertTrue(p.send(b"STAT").startswith(b"+OK"))
        finally:
            p.close()
            rc, err = g.close()
        # gsasl checked our server-final (a wrong signature is its "mechanism error")
        self.assertNotIn("error", err)
        self.app.wait_log(r"event=login service=pop3 ip=127\.0\.0\.1 user=demo2@localhost "
                          r"mech=SCRAM-SHA-256", start=mark)


class TestScramEdges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # a user per login: a session that ends without QUIT holds its
        # maildrop until its stored has gone, and the next one would get [IN-USE]
        users = [("demo", "demo")] + [("u%d" % i, "p%d" % i) for i in range(1, 4)]
        cls.app = Appliance({"auth_fail_ip_max": "1000", "auth_fail_user_max": "1000"},
                            users=users).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_good_proof_and_server_signature(self):
        self.assertTrue(pop3_scram(self.app, ScramClient("u1", "p1")).startswith(b"+OK"))
        self.assertTrue(pop3_scram(self.app, ScramClient("u2", "p2", gs2="y,,"),
                                   ir=False).startswith(b"+OK"))
        self.assertTrue(pop3_scram(self.app, ScramClient("u3", "p3", gs2="n,a=u3,"))
                        .startswith(b"+OK"))

    def test_wrong_proof(self):
        mark = self.app.log_mark()
        r = pop3_scram(self.app, ScramClient("demo", "demo"), wrong=True)
        self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
        self.app.wait_log(r'user="demo@localhost" reason="wrong password \(SCRAM proof\)"',
                          start=mark)

    def test_unknown_user_looks_like_a_user(self):
        mark = self.app.log_mark()
        a, b, real = ScramClient("nosuch", "x"), ScramClient("nosuch", "y"), ScramClient("demo", "x")
        for c in (a, b, real):
            self.assertTrue(pop3_scram(self.app, c).startswith(b"-ERR [AUTH]"))
        # the same salt every time, as long as a real one, the same count
        self.assertEqual(a.salt, b.salt)
        self.assertEqual(len(a.salt), len(real.salt))
        self.assertEqual(a.iterations, real.iterations)
        self.assertNotEqual(a.salt, real.salt)
        self.app.wait_log(r'user="nosuch@localhost" reason="unknown user" mech=SCRAM-SHA-256',
                          start=mark)

    def test_channel_binding_request_refused(self):
        mark = self.app.log_mark()
        r = pop3_scram(self.app, ScramClient("demo", "demo", gs2="p=tls-exporter,,"))
        self.assertTrue(r.startswith(b"-ERR"), r)
        self.app.wait_log(r"reason=\"the client asked for channel binding \(p=\)", start=mark)

    def test_malformed(self):
        mark = self.app.log_mark()
        for first in (b"x,,n=demo,r=abc", b"n,,r=abc", b"n,,n=demo", b"n,,m=ext,n=demo,r=abc",
                      b"n,,n=de=mo,r=abc", b"n,a=demo2,n=demo,r=abc"):
            p = Pop3(self.app)
            try:
                r = p.send(b"AUTH SCRAM-SHA-256 " + b64(first).encode())
                self.assertTrue(r.startswith(b"-ERR"), (first, r))
            finally:
                p.close()
        # a final message with another nonce, or a gs2 header that is not the first one
        for bad in ("nonce", "cbind", "garbage"):
            c = ScramClient("demo", "demo")
            p = Pop3(self.app)
            try:
                sf = challenge(p.send(b"AUTH SCRAM-SHA-256 " + b64(c.first()).encode()))
                final = c.final(sf)
                if bad == "nonce":
                    final = final.replace(b"r=" + c.nonce.encode(), b"r=X" + c.nonce.encode())
                elif bad == "cbind":
                    final = final.replace(b"c=biws", b"c=eSws")
                else:
                    final = b"\xff,,,"
                self.assertTrue(p.send(b64(final).encode()).startswith(b"-ERR"), bad)
            finally:
                p.close()
        log = self.app.log()[mark:]
        self.assertNotIn("event=login ", log)
        self.assertIn("malformed SCRAM client-final message", log)
        self.assertIn("SCRAM mandatory extension (m=) not supported", log)

    def test_aborted_and_data_after_server_final(self):
        p = Pop3(self.app)
        try:
            c = ScramClient("demo", "demo")
            r = p.send(b"AUTH SCRAM-SHA-256 " + b64(c.first()).encode())
            self.assertTrue(p.send(b"*").startswith(b"-ERR"))
            r = p.send(b"AUTH SCRAM-SHA-256 " + b64(c.first()).encode())
            r = p.send(b64(ScramClient.final(c, challenge(r))).encode())
            self.assertTrue(r.startswith(b"+ "))
            self.assertTrue(p.send(b64(b"more").encode()).startswith(b"-ERR"))
        finally:
            p.close()

    def test_injection_in_scram_name(self):
        mark = self.app.log_mark()
        r = pop3_scram(self.app, ScramClient("*)(uid=*", "x"))
        self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
        self.app.wait_log(r"event=auth_refused service=pop3 .*reason=username_chars .*"
                          r"mech=SCRAM-SHA-256", start=mark)

    def test_user_without_secrets_then_plain_login_then_passwd(self):
        # an imported hash has no SCRAM secrets: SCRAM fails with the
        # reason in the log; the first PLAIN login adds them (the master
        # writes them, bound to that hash); user passwd makes new ones
        h = subprocess.run(["openssl", "passwd", "-6", "-salt", "abcdefgh", "old"],
                           capture_output=True, text=True, check=True).stdout.strip()
        path = os.path.join(self.app.dir, "legacy.csv")
        with open(path, "w") as f:
            f.write("legacy@localhost,%s\n" % h)
        self.app.ctl("user", "import", "csv", path)
        self.assertIn("scram:     none", self.app.ctl("user", "show", "legacy").stdout)
        mark = self.app.log_mark()
        self.assertTrue(pop3_scram(self.app, ScramClient("legacy", "old")).startswith(b"-ERR"))
        self.app.wait_log(r'user="legacy@localhost" reason="the user has no SCRAM-SHA-256 secrets',
                          start=mark)
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        try:
            self.assertEqual(m.login("legacy", "old")[0], "OK")
        finally:
            m.logout()
        self.app.wait_log(r"event=scram_added user=legacy@localhost iterations=4096", start=mark)
        wait_until(lambda: "scram:     SCRAM-SHA-256, 4096 iterations" in
                   self.app.ctl("user", "show", "legacy").stdout, 10, "secrets written")
        self.no_stored()
        self.assertTrue(pop3_scram(self.app, ScramClient("legacy", "old")).startswith(b"+OK"))
        self.no_stored()
        self.app.ctl("user", "passwd", "legacy", "-p", "new")
        self.assertTrue(pop3_scram(self.app, ScramClient("legacy", "old")).startswith(b"-ERR"))
        self.assertTrue(pop3_scram(self.app, ScramClient("legacy", "new")).startswith(b"+OK"))
        # the secrets are added once: a SCRAM login (no password) sends none
        self.assertEqual(self.app.log()[mark:].count("event=scram_added"), 1)

    def no_stored(self):
        """Wait for every session's stored to be gone (its maildrop lock with it)."""
        wait_until(lambda: not self.app.children("postern-stored"), 10, "stored gone")


class TestScramThrottleAndDelay(unittest.TestCase):
    DELAY_MS = 150

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_user_max": "3", "auth_fail_ip_max": "1000",
                             "auth_fail_delay_ms": str(cls.DELAY_MS)}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_wrong_proofs_are_delayed_and_counted(self):
        for _ in range(3):
            c = ScramClient("demo2", "demo2")
            p = Pop3(self.app)
            try:
                sf = challenge(p.send(b"AUTH SCRAM-SHA-256 " + b64(c.first()).encode()))
                final = b64(c.final(sf, wrong=True)).encode()
                t0 = time.monotonic()
                r = p.send(final)
                dt = time.monotonic() - t0
            finally:
                p.close()
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
            self.assertGreaterEqual(dt, self.DELAY_MS / 1000.0 * 0.9)
        # the user is now backed off: refused at client-first, right password or not
        r = pop3_scram(self.app, ScramClient("demo2", "demo2"))
        self.assertIn(b"too many failures", r)


class TestMechanismsKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_mechanisms": "PLAIN"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_only_the_listed_mechanisms(self):
        p = Pop3(self.app)
        try:
            p.s.sendall(b"CAPA\r\n")
            caps = []
            while True:
                l = p.f.readline().rstrip(b"\r\n")
                if l == b".":
                    break
                caps.append(l)
            self.assertIn(b"SASL PLAIN", caps)
            self.assertTrue(p.send(b"AUTH SCRAM-SHA-256 " + b64(ScramClient("demo", "demo")
                                                              .first()).encode())
                            .startswith(b"-ERR"))
            self.assertTrue(p.send(b"AUTH PLAIN " + b64(b"\0demo\0demo").encode())
                            .startswith(b"+OK"))
        finally:
            p.close()


if __name__ == "__main__":
    unittest.main()
