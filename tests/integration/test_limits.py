"""Limits that follow a reload, and brokers that hold per-session state only
while they need it."""
import imaplib
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


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class TestBurstAndLowering(unittest.TestCase):
    """Issue 13: after a burst of sessions of every kind the master's and the
    brokers' fd counts are back where they were; a limit lowered by a reload
    refuses new sessions and drops none of the open ones."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"max_daemons": "300", "max_per_ip": "1000",
                             "preauth_max_percent": "100", "auth_fail_ip_max": "100000",
                             "auth_fail_user_max": "100000",
                             "auth_max_checks_per_second": "100000"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def sessions(self):
        r = self.app.ctl("status")
        return int(re.search(r"(?m)^sessions (\d+)$", r.stdout).group(1))

    def counts(self):
        return {"master": fd_count(self.app.proc.pid), "authd": fd_count(self.app.authd_pid()),
                "keyd": fd_count(self.app.child_pid("postern-keyd"))}

    def test_fd_counts_back_to_baseline_after_a_burst(self):
        wait_until(lambda: self.sessions() == 0, 10, "no sessions")
        base = self.counts()
        held = []
        try:
            for i in range(200):
                kind = i % 4
                if kind == 0:       # a login held open until the end (IMAP: no lock)
                    m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
                    m.login("demo", "demo")
                    m.select("INBOX")
                    held.append(m)
                elif kind == 1:     # a failed login
                    p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
                    p.user("demo")
                    with self.assertRaises(poplib.error_proto):
                        p.pass_("wrong")
                    p.quit()
                elif kind == 2:     # a client that hangs up mid-command
                    s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
                    s.recv(100)
                    s.sendall(b"USER demo\r\nPASS de")
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.close()       # RST
                else:               # a greeting only
                    s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
                    s.recv(100)
                    s.close()
        finally:
            for m in held:
                m.logout()
        wait_until(lambda: self.sessions() == 0, 30, "every session reaped")
        # no more than before (a channel of the start-up probe may still have
        # been open in authd when base was taken)
        wait_until(lambda: all(v <= base[k] for k, v in self.counts().items()), 10,
                   "fd counts back to %r (now %r)" % (base, self.counts()))
        self.assertNotRegex(self.app.log(), r"child_died child=(authd|keyd)|event=fatal")

    def test_lowered_limit_refuses_new_and_keeps_open_sessions(self):
        open_ = []
        try:
            for _ in range(5):
                m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
                m.login("demo2", "demo2")
                open_.append(m)
            wait_until(lambda: self.sessions() == 5, 10, "5 sessions")
            mark = self.app.log_mark()
            self.app.settings["max_daemons"] = "3"
            self.app.write_conf()
            self.app.ctl("reload")
            s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
            self.assertTrue(s.makefile("rb").readline().startswith(b"-ERR [SYS/TEMP]"))
            s.close()
            self.app.wait_log(r"event=refused reason=max_daemons", start=mark)
            for m in open_:
                self.assertEqual(m.noop()[0], "OK")             # none dropped
        finally:
            for m in open_:
                m.logout()
            self.app.settings["max_daemons"] = "300"
            self.app.write_conf()
            self.app.ctl("reload")


def listen_queue(port):
    """The backlog of the listener on 127.0.0.1:port (ss shows it as Send-Q)."""
    import subprocess
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[2]) if len(out) > 2 else None


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class TestListenBacklog(unittest.TestCase):
    """listen_backlog sizes each listener's accept queue, and a SIGHUP
    changes it on the open sockets."""

    def test_backlog_at_start_and_after_reload(self):
        app = Appliance({"listen_backlog": "37"}).start()
        try:
            self.assertEqual(listen_queue(app.port), 37)
            mark = app.log_mark()
            app.settings["listen_backlog"] = "2000"
            app.write_conf()
            app.proc.send_signal(signal.SIGHUP)
            app.wait_log(r"event=reloaded", start=mark)
            want = min(2000, int(open("/proc/sys/net/core/somaxconn").read()))
            wait_until(lambda: listen_queue(app.port) == want, 10, "backlog %d" % want)
        finally:
            app.cleanup()

    def test_default_is_1024(self):
        app = Appliance().start()
        try:
            self.assertEqual(listen_queue(app.port), min(1024, int(open("/proc/sys/net/core/somaxconn").read())))
        finally:
            app.cleanup()
