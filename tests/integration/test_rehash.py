"""A weak hash (imported with --allow-weak) is replaced by yescrypt at the
user's next successful login: authd makes the hash, the master writes it,
only over a hash that is still weak, only for the user that just logged in."""
import os
import poplib
import subprocess
import unittest

from harness import Appliance, wait_until


def md5_crypt(password):
    return subprocess.run(["openssl", "passwd", "-1", password], capture_output=True,
                          text=True, check=True).stdout.strip()


def login(app, user, password):
    p = poplib.POP3("127.0.0.1", app.port, timeout=10)
    p.user(user)
    try:
        p.pass_(password)
        return True
    except poplib.error_proto:
        return False
    finally:
        p.quit()


def scheme(app, user):
    out = app.ctl("user", "show", user).stdout
    return [l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("scheme:")][0]


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestRehashAtLogin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance()
        csv = os.path.join(cls.app.dir, "users.csv")
        with open(csv, "w") as f:
            f.write("old@localhost,%s\nold2@localhost,%s\n" % (md5_crypt("s3cret"),
                                                             md5_crypt("other")))
        cls.app.ctl("user", "import", "csv", csv, "--allow-weak")
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_weak_hash_becomes_yescrypt_and_the_password_still_works(self):
        self.assertEqual(scheme(self.app, "old"), "md5-crypt (weak)")
        mark = self.app.log_mark()
        self.assertTrue(login(self.app, "old", "s3cret"))
        self.app.wait_log(r"level=info event=hash_upgraded user=old@localhost from=md5-crypt "
                          r"to=yescrypt", start=mark)
        self.assertEqual(scheme(self.app, "old"), "yescrypt")
        self.assertTrue(login(self.app, "old", "s3cret"))
        self.assertFalse(login(self.app, "old", "wrong"))
        # once only: the second login finds a strong hash and sends nothing
        self.assertEqual(self.app.log()[mark:].count("event=hash_upgraded"), 1)
        self.assertNotIn("ipc_violation", self.app.log()[mark:])

    def test_a_wrong_password_changes_nothing(self):
        mark = self.app.log_mark()
        self.assertFalse(login(self.app, "old2", "guess"))
        self.app.wait_log(r"event=auth_failed .*user=\"?old2@localhost", start=mark)
        self.assertEqual(scheme(self.app, "old2"), "md5-crypt (weak)")
        self.assertNotIn("hash_upgraded", self.app.log()[mark:])

    def test_strong_hashes_are_left_alone(self):
        mark = self.app.log_mark()
        self.assertTrue(login(self.app, "demo", "demo"))
        wait_until(lambda: "event=disconnect" in self.app.log()[mark:], 10, "the session's end")
        self.assertNotIn("hash_upgraded", self.app.log()[mark:])
        self.assertNotIn("rehash", self.app.log()[mark:])
        self.assertEqual(scheme(self.app, "demo"), "yescrypt")


if __name__ == "__main__":
    unittest.main()
