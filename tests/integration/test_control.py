"""The control socket: posternctl reload, status, who, kick, throttle, stop
and health against a live appliance, and the socket's defences (peer
credentials, garbage requests, a client that never reads, a compromised
worker)."""
import imaplib
import os
import poplib
import re
import smtplib
import socket
import stat
import struct
import subprocess
import unittest

from harness import BIN, TOOLS, Appliance, hostile_ask, hostile_session, wait_until

MSG_CTL_REQUEST = 0x0C01
MSG_CTL_REPLY = 0x0C02
CTL_STATUS, CTL_WHO, CTL_HEALTH = 1, 2, 10


def frame(mtype, payload, flags=0, version=1):
    return struct.pack(">BBHI", version, flags, mtype, len(payload)) + payload


def request(cmd, arg=b"", num=0):
    return frame(MSG_CTL_REQUEST, struct.pack(">B", cmd) + struct.pack(">I", len(arg)) + arg +
                 struct.pack(">Q", num))


def ctl_socket(app):
    return os.path.join(app.dir, "state", "control")


def raw_connect(app):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(ctl_socket(app))
    return s


def reply_of(s):
    """(status, text, body) of one reply on a raw control connection."""
    data, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(4))
    fds = []
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds += list(struct.unpack("%di" % (len(cdata) // 4), cdata[:len(cdata) // 4 * 4]))
    _, flags, mtype, plen = struct.unpack(">BBHI", data[:8])
    assert mtype == MSG_CTL_REPLY, hex(mtype)
    status = data[8]
    tlen = struct.unpack(">I", data[9:13])[0]
    text = data[13:13 + tlen].decode()
    body = b""
    for fd in fds:
        with os.fdopen(fd, "rb") as f:
            body += f.read()
    return status, text, body


def master_fd_count(app):
    return len(os.listdir("/proc/%d/fd" % app.proc.pid))


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestControlCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_ip_max": "3", "auth_fail_user_max": "4",
                             "imap_tls_required": "no"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def setUp(self):
        # every test starts without failure records (they share authd)
        for key in ("127.0.0.1", "demo", "demo2"):
            self.app.ctl("throttle", "clear", key, check=False)

    def test_status_names_version_brokers_and_listeners(self):
        r = self.app.ctl("status")
        self.assertRegex(r.stdout, r"(?m)^version \S+$")
        self.assertRegex(r.stdout, r"(?m)^master_pid %d$" % self.app.proc.pid)
        self.assertRegex(r.stdout, r"(?m)^authd pid=%d running=yes" % self.app.authd_pid())
        self.assertRegex(r.stdout, r"(?m)^keyd pid=\d+ running=yes ready=yes")
        self.assertIn("listen pop3 127.0.0.1:%d\n" % self.app.port, r.stdout)
        self.assertIn("listen imap 127.0.0.1:%d\n" % self.app.imap_port, r.stdout)
        self.assertRegex(r.stdout, r"(?m)^accepting yes$")
        # the socket is root's alone
        st = os.lstat(ctl_socket(self.app))
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual((st.st_uid, st.st_gid), (0, 0))

    def test_health_ok(self):
        r = self.app.ctl("health")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("ok"), r.stdout)

    def test_who_lists_logged_in_sessions_with_their_user(self):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo2")
        p.pass_("demo2")
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        try:
            r = self.app.ctl("who")
            rows = [l.split() for l in r.stdout.splitlines()[1:]]
            self.assertEqual(r.stdout.split()[:6], ["SESSION", "SERVICE", "IP", "PID", "AGE_S",
                                                    "USER"])
            pop = [row for row in rows if row[1] == "pop3"]
            self.assertIn("demo2@localhost", [row[5] for row in pop])
            imap = [row for row in rows if row[1] == "imap"]
            self.assertTrue(imap and imap[0][5] == "-", rows)  # not logged in yet
            for row in rows:
                self.assertRegex(row[0], r"^[0-9a-f]{24}$")
                self.assertTrue(os.path.exists("/proc/%s" % row[3]))
        finally:
            p.quit()
            m.logout()

    def test_kick_user_pop3_says_why_and_closes(self):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        mark = self.app.log_mark()
        r = self.app.ctl("kick", "demo")
        self.assertEqual(r.stdout.strip(), "1 session told to close")
        self.assertEqual(p.file.readline(), b"-ERR [SYS/TEMP] Disconnected by the administrator\r\n")
        self.assertEqual(p.file.readline(), b"")
        p.close()
        self.app.wait_log(r"level=info event=kick user=demo@localhost ip=127\.0\.0\.1 by_uid=0",
                          start=mark)
        self.app.wait_log(r"proc=pop3d .*event=disconnect reason=kicked", start=mark)

    def test_kick_session_in_imap_idle(self):
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        m.login("demo", "demo")
        m.select("INBOX")
        sid = [l.split()[0] for l in self.app.ctl("who").stdout.splitlines()
               if " imap " in l and "demo@localhost" in l][0]
        m.send(b"a1 IDLE\r\n")
        self.assertTrue(m.readline().startswith(b"+ "))
        r = self.app.ctl("kick", sid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(m.readline(), b"* BYE Disconnected by the administrator\r\n")
        self.assertEqual(m.readline(), b"")
        m.shutdown()

    def test_kick_smtp_gets_421(self):
        mark = self.app.log_mark()
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=10)
        c.ehlo("client.example")
        sid = self.app.wait_log(r"sid=(\w+) level=info event=connect proto=smtp",
                                start=mark).group(1)
        self.app.ctl("kick", sid)
        code, text = c.getreply()
        self.assertEqual((code, text), (421, b"4.3.2 Disconnected by the administrator"))
        c.close()

    def test_kick_unknown_is_an_error(self):
        r = self.app.ctl("kick", "nobody-here", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no session of nobody-here@localhost", r.stderr)
        r = self.app.ctl("kick", "0" * 24, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no session with id", r.stderr)
        # a UTF-8 name: the answer stays printable ASCII
        r = self.app.ctl("kick", "jörg", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no session of j??rg@localhost", r.stderr)

    def _fail_logins(self, user, n):
        for _ in range(n):
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
            p.user(user)
            with self.assertRaises(poplib.error_proto):
                p.pass_("wrong")
            p.quit()

    def test_throttle_list_and_clear_ip(self):
        self._fail_logins("demo2", 3)
        r = self.app.ctl("throttle", "list")
        self.assertIn("ip 127.0.0.1 failures=3 limit=3 throttled=yes", r.stdout)
        # at the limit first: the throttled address is the first line
        self.assertTrue(r.stdout.startswith("ip 127.0.0.1 failures=3"), r.stdout)
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        with self.assertRaisesRegex(poplib.error_proto, "throttled|AUTH|IN-USE|SYS"):
            p.pass_("demo")
        p.quit()
        mark = self.app.log_mark()
        r = self.app.ctl("throttle", "clear", "127.0.0.1")
        self.assertEqual(r.stdout.strip(), "cleared")
        self.app.wait_log(r"event=throttle_cleared ip=127\.0\.0\.1 records=1 by=control",
                          start=mark)
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        p.quit()
        r = self.app.ctl("throttle", "clear", "127.0.0.1", check=False)
        self.assertEqual((r.returncode, r.stderr.strip()), (1, "posternctl: no record to clear"))
        self.app.ctl("throttle", "clear", "demo2")

    def test_throttle_clear_user(self):
        self._fail_logins("demo2", 2)
        r = self.app.ctl("throttle", "list")
        self.assertRegex(r.stdout, r"(?m)^user demo2@localhost failures=2 limit=4 throttled=no")
        self.app.ctl("throttle", "clear", "demo2@localhost")
        r = self.app.ctl("throttle", "list")
        self.assertNotIn("demo2@localhost", r.stdout)
        self.app.ctl("throttle", "clear", "127.0.0.1")
        r = self.app.ctl("throttle", "clear", "bad user", check=False)
        self.assertEqual(r.returncode, 1)

    def test_reload_applies_and_a_broken_file_is_refused(self):
        self.app.settings["max_per_ip"] = "17"
        self.app.write_conf()
        r = self.app.ctl("reload")
        self.assertTrue(r.stdout.startswith("reloaded "), r.stdout)
        self.assertIn("max_per_ip 17\n", self.app.ctl("status").stdout)
        # posternctl reads a good copy; the master's file is broken
        good = self.app.conf + ".good"
        with open(self.app.conf) as f, open(good, "w") as g:
            g.write(f.read())
        try:
            with open(self.app.conf, "a") as f:
                f.write("max_per_ip = -5\n")
            r = self.app.ctl("-c", good, "reload", check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("reload failed, the old config stays", r.stderr)
            self.assertIn("max_per_ip 17\n", self.app.ctl("-c", good, "status").stdout)
        finally:
            self.app.settings["max_per_ip"] = "20"
            self.app.write_conf()
            self.app.ctl("reload")


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestControlStop(unittest.TestCase):
    """stop: every protocol's shutdown line; --drain: no new connections,
    the open sessions go on, the master ends with the last of them."""

    def setUp(self):
        self.app = Appliance({"imap_tls_required": "no"}).start()

    def tearDown(self):
        self.app.cleanup()

    def test_stop_sends_each_protocol_its_line(self):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        m.login("demo2", "demo2")
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=10)
        c.ehlo("client.example")
        wait_until(lambda: len(self.app.ctl("who").stdout.splitlines()) == 4, 10, "3 sessions")
        r = self.app.ctl("stop")
        self.assertEqual(r.stdout.strip(), "stopping: 3 sessions told to close")
        self.assertEqual(p.file.readline(), b"-ERR [SYS/TEMP] Server shutting down\r\n")
        self.assertEqual(m.readline(), b"* BYE Server shutting down\r\n")
        self.assertEqual(c.getreply(), (421, b"4.3.2 Service shutting down, closing connection"))
        self.app.proc.wait(10)
        self.assertEqual(self.app.proc.returncode, 0)
        self.assertIn("event=stopped clean=yes", self.app.log())
        self.assertFalse(os.path.exists(ctl_socket(self.app)))
        for x in (p, c):
            x.close()
        m.shutdown()

    def test_drain_lets_sessions_finish_and_refuses_new_ones(self):
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        m.login("demo", "demo")
        m.select("INBOX")
        r = self.app.ctl("stop", "--drain", "60")
        self.assertEqual(r.stdout.strip(), "stopping: 1 sessions may finish within 60 s")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.app.imap_port), timeout=5)
        self.assertEqual(self.app.ctl("health", check=False).returncode, 1)
        self.assertEqual(m.noop()[0], "OK")  # still served
        self.assertIn("stopping yes", self.app.ctl("status").stdout)
        m.logout()
        # the last session's end ends the master, long before 60 s
        self.app.proc.wait(15)
        self.assertEqual(self.app.proc.returncode, 0)
        self.assertIn("event=stopped clean=yes", self.app.log())

    def test_drain_end_closes_with_the_shutdown_line(self):
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        m.login("demo", "demo")
        self.app.ctl("stop", "--drain", "1")
        m.sock.settimeout(15)
        self.assertEqual(m.readline(), b"* BYE Server shutting down\r\n")
        m.shutdown()
        self.app.proc.wait(15)
        self.assertEqual(self.app.proc.returncode, 0)

    def test_bad_drain_is_a_usage_error(self):
        for v in ("-1", "x", "86401", "1e3"):
            r = self.app.ctl("stop", "--drain", v, check=False)
            self.assertEqual(r.returncode, 2, v)
        self.assertIsNone(self.app.proc.poll())


def _as_user(uid, gid, fn, groups=()):
    """Run fn in a child with that identity; its result (a short string)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.setgroups(list(groups))
            os.setgid(gid)
            os.setuid(uid)
            out = fn()
        except BaseException as e:  # the child reports, never raises
            out = "exc %s" % type(e).__name__
        os.write(wfd, out.encode()[:500])
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestControlDefences(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker"),
                             "control_max_clients": "3", "control_timeout": "2"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def assert_serving(self):
        self.assertEqual(self.app.ctl("health").returncode, 0)
        self.assertIsNone(self.app.proc.poll())

    def status_over(self, s):
        s.send(request(CTL_STATUS))
        return reply_of(s)

    def test_other_users_are_refused_by_mode_and_by_credentials(self):
        path = ctl_socket(self.app)

        def try_status():
            with raw_connect(self.app) as s:
                s.send(request(CTL_STATUS))
                return "reply" if s.recv(100) else "eof"

        self.assertEqual(_as_user(65534, 65534, try_status), "exc PermissionError")
        # with the file opened to everyone, SO_PEERCRED still refuses
        mark = self.app.log_mark()
        os.chmod(path, 0o666)
        try:
            self.assertIn(_as_user(65534, 65534, try_status),
                          ("eof", "exc ConnectionResetError", "exc BrokenPipeError"))
        finally:
            os.chmod(path, 0o600)
        self.app.wait_log(r"event=control_refused uid=65534 pid=\d+ reason=\"not root, the "
                          r"master's uid or in control_gid\"", start=mark)
        self.assert_serving()

    def test_garbage_requests_close_only_that_connection(self):
        bad = [
            b"",
            b"\x01",
            frame(MSG_CTL_REQUEST, b""),                       # short
            request(CTL_STATUS)[:-1],                          # truncated number
            request(CTL_STATUS) + b"x",                        # a trailing byte
            frame(MSG_CTL_REQUEST, request(CTL_STATUS)[8:], version=2),
            frame(MSG_CTL_REPLY, b"\x00\x00\x00\x00\x00"),     # the wrong direction
            frame(0x0101, b"\x00" * 16),                       # another channel's message
            request(0),                                        # unknown commands
            request(99),
            request(CTL_STATUS, b"arg"),                       # an argument it takes none of
            request(4, b""),                                   # kick without one
            request(4, b"a b"),                                # a space
            request(4, b"a\nlevel=error"),                     # a line
            request(4, b"x" * 321),                            # too long
            request(CTL_WHO, num=5),                           # a number it takes none of
            request(9, num=86401),                             # a drain past the limit
            struct.pack(">BBHI", 1, 0, MSG_CTL_REQUEST, 0xFFFFFFFF) + b"\x01",
        ]
        mark = self.app.log_mark()
        for msg in bad:
            s = raw_connect(self.app)
            s.send(msg)
            self.assertEqual(s.recv(100), b"", msg)  # closed, no reply
            s.close()
        # a message with an fd attached (memfd), which no request carries
        s = raw_connect(self.app)
        fd = os.memfd_create("x")
        s.sendmsg([request(CTL_STATUS)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                          struct.pack("i", fd))])
        os.close(fd)
        self.assertEqual(s.recv(100), b"")
        s.close()
        log = self.app.log()[mark:]
        self.assertGreaterEqual(log.count("event=control_refused"), len(bad) - 1)
        self.assert_serving()
        s, f, _, _ = hostile_session(self.app)  # and a session works
        self.assertEqual(hostile_ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        s.close()

    def test_reply_bodies_are_sealed(self):
        import fcntl
        s = raw_connect(self.app)
        s.send(request(CTL_WHO))
        data, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(4))
        fd = struct.unpack("i", anc[0][2][:4])[0]
        try:
            seals = fcntl.fcntl(fd, 1034)  # F_GET_SEALS
            self.assertEqual(seals & 0xF, 0xF)  # SEAL, SHRINK, GROW, WRITE
            with self.assertRaises(OSError):
                os.write(fd, b"x")
        finally:
            os.close(fd)
            s.close()

    def test_client_that_never_reads_loses_only_its_connection(self):
        mark = self.app.log_mark()
        s = raw_connect(self.app)
        s.setblocking(False)
        sent, closed = 0, False
        closed_rx = re.compile(r"event=control_closed uid=0 errno=\d+ reason=\"reply not taken\"")

        def answered_or_closed():
            log = self.app.log()[mark:]
            return closed_rx.search(log) or log.count("event=control cmd=who") >= sent

        # fill the master's queue, let it answer into ours, again, until
        # ours is full: the master then drops the connection
        for _ in range(1000):
            try:
                while True:
                    s.send(request(CTL_WHO))
                    sent += 1
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            if closed or closed_rx.search(self.app.log()[mark:]):
                break
            wait_until(answered_or_closed, 10, "the master to answer %d requests" % sent)
        self.app.wait_log(closed_rx.pattern, start=mark)
        s.close()
        # its copies of the bodies were closed as it went
        wait_until(lambda: master_fd_count(self.app) < 80, 10, "the master's fds back")
        self.assert_serving()

    def test_connection_limit_and_idle_timeout(self):
        mark = self.app.log_mark()
        held = [raw_connect(self.app) for _ in range(3)]
        extra = raw_connect(self.app)
        try:
            extra.send(request(CTL_STATUS))
            self.assertEqual(extra.recv(100), b"")
        except (ConnectionResetError, BrokenPipeError):
            pass  # closed with the request unread
        finally:
            extra.close()
        self.app.wait_log(r"event=control_refused uid=0 pid=\d+ reason=\"control_max_clients "
                          r"connections are open\"", start=mark)
        # the held ones time out (control_timeout 2 s) and the socket serves again
        for h in held:
            h.settimeout(15)
            self.assertEqual(h.recv(100), b"")
            h.close()
        self.app.wait_log(r"event=control_closed uid=0 reason=\"no request for control_timeout\"",
                          start=mark)
        self.assert_serving()

    def test_compromised_worker_cannot_reach_the_control_socket(self):
        s, f, sid, mark = hostile_session(self.app)
        said = hostile_ask(s, f, "CONTROL-CONNECT " + ctl_socket(self.app))
        self.assertEqual(said, "")  # killed before it could report
        s.close()
        self.app.wait_log(r"sid=%s level=error event=sandbox_kill child=pop3d pid=\d+ signal=31"
                          % sid, start=mark)
        self.assert_serving()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestControlGroupAndPath(unittest.TestCase):
    def test_control_gid_members_may_use_it(self):
        app = Appliance({"control_gid": "4242"}).start()
        try:
            path = ctl_socket(app)
            st = os.lstat(path)
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, 4242))

            def status():
                with raw_connect(app) as s:
                    s.send(request(CTL_HEALTH))
                    status, text, _ = reply_of(s)
                    return "%d %s" % (status, text)

            self.assertRegex(_as_user(65534, 65534, status, groups=[4242]), r"^0 ok")
            self.assertRegex(_as_user(65534, 4242, status), r"^0 ok")
            self.assertEqual(_as_user(65534, 65534, status), "exc PermissionError")
        finally:
            app.cleanup()

    def test_none_turns_it_off(self):
        app = Appliance({"control_socket": "none"}).start()
        try:
            self.assertFalse(os.path.exists(ctl_socket(app)))
            r = app.ctl("status", check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("control_socket = none", r.stderr)
        finally:
            app.cleanup()

    def test_unsafe_directory_is_fatal(self):
        app = Appliance()
        try:
            d = os.path.join(app.dir, "open")
            os.mkdir(d)
            os.chmod(d, 0o777)
            app.settings["control_socket"] = os.path.join(d, "control")
            app.write_conf()
            r = subprocess.run([os.path.join(BIN, "postern-master"), "-c", app.conf],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn("control_socket %s/control: its directory must be owned by root"
                          % d, r.stderr)
        finally:
            app.cleanup()

    def test_health_fails_without_a_master(self):
        app = Appliance()
        try:
            r = app.ctl("health", check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot reach the master", r.stderr)
        finally:
            app.cleanup()


if __name__ == "__main__":
    unittest.main()
