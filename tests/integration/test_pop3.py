"""POP3 end to end with real clients: Python poplib, curl, fetchmail, raw sockets."""
import base64
import glob
import os
import re
import poplib
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import TOOLS, Appliance, command, make_message, wait_until


def crlf(b):
    out = bytearray()
    prev = 0
    for c in b:
        if c == 10 and prev != 13:
            out += b"\r"
        out.append(c)
        prev = c
    return bytes(out)


class Pop3Base(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(cls.overrides)
        cls.app.start()
        cls.nuser = 0

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def new_user(self, messages=()):
        """A fresh user with these message texts delivered, in order."""
        type(self).nuser += 1
        name = "u%d%s" % (self.nuser, self._testMethodName[:20].replace("_", ""))
        self.app.ctl("user", "add", name, "-p", "pw-" + name)
        for m in messages:
            self.app.deliver(name, m)
        return name, "pw-" + name

    def login(self, user, pw, wait_unlock=False):
        """Log in; with wait_unlock, retry while a just-closed session of
        the same user still holds the POP3 lock ([IN-USE])."""
        def attempt():
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
            p.user(user)
            try:
                p.pass_(pw)
            except poplib.error_proto as e:
                if wait_unlock and b"[IN-USE]" in e.args[0]:
                    return None
                raise
            return p
        return wait_until(attempt, 10, "mailbox unlock") if wait_unlock else attempt()


class TestPop3Protocol(Pop3Base):
    def test_login_right_after_quit_finds_mailbox_free(self):
        # stored lets go of the lock before QUIT's +OK: a client that logs in
        # again at once (a poller, fetchmail's next run) never sees [IN-USE]
        user, pw = self.new_user(["Subject: a\n\nx\n"])
        mark = self.app.log_mark()
        for _ in range(20):
            p = self.login(user, pw)
            self.assertEqual(p.stat()[0], 1)
            self.assertTrue(p.quit().startswith(b"+OK"))
        # every session's end is one line with its protocol and how long it took
        rx = re.compile(r"event=disconnect child=pop3d pid=\d+ exit=0 ip=127\.0\.0\.1 "
                        r"proto=pop3 duration_ms=\d+")
        wait_until(lambda: len(rx.findall(self.app.log()[mark:])) >= 20, what="20 disconnect lines")

    def test_stat_list_sizes_are_crlf_sizes(self):
        msgs = [make_message("one", "line1\nline2\n"), make_message("two", "x" * 5000 + "\n")]
        u, pw = self.new_user(msgs)
        p = self.login(u, pw)
        count, octets = p.stat()
        self.assertEqual(count, 2)
        sizes = [len(crlf(m.encode())) for m in msgs]
        self.assertEqual(octets, sum(sizes))
        resp, lines, _ = p.list()
        self.assertEqual([int(l.split()[1]) for l in lines], sizes)
        self.assertEqual(p.list(2).split()[2], str(sizes[1]).encode())
        p.quit()

    def test_retr_content_dot_stuffing_and_crlf(self):
        body = "Hello\n.dotted line\n..two dots\n.\nend"
        u, pw = self.new_user([make_message("dots", body)])
        s, f = self.app.connect()
        command(s, f, "USER " + u)
        self.assertTrue(command(s, f, "PASS " + pw)[0].startswith(b"+OK"))
        first, lines = command(s, f, "RETR 1", multiline=True)
        raw = b"".join(lines)
        self.assertIn(b"..dotted line\r\n", raw)
        self.assertIn(b"...two dots\r\n", raw)
        self.assertIn(b"\r\n..\r\n", raw)
        self.assertTrue(raw.endswith(b"end\r\n"))
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))
        command(s, f, "QUIT")
        s.close()
        # poplib un-stuffs: the content equals the stored file
        p = self.login(u, pw)
        got = b"\n".join(p.retr(1)[1])
        self.assertEqual(got, make_message("dots", body).encode())
        p.quit()

    def test_top(self):
        u, pw = self.new_user([make_message("top", "b1\nb2\nb3\n")])
        p = self.login(u, pw)
        lines = p.top(1, 2)[1]
        self.assertIn(b"Subject: top", lines)
        self.assertEqual(lines[-2:], [b"b1", b"b2"])
        self.assertEqual(p.top(1, 0)[1][-1], b"")  # headers and the empty line only
        self.assertEqual(p.top(1, 99999999999)[1][-3:], [b"b1", b"b2", b"b3"])
        p.quit()

    def test_uidl_stable_and_valid(self):
        u, pw = self.new_user([make_message("a", "1\n"), make_message("b", "2\n")])
        p = self.login(u, pw)
        first = p.uidl()[1]
        one = p.uidl(1)
        p.quit()
        p = self.login(u, pw)
        self.assertEqual(p.uidl()[1], first)
        p.quit()
        for l in first:
            uid = l.split()[1]
            self.assertTrue(1 <= len(uid) <= 70 and all(0x21 <= c <= 0x7e for c in uid))
        self.assertEqual(one.split()[2], first[0].split()[1])

    def test_dele_quit_removes_rset_keeps_drop_keeps(self):
        u, pw = self.new_user([make_message(str(i), "m%d\n" % i) for i in range(3)])
        p = self.login(u, pw)
        p.dele(1)
        self.assertEqual(p.stat()[0], 2)
        with self.assertRaises(poplib.error_proto) as e:
            p.retr(1)
        self.assertIn(b"deleted", e.exception.args[0])
        p.rset()
        self.assertEqual(p.stat()[0], 3)
        p.dele(2)
        p.file.close()
        p.sock.close()  # vanish without QUIT: nothing is removed
        p = self.login(u, pw, wait_unlock=True)
        self.assertEqual(p.stat()[0], 3)
        p.dele(2)
        p.quit()
        p = self.login(u, pw)
        self.assertEqual(p.stat()[0], 2)
        subjects = [b"".join(l for l in p.top(i, 0)[1] if l.startswith(b"Subject")) for i in (1, 2)]
        self.assertEqual(subjects, [b"Subject: 0", b"Subject: 2"])
        p.quit()
        self.assertEqual(len(os.listdir(os.path.join(self.app.maildir(u), "cur"))), 2)

    def test_new_moves_to_cur(self):
        u, pw = self.new_user([make_message("n", "x\n")])
        md = self.app.maildir(u)
        self.assertEqual(len(os.listdir(os.path.join(md, "new"))), 1)
        p = self.login(u, pw)
        p.stat()
        p.quit()
        self.assertEqual(os.listdir(os.path.join(md, "new")), [])
        cur = os.listdir(os.path.join(md, "cur"))
        self.assertEqual(len(cur), 1)
        self.assertTrue(cur[0].endswith(":2,"))

    def test_foreign_maildir_file_without_size_in_name(self):
        """Mail dropped in by another program (no S=/W=) is served with its CRLF size."""
        u, pw = self.new_user([make_message("first", "a\n")])
        md = self.app.maildir(u)
        text = b"Subject: foreign\r\n\r\nalready crlf\r\nand lf\n"
        path = os.path.join(md, "new", "1700000000.P1Q1.otherhost")
        with open(path, "wb") as f:
            f.write(text)
        os.chown(path, 7100, 7100)
        p = self.login(u, pw)
        sizes = [int(l.split()[1]) for l in p.list()[1]]
        self.assertIn(len(text) + 1, sizes)
        p.quit()
        # the size was computed once and cached in the LMDB index
        self.assertIn(b"1700000000.P1Q1.otherhost", self.index_keys(md))
        p = self.login(u, pw, wait_unlock=True)
        p.dele(sizes.index(len(text) + 1) + 1)
        p.quit()
        self.assertNotIn(b"1700000000.P1Q1.otherhost", self.index_keys(md))

    @staticmethod
    def index_keys(md):
        # our LMDB, not Debian's mdb_dump: that is glibc's, whose lock layout
        # differs from the musl-built stored's, and it can hang on a live index
        return subprocess.run([os.path.join(TOOLS, "index_keys"), os.path.join(md, "postern-index"),
                               "sizes"], capture_output=True, check=True, timeout=30).stdout

    def test_capa(self):
        s, f = self.app.connect()
        first, lines = command(s, f, "CAPA", multiline=True)
        caps = [l.strip() for l in lines]
        for c in (b"TOP", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE", b"PIPELINING", b"USER",
                  b"SASL PLAIN LOGIN SCRAM-SHA-256", b"IMPLEMENTATION Postern"):
            self.assertIn(c, caps)
        s.close()

    def test_auth_plain_ir_and_continuation(self):
        u, pw = self.new_user([make_message("a", "1\n")])
        tok = base64.b64encode(b"\0" + u.encode() + b"\0" + pw.encode()).decode()
        mark = self.app.log_mark()
        s, f = self.app.connect()
        self.assertTrue(command(s, f, "AUTH PLAIN " + tok)[0].startswith(b"+OK"))
        s.close()
        # the login line says how: the mechanism (USER for USER/PASS)
        self.app.wait_log(r"event=login service=pop3 ip=\S+ user=%s@localhost mech=PLAIN" % u,
                          start=mark)
        s, f = self.app.connect()
        self.assertEqual(command(s, f, "AUTH PLAIN")[0], b"+ \r\n")
        self.assertTrue(command(s, f, tok)[0].startswith(b"+OK"))
        s.close()

    def test_auth_login(self):
        u, pw = self.new_user()
        s, f = self.app.connect()
        self.assertEqual(command(s, f, "AUTH LOGIN")[0], b"+ VXNlcm5hbWU6\r\n")
        self.assertEqual(command(s, f, base64.b64encode(u.encode()).decode())[0], b"+ UGFzc3dvcmQ6\r\n")
        self.assertTrue(command(s, f, base64.b64encode(pw.encode()).decode())[0].startswith(b"+OK"))
        s.close()

    def test_auth_bad_base64_abort_and_unknown_mech(self):
        s, f = self.app.connect()
        self.assertTrue(command(s, f, "AUTH PLAIN %%%notbase64")[0].startswith(b"-ERR"))
        command(s, f, "AUTH PLAIN")
        self.assertTrue(command(s, f, "*")[0].startswith(b"-ERR"))
        self.assertTrue(command(s, f, "AUTH CRAM-MD5")[0].startswith(b"-ERR"))
        self.assertEqual(command(s, f, "NOOP")[0][:4], b"-ERR")  # still AUTHORIZATION
        self.assertTrue(command(s, f, "CAPA", multiline=True)[0].startswith(b"+OK"))
        s.close()

    def test_wrong_password_and_unknown_user_same_answer(self):
        s, f = self.app.connect()
        command(s, f, "USER demo")
        bad_pw = command(s, f, "PASS nope")[0]
        command(s, f, "USER nosuchuser")
        unknown = command(s, f, "PASS nope")[0]
        self.assertEqual(bad_pw, unknown)
        self.assertTrue(bad_pw.startswith(b"-ERR [AUTH]"))
        s.close()
        self.app.wait_log(r'event=auth_failed service=pop3 ip=127\.0\.0\.1 user="demo@localhost" reason="wrong password"')
        self.app.wait_log(r'event=auth_failed .*user="nosuchuser@localhost" reason="unknown user"')
        self.assertNotIn("nope", self.app.log())

    def test_commands_before_auth_refused(self):
        s, f = self.app.connect()
        for c in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "RSET"):
            self.assertTrue(command(s, f, c)[0].startswith(b"-ERR [AUTH]"), c)
        self.assertTrue(command(s, f, "PASS x")[0].startswith(b"-ERR"))
        self.assertTrue(command(s, f, "APOP demo 0123456789abcdef0123456789abcdef")[0].startswith(b"-ERR"))
        s.close()

    def test_in_use(self):
        u, pw = self.new_user([make_message("a", "1\n")])
        p = self.login(u, pw)
        s, f = self.app.connect()
        command(s, f, "USER " + u)
        self.assertTrue(command(s, f, "PASS " + pw)[0].startswith(b"-ERR [IN-USE]"))
        s.close()
        p.quit()
        self.login(u, pw).quit()

    def test_pipelining(self):
        u, pw = self.new_user([make_message("a", "1\n"), make_message("b", "2\n")])
        s, f = self.app.connect()
        s.sendall(("USER %s\r\nPASS %s\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n" % (u, pw)).encode())
        replies = [f.readline() for _ in range(6)]
        self.assertTrue(all(r.startswith(b"+OK") for r in replies), replies)
        s.close()

    def test_invalid_numbers(self):
        u, pw = self.new_user([make_message("a", "1\n")])
        s, f = self.app.connect()
        command(s, f, "USER " + u)
        command(s, f, "PASS " + pw)
        for n in ("0", "-1", "2", "4294967296", "18446744073709551616",
                  "99999999999999999999999999", "1x", "+1"):
            self.assertTrue(command(s, f, "RETR " + n)[0].startswith(b"-ERR"), n)
            self.assertTrue(command(s, f, "LIST " + n)[0].startswith(b"-ERR"), n)
        self.assertTrue(command(s, f, "TOP 1 -1")[0].startswith(b"-ERR"))
        self.assertTrue(command(s, f, "TOP 1 18446744073709551616")[0].startswith(b"-ERR"))
        self.assertTrue(command(s, f, "STAT")[0].startswith(b"+OK 1 "))
        s.close()


