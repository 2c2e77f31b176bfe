"""posternctl user import: Courier userdb, Dovecot passwd-file and CSV
lines with hashes made by real tools (openssl passwd, doveadm pw,
libxcrypt), then POP3 logins (poplib) with the original passwords; weak
schemes refused without --allow-weak, malformed lines reported by number,
existing users skipped unless --update, -n changes nothing."""
import os
import poplib
import subprocess
import unittest
import warnings

from harness import Appliance

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt, as the C code uses


def sh(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def login_ok(app, user, password):
    p = poplib.POP3("127.0.0.1", app.port, timeout=10)
    try:
        p.user(user)
        p.pass_(password)
        return True
    except poplib.error_proto:
        return False
    finally:
        p.quit()


class TestUserImport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance()
        cls.app.ctl("domain", "add", "example.org")
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def write(self, name, text):
        path = os.path.join(self.app.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def imp(self, fmt, path, *opts):
        return self.app.ctl("user", "import", fmt, path, *opts, check=False)

    def users(self):
        return self.app.ctl("user", "list").stdout.split()

    def test_courier(self):
        mail = self.app.mail
        text = ("# Courier userdb\n"
                "alice@example.org\tuid=7100|gid=7100|home=/nonexistent|mail=%s/example.org/alice"
                "|shell=/bin/false|systempw=%s|quota=5000000S,100C\n"
                "bob\tsystempw=%s|home=%s/localhost/bob\n"
                "\n"
                "carol\tsystempw=%s\n"
                "dave systempw=x\n" % (mail, sh("openssl", "passwd", "-6", "alice-pw"),
                                       crypt.crypt("bob-pw", crypt.METHOD_SHA256), mail,
                                       sh("openssl", "passwd", "-1", "carol-pw")))
        r = self.imp("courier", self.write("userdb", text))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("userdb:2: alice@example.org: added (sha512-crypt)", r.stdout)
        self.assertIn("userdb:3: bob@localhost: added (sha256-crypt)", r.stdout)
        self.assertIn("userdb:5: weak scheme md5-crypt refused (--allow-weak imports it)", r.stderr)
        self.assertIn("userdb:6: no TAB after the address", r.stderr)
        self.assertIn("2 added, 0 updated, 0 skipped, 2 refused", r.stdout)
        self.assertNotIn("carol@localhost", self.users())
        show = self.app.ctl("user", "show", "alice@example.org").stdout
        self.assertIn("uid/gid:   7100/7100", show)
        self.assertIn("mail root: %s/example.org/alice\n" % mail, show)  # mail= over home=
        self.assertIn("quota:     5000000", show)
        self.assertIn("mail root: %s/localhost/bob/Maildir" % mail,
                      self.app.ctl("user", "show", "bob").stdout)
        self.assertTrue(login_ok(self.app, "alice@example.org", "alice-pw"))
        self.assertFalse(login_ok(self.app, "alice@example.org", "wrong"))

    def test_dovecot(self):
        text = ("erin:%s::::::\n"
                "frank@localhost:%s:7100:7100::/home/frank::userdb_quota_rule=*:storage=1G\n"
                "gina:%s\n"
                "hal:{PLAIN}hal-pw:::\n"
                "ivy:{SHA512-CRYPT}$1$abc$def\n"
                "just-a-name\n" % (sh("doveadm", "pw", "-s", "SHA512-CRYPT", "-p", "erin-pw"),
                                   sh("doveadm", "pw", "-s", "BLF-CRYPT", "-p", "frank-pw"),
                                   sh("doveadm", "pw", "-s", "SHA", "-p", "gina-pw")))
        r = self.imp("dovecot", self.write("passwd", text))
        self.assertEqual(r.returncode, 1)
        self.assertIn("passwd:1: erin@localhost: added (sha512-crypt)", r.stdout)
        self.assertIn("passwd:2: frank@localhost: added (bcrypt)", r.stdout)
        self.assertIn("passwd:3: Dovecot scheme that crypt(3) cannot check", r.stderr)
        self.assertIn("passwd:4: weak scheme plain refused", r.stderr)
        self.assertIn("passwd:5: the hash does not have the form its {SCHEME} prefix names",
                      r.stderr)
        self.assertIn("passwd:6: no ':' after the user name", r.stderr)
        self.assertTrue(login_ok(self.app, "erin", "erin-pw"))
        self.assertTrue(login_ok(self.app, "frank", "frank-pw"))

    def test_csv_dry_run_then_import(self):
        text = ("user,hash,quota\n"
                "kim,%s,1000000\n"
                "lou@example.org,%s\n"
                "mo,%s\n"
                "nell\n"
                "demo,%s\n" % (crypt.crypt("kim-pw", crypt.METHOD_BLOWFISH),
                               crypt.crypt("lou-pw", crypt.mksalt(crypt.METHOD_SHA512)),
                               crypt.crypt("mo-pw", "ab"),
                               sh("openssl", "passwd", "-6", "new-demo-pw")))
        path = self.write("users.csv", text)
        before = self.users()
        r = self.imp("csv", path, "-n")
        self.assertIn("users.csv:2: kim@localhost: would add (bcrypt)", r.stdout)
        self.assertIn("users.csv:6: demo@localhost: would be skipped, exists", r.stdout)
        self.assertIn("dry run, nothing changed: 2 added", r.stdout)
        self.assertEqual(self.users(), before)
        r = self.imp("csv", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("users.csv:4: weak scheme des-crypt refused", r.stderr)
        self.assertIn("users.csv:5: not user,hash[,quota]", r.stderr)
        self.assertIn("users.csv:6: demo@localhost: skipped, exists (--update replaces its hash)",
                      r.stdout)
        self.assertIn("quota:     1000000", self.app.ctl("user", "show", "kim").stdout)
        self.assertTrue(login_ok(self.app, "kim", "kim-pw"))
        self.assertTrue(login_ok(self.app, "lou@example.org", "lou-pw"))
        self.assertTrue(login_ok(self.app, "demo", "demo"))
        # --update replaces the existing user's hash; the line numbers stay
        r = self.imp("csv", path, "--update")
        self.assertIn("users.csv:6: demo@localhost: updated (sha512-crypt)", r.stdout)
        self.assertTrue(login_ok(self.app, "demo", "new-demo-pw"))
        self.app.ctl("user", "passwd", "demo", "-p", "demo")

    def test_weak_schemes_with_the_flag_stay_valid(self):
        text = ("pat,%s\n"
                "quinn,%s\n" % (sh("openssl", "passwd", "-1", "pat-pw"), crypt.crypt("quinn-pw", "xy")))
        r = self.imp("csv", self.write("weak.csv", text), "--allow-weak")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pat@localhost: added (md5-crypt, weak, kept as it is)", r.stdout)
        self.assertIn("quinn@localhost: added (des-crypt, weak, kept as it is)", r.stdout)
        r = self.imp("dovecot", self.write("plain", "rae:{PLAIN}rae-pw::\n"), "--allow-weak")
        self.assertIn("rae@localhost: added (plain, hashed as yescrypt)", r.stdout)
        self.assertIn("scheme:    yescrypt", self.app.ctl("user", "show", "rae").stdout)
        for user, pw in (("pat", "pat-pw"), ("quinn", "quinn-pw"), ("rae", "rae-pw")):
            self.assertTrue(login_ok(self.app, user, pw), user)

    def test_usage(self):
        r = self.imp("ldif", "/dev/null")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown format 'ldif' (courier, dovecot, csv)", r.stderr)
        r = self.imp("csv", os.path.join(self.app.dir, "missing.csv"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("No such file or directory", r.stderr)


if __name__ == "__main__":
    unittest.main()
