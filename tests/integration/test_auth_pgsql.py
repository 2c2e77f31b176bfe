"""authd's chain of backends with PostgreSQL (docs/AUTH.md#backends): a
real PostgreSQL 15 from Debian started on loopback in a temp dir, a users
table, logins over IMAP and POP3 through `auth_backends = userdb pgsql`,
recipient lookups over SMTP, injection attempts in names, the live
privilege proof of postern-auth-pgsql, and the server down: a temporary
failure (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP]) until it is back."""
import base64
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import unittest

from harness import (BIN, Appliance, free_port, proc_status, wait_until, imap_login_result,
                     pop3_login_result)

PGBIN = "/usr/lib/postgresql/15/bin"
HELPER = os.path.join(BIN, "postern-auth-pgsql")


def have_pgsql():
    return os.path.exists(os.path.join(PGBIN, "initdb")) and os.path.exists(HELPER)


def sha512_crypt(password):
    return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                          check=True).stdout.strip()


class PgServer:
    """A throwaway cluster owned by the postgres user, TCP on 127.0.0.1
    and a socket in its own directory; torn down by stop()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="postern-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        pw = os.path.join(self.dir, "pw")
        with open(pw, "w") as f:
            f.write("rootpw\n")
        shutil.chown(pw, "postgres", "postgres")
        self.pg("initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                "--auth-host=scram-sha-256", "--pwfile=" + pw, "-E", "UTF8")

    def pg(self, tool, *args, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PGBIN, tool)] + list(args),
                              capture_output=True, text=True, check=check, timeout=60, cwd=self.dir)

    def start(self):
        self.pg("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-o",
                "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off" % (self.port, self.dir),
                "start")

    def stop(self):
        self.pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)

    def sql(self, text, db="mail"):
        r = self.pg("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.dir,
                    "-p", str(self.port), "-d", db, "-c", text)
        return r.stdout.strip()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


QUERY = ("SELECT password, maildir, quota, options FROM users "
         "WHERE login = $login AND $service <> 'none'")
LOOKUP = "SELECT login, maildir, quota, options FROM users WHERE login = $login"


@unittest.skipUnless(have_pgsql(), "PostgreSQL 15 or postern-auth-pgsql missing")
class TestAuthPgsql(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer()
        try:
            cls.pg.start()
            cls.pg.sql("CREATE DATABASE mail", db="postgres")
            cls.pg.sql("CREATE ROLE postern LOGIN PASSWORD 'helperpw'")
            cls.pg.sql("CREATE TABLE users (login text PRIMARY KEY, password text, maildir text, "
                       "quota bigint, options text); GRANT SELECT ON users TO postern")
            rows = [("alice@localhost", sha512_crypt("alicepw"), None, None, None),
                    ("bob@pg.example", sha512_crypt("bobpw"), None, "1000000", None),
                    ("carol@localhost", sha512_crypt("carolpw"), None, None, "disableimap=1"),
                    ("dave@localhost", sha512_crypt("davepw"), None, None, "disabled=1")]
            for r in rows:
                vals = ", ".join("NULL" if v is None else "'%s'" % v for v in r)
                cls.pg.sql("INSERT INTO users VALUES (%s)" % vals)
            cls.lmtp_port = free_port()
            conn = ("host=127.0.0.1 port=%d dbname=mail user=postern "
                    "sslmode=disable gssencmode=disable connect_timeout=5" % cls.pg.port)
            # the password in a root-only file the helper reads before its
            # sandbox, not in the config every process reads
            pwfile = os.path.join(cls.pg.dir, "helper.secret")
            with open(pwfile, "w") as f:
                f.write("helperpw\n")
            os.chmod(pwfile, 0o600)
            cls.app = Appliance({"auth_backends": "userdb pgsql", "pgsql_connection": conn,
                                 "pgsql_password_file": pwfile,
                                 "lmtp_listen": "127.0.0.1:%d" % cls.lmtp_port,
                                 "pgsql_password_query": QUERY, "pgsql_user_query": LOOKUP,
                                 "restart_backoff_max": "1", "auth_fail_ip_max": "1000"})
            cls.conn = conn
            cls.app.start()
            cls.app.wait_log(r"proc=auth-pgsql pid=\d+ level=info event=ready backend=pgsql")
        except BaseException:
            if getattr(cls, "app", None):
                cls.app.cleanup()
            cls.pg.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("KEEPLOG"):
            shutil.copy(cls.app.logpath, "/tmp/x/pg-master.log")
        cls.app.cleanup()
        cls.pg.cleanup()

    def imap_login(self, user, password):
        return imap_login_result(self.app, user, password, select=True)

    def pop3_login(self, user, password):
        return pop3_login_result(self.app, user, password, stat=True)

    def pop3_plain(self, raw):
        """AUTH PLAIN with raw bytes (NUL, CR LF inside the name)."""
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=20)
        f = s.makefile("rb")
        try:
            f.readline()
            s.sendall(b"AUTH PLAIN " + base64.b64encode(raw) + b"\r\n")
            return f.readline().rstrip(b"\r\n")
        finally:
            f.close()
            s.close()

    def test_imap_login_through_the_chain(self):
        mark = self.app.log_mark()
        self.assertEqual(self.imap_login("alice", "alicepw"), "OK")
        self.app.wait_log(r"event=login service=imap ip=127\.0\.0\.1 user=alice@localhost "
                          r"mech=\S+ backend=pgsql", start=mark)
        # the user db still comes first
        self.assertEqual(self.imap_login("demo", "demo"), "OK")

    def test_pop3_login_through_the_chain(self):
        self.assertIsInstance(self.pop3_login("bob@pg.example", "bobpw"), int)

    def test_wrong_password_and_unknown_user(self):
        mark = self.app.log_mark()
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("alice", "nope"))
        self.app.wait_log(r"event=auth_failed service=imap .*user=\"alice@localhost\" "
                          r"reason=\"wrong password\" mech=\S+ backend=pgsql", start=mark)
        self.assertIn("-ERR", self.pop3_login("nobody", "x"))
        self.app.wait_log(r"event=auth_failed service=pop3 .*user=\"nobody@localhost\" "
                          r"reason=\"unknown user\"", start=mark)

    def test_per_user_options(self):
        mark = self.app.log_mark()
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("carol", "carolpw"))
        self.assertIsInstance(self.pop3_login("carol", "carolpw"), int)
        self.assertIn("-ERR", self.pop3_login("dave", "davepw"))
        self.app.wait_log(r"event=auth_failed service=imap .*user=\"carol@localhost\" "
                          r"reason=\"this service is switched off", start=mark)

    def test_recipient_lookups(self):
        msg = b"From: x@example.net\r\nSubject: via pgsql\r\n\r\nhello\r\n"
        with smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=30) as c:
            # a user only the backend knows, in a domain only it hosts
            self.assertEqual(c.sendmail("x@example.net", ["alice@localhost", "bob@pg.example"],
                                        msg), {})
            code, _ = c.rcpt("nobody@localhost") if c.mail("x@example.net")[0] == 250 else (0, b"")
            self.assertEqual(code // 100, 5)
            c.rset()
            # an injection in an address: bound as a value, never run
            c.mail("x@example.net")
            code, _ = c.rcpt("'; DROP TABLE users; --@localhost")
            self.assertNotEqual(code, 250)
            c.rset()
        for user, dom in (("alice", "localhost"), ("bob", "pg.example")):
            new = os.path.join(self.app.mail, dom, user, "new")
            wait_until(lambda: os.path.isdir(new) and os.listdir(new), 20, "delivery to " + user)
        self.assertEqual(self.pg.sql("SELECT count(*) FROM users"), "4")

    def test_lmtp_recipients(self):
        msg = b"From: x@example.net\r\nSubject: lmtp via pgsql\r\n\r\nhello\r\n"
        new = os.path.join(self.app.mail, "pg.example", "bob", "new")
        before = len(os.listdir(new)) if os.path.isdir(new) else 0
        c = smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30)
        try:
            c.ehlo("test")
            self.assertEqual(c.mail("x@example.net")[0], 250)
            self.assertEqual(c.rcpt("bob@pg.example")[0], 250)
            self.assertEqual(c.rcpt("bob+news@pg.example")[0], 250)  # a subaddress
            self.assertEqual(c.rcpt("nobody@pg.example")[0] // 100, 5)
            code, _ = c.rcpt("dave@localhost")  # disabled in the table
            self.assertEqual(code // 100, 5)
            c.data(msg)
        finally:
            c.quit()
        wait_until(lambda: len(os.listdir(new)) > before, 20, "LMTP delivery to bob")

    def test_injection_in_names(self):
        mark = self.app.log_mark()
        for name in ("'; DROP TABLE users; --", "*)(uid=*", "a" * 10240):
            self.assertIn("-ERR", self.pop3_login(name, "x"))
        for raw in (b"\0alice\0\0alicepw", b"\0alice\r\n@localhost\0alicepw",
                    b"\0ali\0ce\0alicepw"):
            self.assertTrue(self.pop3_plain(raw).startswith(b"-ERR"), raw)
        self.assertNotEqual(self.imap_login("alice\"; --", "alicepw"), "OK")
        self.assertEqual(self.pg.sql("SELECT count(*) FROM users"), "4")
        log = self.app.log()[mark:]
        # the two names with characters outside auth_username_chars; the
        # 10 KB one is too long a POP3 line, the PLAIN ones malformed
        self.assertGreaterEqual(len(re.findall(r"event=auth_refused .*reason=username_(chars|length)",
                                               log)), 2)
        self.assertNotIn("pgsql_failed", log)

    def test_no_password_in_the_config(self):
        for conn in ("host=127.0.0.1 user=postern password=x",
                     "postgresql://postern:x@127.0.0.1/mail"):
            self.app.settings["pgsql_connection"] = conn
            self.app.write_conf()
            try:
                r = self.app.ctl("config", "check", check=False)
            finally:
                self.app.settings["pgsql_connection"] = self.conn
                self.app.write_conf()
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("pgsql_password_file", r.stderr)
        with open("/proc/%d/environ" % self.app.proc.pid, "rb") as f:
            self.assertNotIn(b"helperpw", f.read())
        self.assertNotIn("helperpw", open(self.app.conf).read())

    def test_helper_privileges(self):
        pid = self.app.child_pid("postern-auth-pgsql")
        self.assertIsNotNone(pid)
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), ["7004"] * 4)
        self.assertEqual(st["Gid"].split(), ["7004"] * 4)
        self.assertEqual(st["CapEff"], "0000000000000000")
        self.assertEqual(st["CapPrm"], "0000000000000000")
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), self.app.empty)
        fds = sorted(int(f) for f in os.listdir("/proc/%d/fd" % pid))
        links = {f: os.readlink("/proc/%d/fd/%d" % (pid, f)) for f in fds}
        # stdin, a log pipe, authd's channel, the one connection; nothing else
        self.assertEqual(fds[:4], [0, 1, 2, 3], links)
        self.assertTrue(all(l.startswith(("socket:", "pipe:", "/dev/null")) for l in links.values()),
                        links)
        self.assertLessEqual(len(fds), 6, links)

    def test_z_server_down_is_a_temporary_failure(self):
        mark = self.app.log_mark()
        self.pg.stop()
        try:
            self.assertIn("[UNAVAILABLE]", self.imap_login("alice", "alicepw"))
            self.assertIn("[SYS/TEMP]", self.pop3_login("alice", "alicepw"))
            self.app.wait_log(r"event=auth_failed service=pop3 .*reason=\"backend pgsql: ", start=mark)
            # the user db's users are not affected
            self.assertEqual(self.imap_login("demo", "demo"), "OK")
        finally:
            self.pg.start()
        # the master starts the helper again; it connects again
        wait_until(lambda: isinstance(self.pop3_login("alice", "alicepw"), int), 30, "pgsql back")


if __name__ == "__main__":
    unittest.main()