class TestPop3BadInput(Pop3Base):
    overrides = {"pop3_max_line": "256", "pop3_max_bad_commands": "50"}

    def test_long_line_refused_session_goes_on(self):
        s, f = self.app.connect()
        self.assertTrue(command(s, f, b"USER " + b"a" * 5000 + b"\r\n")[0].startswith(b"-ERR Line too long"))
        self.assertTrue(command(s, f, "CAPA", multiline=True)[0].startswith(b"+OK"))
        s.close()

    def test_nul_refused_not_truncated(self):
        s, f = self.app.connect()
        self.assertTrue(command(s, f, b"USER demo\0evil\r\n")[0].startswith(b"-ERR NUL"))
        # PASS must not find a USER: the NUL line was refused whole
        self.assertTrue(command(s, f, "PASS demo")[0].startswith(b"-ERR USER first"))
        s.close()

    def test_invalid_utf8_user(self):
        s, f = self.app.connect()
        self.assertTrue(command(s, f, b"USER d\xc3\x28mo\r\n")[0].startswith(b"-ERR [AUTH] Invalid user"))
        tok = base64.b64encode(b"\0d\xff\xfeo\0demo")
        self.assertTrue(command(s, f, b"AUTH PLAIN " + tok + b"\r\n")[0].startswith(b"-ERR"))
        s.close()
        # 8-bit bytes are outside auth_username_chars: refused before the
        # normaliser sees them (docs/AUTH.md)
        self.app.wait_log(r'event=auth_refused service=pop3 .*reason=username_chars')

    def test_unknown_and_empty_commands(self):
        s, f = self.app.connect()
        self.assertTrue(command(s, f, "FROB")[0].startswith(b"-ERR Unknown"))
        self.assertTrue(command(s, f, b"\r\n")[0].startswith(b"-ERR"))
        self.assertTrue(command(s, f, "USER  demo")[0].startswith(b"-ERR"))
        self.assertTrue(command(s, f, "XSYSCALLTEST")[0].startswith(b"-ERR Unknown"))
        s.close()

    def test_too_many_bad_commands_closes(self):
        s, f = self.app.connect()
        s.sendall(b"BAD\r\n" * 60)
        lines = []
        while True:
            l = f.readline()
            if not l:
                break
            lines.append(l)
        self.assertEqual(lines[-1], b"-ERR Too many bad commands, closing\r\n")
        self.assertEqual(len(lines), 51)
        s.close()

    def test_client_vanishes_mid_retr(self):
        big = make_message("big", ("y" * 999 + "\n") * 8000)
        u, pw = self.new_user([big, make_message("small", "s\n")])
        s, f = self.app.connect()
        command(s, f, "USER " + u)
        command(s, f, "PASS " + pw)
        s.sendall(b"RETR 1\r\n")
        f.readline()
        f.read(10000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        f.close()
        s.close()  # RST while the server is still writing
        p = self.login(u, pw, wait_unlock=True)
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual(b"\n".join(p.retr(1)[1]) + b"\n", big.encode())
        p.quit()

    def test_file_removed_while_listed(self):
        u, pw = self.new_user([make_message("a", "1\n"), make_message("b", "2\n")])
        p = self.login(u, pw)
        self.assertEqual(p.stat()[0], 2)
        cur = os.path.join(self.app.maildir(u), "cur")
        # message 1 is "a": the file holding it (names need not sort in delivery order)
        def holds_a(name):
            with open(os.path.join(cur, name), "rb") as f:
                return b"Subject: a" in f.read()
        victim = [n for n in os.listdir(cur) if holds_a(n)][0]
        os.unlink(os.path.join(cur, victim))
        with self.assertRaises(poplib.error_proto) as e:
            p.retr(1)
        self.assertIn(b"removed by another program", e.exception.args[0])
        self.assertIn(b"Subject: b", p.retr(2)[1])
        p.dele(1)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.app.wait_log(r"event=message_gone")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to chown")
    def test_unreadable_file_is_an_error_not_gone(self):
        u, pw = self.new_user([make_message("locked", "1\n"), make_message("ok", "2\n")])
        cur = os.path.join(self.app.maildir(u), "new")
        victim = sorted(os.listdir(cur))[0]
        os.chown(os.path.join(cur, victim), 0, 0)
        p = self.login(u, pw)
        with self.assertRaises(poplib.error_proto) as e:
            p.retr(1)
        self.assertIn(b"cannot read", e.exception.args[0].lower())
        self.assertIn(b"Subject: ok", p.retr(2)[1])
        p.quit()
        self.app.wait_log(r'event=message_unreadable index=0 errno=13 reason="permission denied')

    def test_file_renamed_by_other_client_still_served(self):
        u, pw = self.new_user([make_message("flags", "1\n")])
        p = self.login(u, pw)
        cur = os.path.join(self.app.maildir(u), "cur")
        name = os.listdir(cur)[0]
        os.rename(os.path.join(cur, name), os.path.join(cur, name + "S"))
        self.assertIn(b"Subject: flags", p.retr(1)[1])
        p.dele(1)
        p.quit()
        self.assertEqual(os.listdir(cur), [])


class TestRealClients(Pop3Base):
    def test_curl_list_and_retrieve(self):
        u, pw = self.new_user([make_message("curl me", "via curl\n")])
        url = "pop3://%s:%s@127.0.0.1:%d/" % (u, pw, self.app.port)
        out = subprocess.run(["curl", "-sS", "--max-time", "20", url], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout.decode(), r"^1 \d+\r\n$")
        out = subprocess.run(["curl", "-sS", "--max-time", "20", url + "1"], capture_output=True, timeout=30)
        self.assertIn(b"Subject: curl me", out.stdout)
        self.assertIn(b"via curl", out.stdout)

    def test_curl_wrong_password(self):
        url = "pop3://demo:wrong@127.0.0.1:%d/" % self.app.port
        out = subprocess.run(["curl", "-sS", "--max-time", "20", url], capture_output=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)

    def test_fetchmail(self):
        if not shutil.which("fetchmail"):
            self.skipTest("fetchmail not installed")
        u, pw = self.new_user([make_message("fm%d" % i, "fetch %d\n" % i) for i in range(3)])
        home = tempfile.mkdtemp()
        try:
            out_mbox = os.path.join(home, "out.mbox")
            rc = os.path.join(home, "fetchmailrc")
            with open(rc, "w") as f:
                f.write("set no syslog\npoll 127.0.0.1 service %d protocol pop3 auth password\n"
                        "  user \"%s\" password \"%s\" is root here\n"
                        "  mda \"/bin/sh -c 'cat >> %s'\"\n  sslproto '' \n" % (self.app.port, u, pw, out_mbox))
            os.chmod(rc, 0o600)
            r = subprocess.run(["fetchmail", "-f", rc, "--nosslcertck", "-v", "--nodetach"],
                               capture_output=True, text=True, timeout=60, env=dict(os.environ, HOME=home))
            self.assertIn(r.returncode, (0,), r.stdout + r.stderr)
            got = open(out_mbox, "rb").read()
            for i in range(3):
                self.assertIn(b"fetch %d" % i, got)
            # fetchmail deletes what it fetched (no --keep)
            p = self.login(u, pw)
            self.assertEqual(p.stat()[0], 0)
            p.quit()
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
