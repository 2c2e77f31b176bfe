"""The shipped fail2ban filter (docs/fail2ban/postern.conf) against the log
lines a real appliance writes, run through Debian's fail2ban-regex
(scripts/deps.sh installs fail2ban, so a missing tool is a failure, not a
skip): failed logins and max_per_ip refusals are found with the client's
address, over IPv4 and IPv6; a user name holding "ip=" adds no address; logins
refused by the server-wide check cap are ignored."""
import calendar
import os
import poplib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import TOP, Appliance, free_port

FILTER = os.path.join(TOP, "docs", "fail2ban", "postern.conf")
JAIL = os.path.join(TOP, "docs", "fail2ban", "jail.local")


def fail_login(app, host, port, user, password="wrong"):
    """One failed login; returns once the master has seen the session end,
    so the next one is not refused for max_per_ip."""
    ended = len(re.findall(r"event=disconnect child=pop3d", app.log()))
    p = poplib.POP3(host, port, timeout=10)
    try:
        p.user(user)
        p.pass_(password)
    except poplib.error_proto:
        pass
    finally:
        p.quit()
    app.wait_log(r"(?s)(event=disconnect child=pop3d.*){%d}" % (ended + 1))


def refused(host, port):
    """A connection the master refuses; its -ERR line."""
    with socket.create_connection((host, port), timeout=10) as s:
        return s.makefile("rb").readline()


def ts_of(line):
    t = re.match(r"ts=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z", line).group(1)
    return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%S"))


class TestFail2banFilter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tool = shutil.which("fail2ban-regex")
        cls.v6port = free_port()
        cls.app = Appliance({"max_per_ip": "2", "auth_fail_ip_max": "1000"})
        cls.app.settings["pop3_listen"] += ", [::1]:%d" % cls.v6port
        cls.app.write_conf()
        cls.app.start()
        try:
            cls.produce()
        except BaseException:
            cls.app.cleanup()  # no tearDownClass after a failed setUpClass
            raise
        cls.app.stop()
        cls.lines = [l for l in cls.app.log().splitlines() if l.startswith("ts=")]
        cls.tmp = tempfile.mkdtemp(prefix="postern-f2b-")
        cls.logfile = os.path.join(cls.tmp, "postern.log")
        with open(cls.logfile, "w") as f:
            f.write("\n".join(cls.lines) + "\n")

    @classmethod
    def produce(cls):
        app, port = cls.app, cls.app.port
        fail_login(app, "127.0.0.1", port, "demo")
        fail_login(app, "127.0.0.1", port, "nobody")
        fail_login(app, "127.0.0.1", port, 'x" ip=10.9.9.9 user="y')
        fail_login(app, "::1", cls.v6port, "demo2")
        app.wait_log(r"event=auth_failed service=pop3 ip=::1 ")
        held = [app.connect(), app.connect()]
        assert refused("127.0.0.1", port).startswith(b"-ERR")
        app.wait_log(r"event=refused reason=max_per_ip ip=127\.0\.0\.1 ")
        for s, f in held:
            s.close()
        held = [socket.create_connection(("::1", cls.v6port)) for _ in range(2)]
        for s in held:
            assert s.makefile("rb").readline().startswith(b"+OK")
        assert refused("::1", cls.v6port).startswith(b"-ERR")
        app.wait_log(r"event=refused reason=max_per_ip ip=::1 ")
        for s in held:
            s.close()
        # over the check cap (1 per second after a reload): attempts until
        # one is refused without a check; those lines must be ignored
        mark = app.log_mark()
        app.settings["auth_max_checks_per_second"] = "1"
        app.write_conf()
        app.proc.send_signal(signal.SIGHUP)
        app.wait_log(r"event=reloaded", start=mark)
        deadline = time.monotonic() + 30
        while "over auth_max_checks_per_second" not in app.log():
            assert time.monotonic() < deadline, "no check-cap refusal"
            fail_login(app, "127.0.0.1", port, "demo")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def regex(self, out):
        self.assertIsNotNone(self.tool, "fail2ban-regex not found: run scripts/deps.sh "
                             "(Debian package fail2ban)")
        r = subprocess.run([self.tool, "-o", out, self.logfile, FILTER], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def expected(self):
        """Our own reading of which lines must match: (time, address)."""
        want = []
        for l in self.lines:
            m = re.search(r"level=warn event=(?:auth_failed service=\S+|refused reason=max_per_ip)"
                          r" ip=(\S+)", l)
            if m and "over auth_max_checks_per_second" not in l:
                want.append((ts_of(l), m.group(1)))
        return want

    def test_matches_with_the_client_address(self):
        # rows: ['ADDRESS',	UNIXTIME,	{...}],
        got = [(int(m.group(2)), m.group(1)) for m in
               re.finditer(r"(?m)^\['([^']+)',\s*(\d+)", self.regex("row"))]
        want = self.expected()
        self.assertEqual(got, want)
        ips = [ip for _, ip in want]
        self.assertEqual(ips.count("::1"), 2)      # one wrong password, one max_per_ip
        self.assertGreaterEqual(ips.count("127.0.0.1"), 4)
        self.assertNotIn("10.9.9.9", ips)
        refusals = [l for l in self.lines if "event=refused reason=max_per_ip" in l]
        self.assertEqual(len(refusals), 2)

    def test_check_cap_lines_are_ignored(self):
        capped = [l for l in self.lines if "over auth_max_checks_per_second" in l]
        self.assertTrue(capped)
        matched = self.regex("msg")
        for l in capped:
            self.assertNotIn(l, matched)
        for l in self.lines:
            if "user=\"nobody@localhost\" reason=\"unknown user\"" in l:
                self.assertIn(l, matched)

    def test_jail_names_the_filter(self):
        with open(JAIL) as f:
            jail = f.read()
        self.assertRegex(jail, r"(?m)^\[postern\]$")
        self.assertRegex(jail, r"(?m)^filter\s*=\s*postern$")
        self.assertRegex(jail, r"(?m)^port\s*=\s*pop3,pop3s$")


if __name__ == "__main__":
    unittest.main()
