"""Limits that follow a reload, and brokers that hold per-session state only
while they need it."""
import os
import poplib
import re
import signal
import socket
import unittest

from harness import Appliance, wait_until


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class TestRaisedByReload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"max_daemons": "20", "max_per_ip": "1000",
                             "preauth_max_percent": "100"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_sighup_raise_is_served_by_the_same_brokers(self):
        authd = self.app.authd_pid()
        # authd and keyd are sized for the largest max_daemons, not today's
        with open("/proc/%d/limits" % authd) as f:
            soft = int([l for l in f if l.startswith("Max open files")][0].split()[3])
        self.assertGreater(soft, 150 + 64)
        mark = self.app.log_mark()
        self.app.settings["max_daemons"] = "150"
        self.app.write_conf()
        self.app.proc.send_signal(signal.SIGHUP)
        self.app.wait_log(r"event=reloaded .*max_daemons=150", start=mark)
        held = []
        try:
            for _ in range(120):
                c = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
                f = c.makefile("rb")
                self.assertTrue(f.readline().startswith(b"+OK"))
                held.append((c, f))
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
            p.user("demo")
            p.pass_("demo")
            p.quit()
        finally:
            for c, f in held:
                f.close()
                c.close()
        self.assertEqual(self.app.authd_pid(), authd)
        log = self.app.log()[mark:]
        self.assertNotRegex(log, r"child_died child=(authd|keyd)|event=fatal|session_refused")

    def test_authd_lets_go_of_a_session_once_logged_in(self):
        authd = self.app.authd_pid()
        base = fd_count(authd)
        sessions = []
        for u in ("demo", "demo2"):
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
            p.user(u)
            p.pass_(u)
            sessions.append(p)
        # both still logged in, and authd holds no channel for either
        wait_until(lambda: fd_count(authd) <= base, 10, "authd back to its fds")
        for p in sessions:
            self.assertTrue(p.noop().startswith(b"+OK"))
            p.quit()

    def test_keyd_lets_go_of_a_session_once_logged_in(self):
        pids = [int(x) for x in re.findall(r"proc=keyd pid=(\d+) level=info event=ready",
                                             self.app.log())]
        keyd = pids[-1]
        base = fd_count(keyd)
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        wait_until(lambda: fd_count(keyd) > base, 10, "keyd holds the new session")
        p.user("demo")
        p.pass_("demo")
        # no handshake can follow a login (RFC 2595: no STLS in TRANSACTION)
        wait_until(lambda: fd_count(keyd) <= base, 10, "keyd back to its fds")
        self.assertTrue(p.noop().startswith(b"+OK"))
        p.quit()


if __name__ == "__main__":
    unittest.main()
