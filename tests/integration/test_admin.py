"""posternctl: users, domains, aliases, auth test, and what authd makes of them."""
import os
import poplib
import subprocess
import unittest

from harness import BIN, Appliance, make_message


class TestPosternctl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def login(self, user, pw):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user(user)
        p.pass_(pw)
        return p

    def test_user_lifecycle(self):
        ctl = self.app.ctl
        ctl("user", "add", "Carol", "-p", "first pass")
        self.assertIn("carol@localhost", ctl("user", "list").stdout.split())
        show = ctl("user", "show", "carol").stdout
        self.assertIn("scheme:    yescrypt", show)
        self.assertNotIn("$y$", show)  # the hash is never printed
        self.login("CAROL@localhost", "first pass").quit()
        ctl("user", "passwd", "carol", input="second pass\n")
        with self.assertRaises(poplib.error_proto):
            self.login("carol", "first pass")
        self.login("carol", "second pass").quit()
        ctl("user", "disable", "carol")
        with self.assertRaises(poplib.error_proto) as disabled:
            self.login("carol", "second pass")
        with self.assertRaises(poplib.error_proto) as wrong:
            self.login("carol", "not the password")
        self.assertEqual(disabled.exception.args, wrong.exception.args)  # no password oracle
        self.app.wait_log(r'user="carol@localhost" reason="account disabled"')
        ctl("user", "enable", "carol")
        self.login("carol", "second pass").quit()
        ctl("user", "del", "carol")
        self.assertNotIn("carol@localhost", ctl("user", "list").stdout.split())
        r = ctl("user", "add", "carol", "-p", "x", check=False)
        self.assertEqual(r.returncode, 0)
        self.assertNotEqual(ctl("user", "add", "carol", "-p", "x", check=False).returncode, 0)

    def test_hash_schemes(self):
        for scheme, prefix in (("sha512", "sha512-crypt"), ("bcrypt", "bcrypt")):
            name = "h" + scheme
            self.app.ctl("user", "add", name, "-p", "pw", "-s", scheme)
            self.assertIn(prefix, self.app.ctl("user", "show", name).stdout)
            self.login(name, "pw").quit()

    def test_domains_and_aliases(self):
        ctl = self.app.ctl
        r = ctl("user", "add", "bob@example.org", "-p", "pw", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("domain example.org is not configured", r.stderr)
        ctl("domain", "add", "Example.ORG")
        self.assertIn("example.org", ctl("domain", "list").stdout.split())
        ctl("user", "add", "bob@example.org", "-p", "pw")
        ctl("alias", "add", "postmaster@example.org", "bob@example.org")
        self.assertIn("postmaster@example.org -> bob@example.org", ctl("alias", "list").stdout)
        self.app.deliver("bob@example.org", make_message("to bob", "hi\n"))
        p = self.login("postmaster@example.org", "pw")  # the alias logs in as bob
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        self.assertTrue(os.path.isdir(os.path.join(self.app.mail, "example.org", "bob", "cur")))
        r = ctl("domain", "del", "example.org", check=False)
        self.assertIn("still has 1 users", r.stderr)
        ctl("alias", "del", "postmaster@example.org")
        ctl("user", "del", "bob@example.org")
        ctl("domain", "del", "example.org")

    def test_auth_test_says_why(self):
        ctl = self.app.ctl
        r = ctl("auth", "test", "demo", "-p", "demo", check=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("OK demo@localhost", r.stdout)
        self.assertIn("mail root: " + self.app.maildir("demo"), r.stdout)
        r = ctl("auth", "test", "demo", "-p", "nope", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("wrong password", r.stdout)
        r = ctl("auth", "test", "ghost", "-p", "x", check=False)
        self.assertIn("unknown user", r.stdout)
        r = ctl("auth", "test", "a@@b", "-p", "x", check=False)
        self.assertIn("malformed", r.stdout)
        ctl("user", "add", "dis", "-p", "pw")
        ctl("user", "disable", "dis")
        r = ctl("auth", "test", "dis", input="pw\n", check=False)
        self.assertIn("account disabled", r.stdout)

    def test_non_canonical_mail_root_refused(self):
        r = self.app.ctl("user", "add", "trav", "-p", "x", "-m", "/tmp/mail/./trav", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("mail root must be an absolute path", r.stderr)
        r = self.app.ctl("config", "check", check=False)
        self.assertEqual(r.returncode, 0)
        missing = subprocess.run([os.path.join(BIN, "posternctl"), "-c", "/nonexistent.conf", "config",
                                  "check"], capture_output=True, text=True)
        self.assertNotEqual(missing.returncode, 0)

    def test_bad_names_and_usage(self):
        ctl = self.app.ctl
        for bad in ("a b", "x/y", "", "a@b@c", os.fsdecode(b"\xff")):
            r = ctl("user", "add", bad, "-p", "pw", check=False)
            self.assertNotEqual(r.returncode, 0, bad)
        self.assertEqual(ctl("frobnicate", check=False).returncode, 2)

    def test_quota_get_and_recalc(self):
        ctl = self.app.ctl
        ctl("user", "add", "quser", "-p", "pw", "-q", "5000")
        self.assertEqual(ctl("quota", "get", "demo2").stdout.strip(), "demo2@localhost: no quota")
        self.app.deliver("quser", make_message("one", "x\n"))
        out = ctl("quota", "get", "quser").stdout.strip()
        self.assertRegex(out, r"^quser@localhost: storage \d+ bytes of 5000, messages 1$")
        ctl("user", "set", "quser", "--quota", "9000")
        self.assertIn("of 9000, messages 1", ctl("quota", "recalc", "quser").stdout)
        with open(os.path.join(self.app.maildir("quser"), "maildirsize")) as f:
            self.assertEqual(f.readline().strip(), "9000S")
        r = ctl("quota", "get", "nobody", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no user", r.stderr)

    def test_config_check_reports_line(self):
        bad = os.path.join(self.app.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("# comment\nmax_daemons = 10\nmax_per_ip = lots\n")
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", bad, "config", "check"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad.conf:3: not a decimal number", r.stderr)
        r = subprocess.run([os.path.join(BIN, "postern-master"), "-c", bad], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.conf:3:", r.stderr)
        self.assertIn("policy", self.app.ctl("policy").stdout.splitlines()[0] + "policy")
        self.assertIn("pop3d", self.app.ctl("policy").stdout)


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class TestUserRename(unittest.TestCase):
    """posternctl user set USER --rename NEW: one transaction, aliases follow,
    the mail stays where it is and is read under the new name."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()
        cls.app.ctl("user", "add", "carol", "-p", "pw-carol")
        cls.app.deliver("carol", make_message("for carol", "carol's mail\n", to="carol@localhost"))
        cls.app.ctl("alias", "add", "info@localhost", "carol")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def login(self, user, password):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        try:
            p.user(user)
            p.pass_(password)
            return p.stat()[0]
        except poplib.error_proto:
            return None
        finally:
            p.quit()

    def test_rename(self):
        old_root = os.path.join(self.app.mail, "localhost", "carol")
        r = self.app.ctl("user", "set", "carol", "--rename", "caroline", "--quota", "5000000")
        self.assertIn("user carol@localhost renamed to caroline@localhost", r.stdout)
        self.assertIn("its mail stays in %s" % old_root, r.stdout)
        show = self.app.ctl("user", "show", "caroline").stdout
        self.assertIn("mail root: %s" % old_root, show)
        self.assertIn("quota:     5000000", show)
        self.assertEqual(self.app.ctl("user", "show", "carol", check=False).returncode, 1)
        self.assertIn("info@localhost -> caroline@localhost", self.app.ctl("alias", "list").stdout)
        self.assertEqual(self.login("caroline", "pw-carol"), 1)    # same password, same mail
        self.assertIsNone(self.login("carol", "pw-carol"))
        # refused: onto a user, onto an alias, into a domain not configured
        for new, why in (("demo", "the new name is a user or an alias already"),
                         ("info", "the new name is a user or an alias already"),
                         ("c@nowhere.test", "domain is not configured")):
            r = self.app.ctl("user", "set", "caroline", "--rename", new, check=False)
            self.assertEqual(r.returncode, 1, new)
            self.assertIn(why, r.stderr)
        self.assertEqual(self.login("caroline", "pw-carol"), 1)


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class TestServiceSwitches(unittest.TestCase):
    """user set --deny/--allow: a login over a switched-off service is refused
    (only with the right password, as for a disabled account), the others
    and delivery go on."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"imap_tls_required": "no"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def pop3(self, user, pw):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        try:
            p.user(user)
            p.pass_(pw)
            return True
        except poplib.error_proto:
            return False
        finally:
            p.quit()

    def imap(self, user, pw):
        import imaplib
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        try:
            m.login(user, pw)
            return True
        except imaplib.IMAP4.error:
            return False
        finally:
            m.logout()

    def test_deny_and_allow(self):
        mark = self.app.log_mark()
        self.app.ctl("user", "set", "demo2", "--deny", "imap")
        self.assertIn("denied:    imap", self.app.ctl("user", "show", "demo2").stdout)
        self.assertFalse(self.imap("demo2", "demo2"))
        self.assertTrue(self.pop3("demo2", "demo2"))
        self.app.wait_log(r"event=auth_failed service=imap ip=127\.0\.0\.1 user=\"?demo2@localhost"
                          r"\"? reason=\"this service is switched off for the user", start=mark)
        self.app.ctl("user", "set", "demo2", "--deny", "pop3", "--allow", "imap")
        self.assertTrue(self.imap("demo2", "demo2"))
        self.assertFalse(self.pop3("demo2", "demo2"))
        self.assertIn("denied:    pop3", self.app.ctl("user", "show", "demo2").stdout)
        self.app.ctl("user", "set", "demo2", "--allow", "pop3")
        self.assertTrue(self.pop3("demo2", "demo2"))
        self.assertNotIn("denied:", self.app.ctl("user", "show", "demo2").stdout)
        for bad in ("pop3s", "webmail", ""):
            r = self.app.ctl("user", "set", "demo2", "--deny", bad, check=False)
            self.assertEqual(r.returncode, 2, bad)
