"""Peers that stop reading, trickle, or flood: nothing they do may stall the
master or a broker, or reach another session.

The hostile worker (tests/tools/hostile_worker.c) runs in place of pop3d
under the exact pop3d sandbox and does only what that sandbox allows."""
import os
import poplib
import re
import signal
import socket
import ssl
import time
import unittest

from harness import TOOLS, Appliance, free_port, hostile_ask, hostile_session, wait_until


hostile = hostile_session
ask = hostile_ask


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestPeerThatStopsReading(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker"),
                             "max_daemons": "2000", "max_per_ip": "2000",
                             "broker_stall_timeout": "1"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_worker_flooding_authd_does_not_freeze_it(self):
        s1, f1, sid1, mark = hostile(self.app)
        said = ask(s1, f1, "FLOOD-AUTHD 100000")
        self.assertRegex(said, r"^flooded \d+$")
        self.assertGreater(int(said.split()[1]), 0)
        # authd answered what it could, then dropped the channel of the
        # worker that reads nothing; it never blocked on it
        self.app.wait_log(r"sid=%s level=warn event=channel_closed peer=worker .*"
                          r"worker does not read its replies" % sid1, start=mark)
        s2, f2, sid2, _ = hostile(self.app)
        self.assertEqual(ask(s2, f2, "LOGIN demo demo"), "auth-ok store-fd")
        s1.close()
        s2.close()

    def test_worker_flooding_keyd_does_not_freeze_it(self):
        s1, f1, sid1, mark = hostile(self.app)
        said = ask(s1, f1, "FLOOD-KEYD 100000")
        self.assertRegex(said, r"^flooded [1-9]\d*$")
        self.app.wait_log(r"proc=keyd .*sid=%s level=warn event=channel_closed peer=worker .*"
                          r"reason=\"worker does not read its replies\"" % sid1, start=mark)
        s2, f2, sid2, _ = hostile(self.app)
        self.assertRegex(ask(s2, f2, "KEYD-CHAINS"), r"^keyd-chains [1-9]\d*$")
        s1.close()
        s2.close()

    def test_master_never_blocks_on_a_stuck_authd(self):
        pid = self.app.authd_pid()
        mark = self.app.log_mark()
        held, refused = [], None
        os.kill(pid, signal.SIGSTOP)
        try:
            # every new session costs authd one message; a stuck authd
            # fills its queue, then the master refuses instead of blocking
            for _ in range(2000):
                c = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
                first = c.makefile("rb").readline()
                if first.startswith(b"-ERR [SYS/TEMP]"):
                    refused = first
                    c.close()
                    break
                self.assertEqual(first, b"+OK hostile worker ready\n")
                held.append(c)
            self.assertIsNotNone(refused, "the master never refused while authd was stuck")
            self.assertIn(b"service busy", refused)
            self.app.wait_log(r"event=broker_busy child=authd", start=mark)

            # the master goes on answering, and once the stall outlasts
            # broker_stall_timeout it replaces authd
            def restarted():
                with socket.create_connection(("127.0.0.1", self.app.port), timeout=10) as c:
                    c.makefile("rb").readline()
                return re.search(r"event=broker_stalled child=authd pid=%d" % pid,
                                 self.app.log()[mark:])
            wait_until(restarted, 20, "authd restarted after the stall")
        finally:
            for c in held:
                c.close()
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        wait_until(lambda: self.app.authd_pid() not in (None, pid), 20, "a new authd")
        s, f, sid, _ = hostile(self.app)
        self.assertEqual(ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestOwnLogPipe(unittest.TestCase):
    """Each child writes to a pipe of its own; the master stamps its lines."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker"),
                             "log_max_lines_per_second": "50"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_worker_cannot_rewrite_or_forge_the_log(self):
        with open(self.app.logpath, "rb") as f:
            head = f.read(4096)
        s, f, sid, mark = hostile(self.app)
        said = ask(s, f, "LOG-REWRITE")
        # it may clear O_APPEND on its own pipe, but a pipe cannot seek
        self.assertRegex(said, r"^rewrite clear=\S+ seek=-1 write=\d+$")
        m = self.app.wait_log(r"(.*)user=FORGED@localhost", start=mark)
        line = m.group(0)
        # the master's stamp comes first: this worker, this session
        self.assertRegex(line, r"^ts=\S+ proc=pop3d pid=\d+ sid=%s " % sid)
        self.assertNotRegex(self.app.log(), r"(?m)^ts=\S+ proc=authd pid=1 ")
        with open(self.app.logpath, "rb") as f:
            self.assertEqual(f.read(4096)[:len(head)], head)
        s.close()

    def test_worker_log_rate_is_capped(self):
        s, f, sid, mark = hostile(self.app)
        self.assertEqual(ask(s, f, "LOG-FLOOD 5000"), "logged 5000")
        f.close()  # the socket closes only with its file object
        s.close()
        self.app.wait_log(r"sid=%s level=warn event=log_dropped lines=\d+" % sid, start=mark)
        self.app.wait_log(r"sid=%s level=info event=disconnect" % sid, start=mark)
        log = self.app.log()[mark:]
        relayed = len(re.findall(r"sid=%s level=info event=flood " % sid, log))
        dropped = sum(int(n) for n in re.findall(r"sid=%s level=warn event=log_dropped lines=(\d+)"
                                                 % sid, log))
        self.assertEqual(relayed + dropped, 5000)
        self.assertLess(relayed, 1000)  # 50 a second; the flood takes well under 20 s

    def test_workers_may_not_grow_files(self):
        s, f, sid, mark = hostile(self.app)
        pid = int(self.app.wait_log(r"sid=%s level=info event=connect .*worker_pid=(\d+)" % sid,
                                    start=mark).group(1))
        with open("/proc/%d/limits" % pid) as lim:
            row = [l for l in lim if l.startswith("Max file size")][0]
        self.assertEqual(row.split()[3:5], ["0", "0"])
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestLoginDeadline(unittest.TestCase):
    """login_timeout runs from connect to login, TLS included; part of
    max_daemons stays for sessions that have logged in."""

    @classmethod
    def setUpClass(cls):
        cls.sport = free_port()
        cls.app = Appliance({"login_timeout": "2", "max_daemons": "8",
                             "preauth_max_percent": "50", "max_per_ip": "100",
                             "pop3s_listen": "127.0.0.1:%d" % cls.sport}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def login(self, user="demo"):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user(user)
        p.pass_(user)
        return p

    def test_trickling_client_is_cut_at_the_deadline_logged_in_one_is_not(self):
        mark = self.app.log_mark()
        p = self.login()
        s, f = self.app.connect()
        start = time.monotonic()
        closed = None
        # the attack itself: a byte every 200 ms, never a whole command
        for _ in range(100):
            try:
                s.sendall(b"N")
                s.settimeout(0.2)
                if s.recv(100) == b"":
                    closed = time.monotonic() - start
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = time.monotonic() - start
                break
        self.assertIsNotNone(closed, "a trickling client outlived login_timeout")
        self.assertLess(closed, 6)
        self.app.wait_log(r"level=info event=disconnect reason=login_timeout ip=127\.0\.0\.1 "
                          r"seconds=2", start=mark)
        # a session that logged in before is past the deadline and lives on
        self.assertTrue(p.noop().startswith(b"+OK"))
        p.quit()
        s.close()

    def test_tls_handshake_counts_toward_the_deadline(self):
        mark = self.app.log_mark()
        raw = socket.create_connection(("127.0.0.1", self.sport), timeout=10)
        # never send a ClientHello: the worker waits in the handshake
        self.assertEqual(raw.recv(100), b"")
        raw.close()
        self.app.wait_log(r"event=disconnect reason=login_timeout", start=mark)

    def test_preauth_share_of_max_daemons(self):
        mark = self.app.log_mark()
        held = [self.login(u) for u in ("demo", "demo2")]
        idle = [self.app.connect(source="127.0.0.9") for _ in range(4)]
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
        self.assertEqual(s.makefile("rb").readline(),
                         b"-ERR [SYS/TEMP] too many connections, try again later\r\n")
        s.close()
        self.app.wait_log(r"event=refused reason=preauth_limit ip=127\.0\.0\.1 limit=4", start=mark)
        # the idle ones expire, and the slots come back
        wait_until(lambda: len(re.findall(r"reason=login_timeout ip=127\.0\.0\.9",
                                          self.app.log()[mark:])) == 4, 15, "idle sessions cut")
        c, cf = self.app.connect()
        cf.close()
        c.close()
        for h in held:
            h.quit()
        for c, cf in idle:
            cf.close()
            c.close()


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestTruncatedFdPass(unittest.TestCase):
    """Issue 13: a request carrying more descriptors than its receiver takes
    (the kernel truncates the control data) is refused, and the broker or
    the master goes on serving every other session."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker")}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def pids(self):
        return (self.app.authd_pid(), self.app.child_pid("postern-keyd"), self.app.proc.pid)

    def still_serves(self):
        s, f, _, _ = hostile_session(self.app)
        self.assertEqual(hostile_ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        s.close()

    def test_each_peer_refuses_and_lives(self):
        before = self.pids()
        for peer, want in (("authd", ("fds-closed",)), ("keyd", ("fds-closed",)),
                           ("master", ("fds-closed", ""))):
            with self.subTest(peer=peer):
                mark = self.app.log_mark()
                s, f, sid, _ = hostile_session(self.app)
                self.assertIn(hostile_ask(s, f, "FDS %s 40" % peer), want)
                s.close()
                self.app.wait_log(r"sid=%s .*(ipc_violation|bad message|refused)" % sid,
                                  start=mark)
                self.assertEqual(self.pids(), before)
                self.still_serves()
        # and stored: that session's channel ends, nobody else's
        s, f, sid, mark = hostile_session(self.app)
        self.assertEqual(hostile_ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        self.assertEqual(hostile_ask(s, f, "FDS store 40"), "fds-closed")
        s.close()
        self.assertEqual(self.pids(), before)
        self.still_serves()
