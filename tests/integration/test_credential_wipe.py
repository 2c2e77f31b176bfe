"""authd forgets what it was told: once a login is decided, no copy of the
password (nor of the SASL response that carried it) is left in authd's
memory: not in its receive buffer, not in the SASL state, not on the
stack of the check.  Read from the live process through /proc/PID/mem
(root), over every writable mapping, after successful and failed logins
by USER/PASS and by AUTH PLAIN."""
import base64
import re
import unittest

from harness import Appliance, command

SECRET = "Wipe-Me-7d3f9a1c0e"
WRONG = "Not-The-One-b41e88"
SYNC = "Later-Request-55c2"


def writable_memory(pid):
    """The bytes of every readable and writable mapping of pid."""
    out = []
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if not m or not m.group(3).startswith("rw"):
                continue
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            try:
                mem.seek(lo)
                out.append(mem.read(hi - lo))
            except OSError:
                continue  # [vvar] and the like
    return b"".join(out)


class TestCredentialWipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(users=(("wipe", SECRET),))
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.stop()
        cls.app.cleanup()

    def pop3(self, lines, want):
        s, f = self.app.connect()
        try:
            for line in lines[:-1]:
                command(s, f, line)
            reply = command(s, f, lines[-1])[0]
            self.assertTrue(reply.startswith(want), reply)
            command(s, f, "QUIT")
        finally:
            f.close()
            s.close()

    def assert_forgotten(self, *secrets):
        pid = self.app.authd_pid()
        self.assertIsNotNone(pid)
        mem = writable_memory(pid)
        self.assertGreater(len(mem), 100000)
        for sec in secrets:
            self.assertNotIn(sec.encode(), mem, "authd still holds %r" % sec)

    def plain(self, pw):
        return base64.b64encode(b"\0wipe@localhost\0" + pw.encode()).decode()

    def test_userpass_and_plain_leave_nothing(self):
        self.pop3(["USER wipe", "PASS " + SECRET], b"+OK")
        self.pop3(["USER wipe", "PASS " + WRONG], b"-ERR")
        self.pop3(["AUTH PLAIN " + self.plain(SECRET)], b"+OK")
        self.pop3(["AUTH PLAIN " + self.plain(WRONG)], b"-ERR")
        # authd answers before it wipes; it takes one request at a time, so
        # once a later request is answered the earlier ones were wiped
        self.pop3(["USER wipe", "PASS " + SYNC], b"-ERR")
        self.assert_forgotten(SECRET, WRONG, self.plain(SECRET), self.plain(WRONG))

    def test_probe_finds_what_is_there(self):
        # the probe itself works: the user name stays (it is in log lines and
        # the throttle tables), so reading the memory does find it
        self.pop3(["USER wipe", "PASS " + WRONG], b"-ERR")
        pid = self.app.authd_pid()
        self.assertIn(b"wipe@localhost", writable_memory(pid))


if __name__ == "__main__":
    unittest.main()
