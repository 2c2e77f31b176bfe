"""A compromised authd: tests/tools/hostile_authd.c runs in place of authd
(a libexec_dir whose postern-authd is it) under authd's own sandbox, and
sends the master what it likes on its channel.  authd decides logins by
design; what it must not get is a write into another user's record: the
master takes a rehash or SCRAM secrets only for the user the session just
logged in as, once, and never both (docs/ARCHITECTURE.md).

The commands reach the hostile authd as the POP3 USER name (through the
real pop3d): login=NAME, rehash=NAME, scram=NAME, comma-separated."""
import os
import poplib
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, TOOLS, Appliance, wait_until

WEAK = "weak@localhost"
VIOLATION = r"peer=authd reason=\"%s for a user this session did not just log in as\""


def libexec_with_hostile_authd(tmp):
    d = os.path.join(tmp, "libexec")
    os.mkdir(d)
    for name in os.listdir(BIN):
        os.symlink(os.path.join(BIN, name), os.path.join(d, name))
    os.unlink(os.path.join(d, "postern-authd"))
    os.symlink(os.path.join(TOOLS, "hostile_authd"), os.path.join(d, "postern-authd"))
    return d


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestHostileAuthd(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-hauthd-")
        self.app = Appliance({"libexec_dir": libexec_with_hostile_authd(self.tmp),
                              "restart_backoff_max": "1"})
        md5 = subprocess.run(["openssl", "passwd", "-1", "weak-pw"], capture_output=True,
                             text=True, check=True).stdout.strip()
        path = os.path.join(self.tmp, "weak.csv")
        with open(path, "w") as f:
            f.write("weak,%s\n" % md5)
        r = self.app.ctl("user", "import", "csv", path, "--allow-weak")
        self.assertIn("weak@localhost: added (md5-crypt, weak", r.stdout)
        self.app.start()
        self.assertIn("hostile=1", self.app.log())
        # it holds what authd holds, under authd's sandbox
        with open("/proc/%d/status" % self.app.authd_pid()) as f:
            st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        self.assertEqual(st["Seccomp"].strip(), "2")
        self.assertEqual(st["NoNewPrivs"].strip(), "1")
        self.assertEqual(int(st["CapEff"].strip(), 16), 0)

    def tearDown(self):
        self.app.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def commands(self, cmds, wait=r"event=hostile_authd done=1|event=ipc_violation peer=authd"):
        """One POP3 session whose USER carries cmds, held open until the log
        matches wait (the session must still exist when the master reads
        what authd sent for it); the log offset before it."""
        mark = self.app.log_mark()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        try:
            p.user(cmds)
            try:
                p.pass_("x")
            except poplib.error_proto:
                pass
            # done, or cut short: the master ends an authd at its first violation
            self.app.wait_log(wait, start=mark)
        finally:
            p.close()
        return mark

    def scheme(self, user):
        out = self.app.ctl("user", "show", user).stdout
        return [l.split(None, 1)[1] for l in out.splitlines() if l.startswith(("scheme:", "scram:"))]

    def test_rehash_without_a_login_is_refused(self):
        before = self.scheme(WEAK)
        mark = self.commands("rehash=" + WEAK, wait=VIOLATION % "a rehash")
        self.assertEqual(self.scheme(WEAK), before)
        self.assertTrue(before[0].startswith("md5-crypt"), before)
        # the master lives and starts authd again
        wait_until(lambda: self.app.authd_pid(), 10, "authd back")
        self.assertIsNone(self.app.proc.poll())

    def test_rehash_of_another_user_is_refused(self):
        before = self.scheme(WEAK)
        mark = self.commands("login=demo@localhost,rehash=" + WEAK, wait=VIOLATION % "a rehash")
        self.assertEqual(self.scheme(WEAK), before)

    def test_scram_for_another_user_is_refused(self):
        before = self.scheme(WEAK)
        mark = self.commands("login=demo@localhost,scram=" + WEAK, wait=VIOLATION % "SCRAM secrets")
        self.assertEqual(self.scheme(WEAK), before)

    def test_own_rehash_is_written_once_and_never_with_scram(self):
        """The control: for the user just logged in, the same message is taken
        (the weak hash becomes the yescrypt one); a second one, and SCRAM
        secrets after it, are refused."""
        mark = self.commands("login=%s,rehash=%s,rehash=%s" % (WEAK, WEAK, WEAK),
                             wait=VIOLATION % "a rehash")
        self.app.wait_log(r"event=hash_upgraded user=%s from=md5-crypt to=yescrypt" % WEAK, start=mark)
        self.assertTrue(self.scheme(WEAK)[0].startswith("yescrypt"))
        wait_until(lambda: self.app.authd_pid(), 10, "authd back")
        self.commands("login=%s,rehash=%s,scram=%s" % ("demo@localhost", "demo@localhost",
                                                       "demo@localhost"), wait=VIOLATION % "SCRAM secrets")


if __name__ == "__main__":
    unittest.main()
