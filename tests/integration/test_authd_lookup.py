"""authd's recipient lookup (MSG_AUTHD_LOOKUP / MSG_MASTER_LOOKUP_RESULT), the
one LMTP and SMTP RCPT will use: address -> user, mail root, uid/gid, quota,
with aliases and default_domain applied as for a login, and no password.
A real postern-authd answers tests/tools/authd_lookup, which plays the master
with the same codec (common/ipc/authdproto.c)."""
import os
import re
import subprocess
import unittest

from harness import BIN, MAIL_UID, TOOLS, Appliance

FOUND, UNKNOWN, DISABLED, INVALID, RELAY = 0, 1, 2, 3, 5


@unittest.skipUnless(os.geteuid() == 0, "authd drops to its own uid")
class TestAuthdLookup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(users=(("demo", "demo"),))
        os.makedirs(cls.app.empty, exist_ok=True)  # the master makes it; there is no master here
        cls.app.ctl("user", "add", "carol", "-p", "pw", "-u", "7300", "-g", "7301", "-q", "5000",
                    "-m", "/srv/mail/carol")
        cls.app.ctl("user", "add", "dave", "-p", "pw")
        cls.app.ctl("user", "disable", "dave")
        cls.app.ctl("alias", "add", "postmaster@localhost", "demo@localhost")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def lookup(self, *addresses):
        r = subprocess.run([os.path.join(TOOLS, "authd_lookup"), os.path.join(BIN, "postern-authd"),
                            self.app.conf] + list(addresses), capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = {}
        for line in r.stdout.splitlines():
            m = re.match(r"id=(\d+) (.*)", line)
            if m:
                out[addresses[int(m.group(1)) - 1]] = dict(
                    kv.split("=", 1) for kv in m.group(2).split(" ") if "=" in kv) or m.group(2)
            elif line.startswith("authd exit="):
                out["exit"] = int(line.split("=")[1])
        return out

    def test_lookup_like_a_login(self):
        demo_root = self.app.maildir("demo")
        r = self.lookup("demo", "DEMO@LocalHost", "postmaster", "carol@localhost",
                        "dave@localhost", "nobody@localhost", "two@at@signs",
                        "x@elsewhere.example")
        want_demo = {"status": str(FOUND), "user": "demo@localhost", "uid": str(MAIL_UID),
                     "gid": str(MAIL_UID), "quota": "0", "root": demo_root}
        self.assertEqual(r["demo"], want_demo, "default_domain applied")
        self.assertEqual(r["DEMO@LocalHost"], want_demo, "normalised as a login name")
        self.assertEqual(r["postmaster"], want_demo, "an alias resolves to its user")
        self.assertEqual(r["carol@localhost"], {"status": str(FOUND), "user": "carol@localhost",
                                                "uid": "7300", "gid": "7301", "quota": "5000",
                                                "root": "/srv/mail/carol"})
        empty = {"user": "", "uid": "0", "gid": "0", "quota": "0", "root": ""}
        self.assertEqual(r["dave@localhost"], dict(empty, status=str(DISABLED)))
        self.assertEqual(r["nobody@localhost"], dict(empty, status=str(UNKNOWN)))
        self.assertEqual(r["two@at@signs"], dict(empty, status=str(INVALID)))
        self.assertEqual(r["x@elsewhere.example"], dict(empty, status=str(RELAY)),
                         "a domain not hosted: SMTP refuses it as relaying")
        self.assertEqual(r["exit"], 0, "authd exits cleanly when its master channel closes")

    def test_malformed_lookup_ends_authd(self):
        r = self.lookup("demo", "-", "carol")
        self.assertEqual(r["demo"]["status"], str(FOUND))
        self.assertEqual(r["-"], {"rc": "0"}, "the tool saw EOF (authd-closed rc=0)")
        self.assertNotIn("status", r["carol"], "nothing answers after the violation")
        self.assertNotEqual(r["exit"], 0, "a bad message from the master is fatal to authd")


if __name__ == "__main__":
    unittest.main()
