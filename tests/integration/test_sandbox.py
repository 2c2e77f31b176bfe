"""Live proofs of the privilege invariants (DESIGN.md) on running processes."""
import os
import poplib
import re
import signal
import socket
import unittest

from harness import (Appliance, TOOLS, command, free_port, hostile_ask, hostile_session, make_message,
                     proc_status, wait_until)


def worker_pid(app, mark):
    m = app.wait_log(r"event=connect proto=pop3 ip=\S+ worker_pid=(\d+)", start=mark)
    return int(m.group(1))


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestPrivileges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lmtp_port = free_port()
        cls.app = Appliance({"test_triggers": "yes",
                             "lmtp_listen": "127.0.0.1:%d" % cls.lmtp_port}).start()
        cls.app.deliver("demo", make_message("for demo", "demo's mail\n"))
        cls.app.deliver("demo2", make_message("for demo2", "demo2's secret\n"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def assert_confined(self, pid, uid, root):
        st = proc_status(pid)
        uids = st["Uid"].split()
        self.assertEqual(uids, [str(uid)] * 4)
        self.assertNotIn("0", st["Gid"].split())
        self.assertEqual(st["Groups"], "")
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(int(st["CapPrm"], 16), 0)
        self.assertEqual(int(st["CapBnd"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), root)

    def test_pop3d_worker_confined_before_login(self):
        mark = self.app.log_mark()
        s, f = self.app.connect()
        pid = worker_pid(self.app, mark)
        self.assert_confined(pid, 7002, self.app.empty)
        self.assertEqual(os.listdir("/proc/%d/root/" % pid), [])
        s.close()

    def test_lmtpd_worker_confined(self):
        # an intake worker parses network bytes like pop3d: invariant 1
        mark = self.app.log_mark()
        s = socket.create_connection(("127.0.0.1", self.lmtp_port), timeout=10)
        self.assertTrue(s.makefile("rb").readline().startswith(b"220 "))
        m = self.app.wait_log(r"event=connect proto=lmtp ip=\S+ worker_pid=(\d+)", start=mark)
        pid = int(m.group(1))
        self.assert_confined(pid, 7002, self.app.empty)
        self.assertEqual(os.listdir("/proc/%d/root/" % pid), [])
        s.close()

    def test_smtpd_worker_confined_before_and_after_starttls(self):
        # the MX parses network bytes and runs TLS: invariant 1, both sides of STARTTLS
        import smtplib
        import ssl
        mark = self.app.log_mark()
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=10)
        m = self.app.wait_log(r"event=connect proto=smtp ip=\S+ worker_pid=(\d+)", start=mark)
        pid = int(m.group(1))
        self.assert_confined(pid, 7002, self.app.empty)
        self.assertEqual(os.listdir("/proc/%d/root/" % pid), [])
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.starttls(context=ctx)
        self.assertEqual(c.ehlo()[0], 250)
        self.assert_confined(pid, 7002, self.app.empty)
        c.quit()

    def test_stored_confined_to_mail_root(self):
        mark = self.app.log_mark()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        m = self.app.wait_log(r"event=stored_spawn user=demo@localhost stored_pid=(\d+)", start=mark)
        spid = int(m.group(1))
        self.assert_confined(spid, 7100, self.app.maildir("demo"))
        self.assertNotIn("postern.conf", os.listdir("/proc/%d/root/" % spid))
        wpid = worker_pid(self.app, mark)
        self.assert_confined(wpid, 7002, self.app.empty)  # still confined after login
        p.quit()

    def test_imapd_worker_and_its_stored_confined_before_and_after_login(self):
        import imaplib
        mark = self.app.log_mark()
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        w = self.app.wait_log(r"event=connect proto=imap ip=\S+ worker_pid=(\d+)", start=mark)
        wpid = int(w.group(1))
        self.assert_confined(wpid, 7002, self.app.empty)
        self.assertEqual(os.listdir("/proc/%d/root/" % wpid), [])
        m.login("demo", "demo")
        st = self.app.wait_log(r"event=stored_spawn user=demo@localhost stored_pid=(\d+) "
                               r"role=mailbox view=imap", start=mark)
        spid = int(st.group(1))
        self.assert_confined(spid, 7100, self.app.maildir("demo"))
        self.assertNotIn("postern.conf", os.listdir("/proc/%d/root/" % spid))
        self.assert_confined(wpid, 7002, self.app.empty)  # still confined after login
        self.assertEqual(os.listdir("/proc/%d/root/" % wpid), [])
        m.logout()

    def test_forbidden_syscall_kills_only_that_imapd(self):
        import imaplib
        bystander = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        bystander.login("demo2", "demo2")
        mark = self.app.log_mark()
        s = socket.create_connection(("127.0.0.1", self.app.imap_port), timeout=10)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"* OK "))
        sid = self.app.wait_log(r"sid=(\w+) level=info event=connect proto=imap", start=mark).group(1)
        s.sendall(b"a XSYSCALLTEST\r\n")
        self.assertEqual(f.readline(), b"* OK calling socket(2)\r\n")
        self.assertEqual(f.readline(), b"")  # killed: no "still alive"
        s.close()
        self.app.wait_log(r"sid=%s level=error event=sandbox_kill child=imapd pid=\d+ signal=31" % sid,
                          start=mark)
        self.assertEqual(bystander.noop()[0], "OK")
        bystander.logout()

    def test_stopped_and_continued_processes_go_on(self):
        """SIGSTOP then SIGCONT (kill -STOP, a debugger, a frozen container)
        interrupts a process's poll; the kernel resumes it with
        restart_syscall, which every filter allows."""
        import imaplib
        mark = self.app.log_mark()
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=10)
        m.login("demo", "demo")
        m.select("INBOX")
        w = int(self.app.wait_log(r"event=connect proto=imap ip=\S+ worker_pid=(\d+)",
                                  start=mark).group(1))
        st = int(self.app.wait_log(r"event=stored_spawn user=demo@localhost stored_pid=(\d+)",
                                   start=mark).group(1))
        for pid in (w, st, self.app.authd_pid()):
            os.kill(pid, signal.SIGSTOP)
            wait_until(lambda: proc_status(pid)["State"].startswith("T"), what="stopped")
            os.kill(pid, signal.SIGCONT)
            wait_until(lambda: not proc_status(pid)["State"].startswith("T"), what="running")
        self.assertEqual(m.noop()[0], "OK")
        self.assertEqual(m.fetch("1", "(FLAGS)")[0], "OK")
        m.logout()
        self.assertNotIn("sandbox_kill", self.app.log()[mark:])

    def test_authd_confined(self):
        pid = self.app.authd_pid()
        self.assert_confined(pid, 7001, self.app.empty)
        # no sockets but its channels: authd has no network
        for fd in os.listdir("/proc/%d/fd" % pid):
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            self.assertFalse(target.startswith("socket:") and self._is_inet(target), target)

    @staticmethod
    def _is_inet(target):
        inode = target[len("socket:["):-1]
        for table in ("/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"):
            with open(table) as f:
                if any(line.split()[9] == inode for line in f.readlines()[1:]):
                    return True
        return False

    def test_forbidden_syscall_kills_only_that_worker(self):
        bystander = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        bystander.user("demo2")
        bystander.pass_("demo2")
        mark = self.app.log_mark()
        s, f = self.app.connect()
        sid = self.app.wait_log(r"sid=(\w+) level=info event=connect", start=mark).group(1)
        self.assertEqual(command(s, f, "XSYSCALLTEST")[0], b"+OK calling socket(2)\r\n")
        self.assertEqual(f.readline(), b"")  # killed: connection closed, no "still alive"
        s.close()
        self.app.wait_log(r"sid=%s level=error event=sandbox_kill child=pop3d pid=\d+ signal=31" % sid,
                          start=mark)
        # the other session and new sessions go on
        self.assertIn(b"Subject: for demo2", bystander.retr(1)[1])
        bystander.quit()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        p.quit()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestHostilePeer(unittest.TestCase):
    """A program speaking the worker's side of the IPC protocols."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker")}).start()
        cls.app.deliver("demo", make_message("for demo", "demo's mail\n"))
        cls.app.deliver("demo2", make_message("for demo2", "demo2's secret\n"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def hostile(self):
        return hostile_session(self.app)

    ask = staticmethod(hostile_ask)

    def test_forged_login_to_master_is_refused_and_kills_worker(self):
        s, f, sid, mark = self.hostile()
        # the master may kill the worker before it can even report "sent"
        said = self.ask(s, f, "FORGE-MASTER demo2@localhost")
        self.assertIn(said, ("sent", ""))
        if said:
            self.assertEqual(f.readline(), b"")  # the master killed the worker
        self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker" % sid, start=mark)
        self.assertNotIn("stored_spawn user=demo2", self.app.log()[mark:])

    def test_forged_proxy_address_without_proxy_listener_kills_worker(self):
        s, f, sid, mark = self.hostile()
        said = self.ask(s, f, "FORGE-PROXY 203.0.113.1")
        self.assertIn(said, ("sent", ""))
        if said:
            self.assertEqual(f.readline(), b"")
        self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker .*type=0x0203" % sid,
                          start=mark)
        self.assertNotIn("event=proxy ip=203.0.113.1", self.app.log())

    def test_intake_requests_on_pop3_kill_worker(self):
        # a POP3 worker may not ask where mail for an address goes, nor for
        # a deliver-view stored: those rows need the intake phase
        for line, mtype in (("INTAKE-RCPT demo2@localhost", "0x0204"), ("INTAKE-DELIVER 0", "0x0205")):
            s, f, sid, mark = self.hostile()
            said = self.ask(s, f, line)
            self.assertIn(said, ("ctl-closed", ""), line)
            self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker .*type=%s" %
                              (sid, mtype), start=mark)
            self.assertNotRegex(self.app.log()[mark:], r"event=(rcpt|stored_spawn)")
            f.close()
            s.close()

    def test_forged_login_to_authd_closes_channel(self):
        s, f, sid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, "FORGE-AUTHD demo2@localhost"), "sent")
        self.assertEqual(f.readline().strip(), b"authd-closed")
        self.assertEqual(self.ask(s, f, "WAIT-STORE"), "no-store")
        self.assertEqual(self.ask(s, f, "LOGIN demo2 demo2"), "authd-send-failed")
        self.assertNotIn("stored_spawn", self.app.log()[mark:])
        s.close()

    def test_wrong_password_gives_no_storage(self):
        s, f, sid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, "LOGIN demo2 wrong"), "auth-fail 1")
        self.assertEqual(self.ask(s, f, "WAIT-STORE"), "no-store")
        self.assertNotIn("stored_spawn", self.app.log()[mark:])
        s.close()

    def test_verified_user_storage_only(self):
        s, f, sid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        self.assertEqual(self.ask(s, f, "OPEN"), "open ok 1")
        self.assertEqual(self.ask(s, f, "FETCH 0"), "fetch-ok Subject: for demo")
        self.assertEqual(self.ask(s, f, "FETCH 1"), "fetch-err 2")
        self.assertEqual(self.ask(s, f, "FETCH 4294967295"), "fetch-err 2")
        # a second login on the same session is a protocol violation for authd
        # authd let go of the channel at the login: a second one goes nowhere
        # (sent before authd closed it, unread: the reset shows as a receive error)
        self.assertIn(self.ask(s, f, "LOGIN demo2 demo2"), ("authd-closed", "authd-send-failed",
                                                            "authd-error -1"))
        self.assertEqual(self.ask(s, f, "WAIT-STORE"), "no-store")
        # an unknown request type makes stored end the session
        self.assertEqual(self.ask(s, f, "BADTYPE"), "badtype stored-closed")
        s.close()
        # children's lines reach the log through the master: wait for it
        self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x7777", start=mark)
        log = self.app.log()[mark:]
        self.assertEqual(len(re.findall(r"stored_spawn", log)), 1)
        self.assertIn("stored_spawn user=demo@localhost", log)
        self.assertRegex(log, r"proc=stored .*event=ipc_violation peer=worker type=0x7777")

    def test_worker_cannot_choose_the_deliver_view(self):
        """The master gives a POP3 login the pop3 view: the deliver view's request is
        an IPC violation there, and nothing reaches the Maildir."""
        new = os.path.join(self.app.maildir(), "new")
        before = sorted(os.listdir(new))
        s, f, sid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        self.assertEqual(self.ask(s, f, "DELIVER"), "deliver stored-closed")
        s.close()
        self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x0621 view=pop3",
                          start=mark)
        self.assertEqual(sorted(os.listdir(new)), before)


class TestAuthdRestart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_kill_authd_master_restarts_it(self):
        old = self.app.authd_pid()
        mark = self.app.log_mark()
        os.kill(old, signal.SIGKILL)
        self.app.wait_log(r"event=child_died child=authd signal=9", start=mark)
        wait_until(lambda: self.app.authd_pid() not in (None, old), 15, "new authd")

        def login():
            try:
                p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
                p.user("demo")
                p.pass_("demo")
                p.quit()
                return True
            except poplib.error_proto:
                return False
        wait_until(login, 15, "login after authd restart")


class TestThrottleAndLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # every slot may be pre-login here: this class tests max_daemons itself
        cls.app = Appliance({"auth_fail_ip_max": "10", "max_per_ip": "3",
                             "max_daemons": "6", "preauth_max_percent": "100"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_1000_wrong_passwords_throttled_others_unaffected(self):
        mark = self.app.log_mark()
        answers = []
        for c in range(20):
            cmark = self.app.log_mark()
            s, f = self.app.connect(source="127.0.0.2")
            sid = self.app.wait_log(r"sid=(\w+) level=info event=connect proto=pop3 ip=127\.0\.0\.2",
                                    start=cmark).group(1)
            batch = b"".join(b"USER demo\r\nPASS wrong%d\r\n" % i for i in range(50))
            s.sendall(batch)
            for _ in range(100):
                answers.append(f.readline())
            f.close()
            s.close()
            # max_per_ip is 3: the next connection must not race the master's
            # reaping of this one (workers lead their own session, and with
            # sched_autogroup their exit is scheduled apart from the master)
            self.app.wait_log(r"sid=%s level=info event=disconnect" % sid, start=cmark)
        fails = [a for a in answers if a.startswith(b"-ERR")]
        self.assertEqual(len(fails), 1000)
        throttled = [a for a in fails if b"[SYS/TEMP] too many failures" in a]
        self.assertGreaterEqual(len(throttled), 990)
        self.app.wait_log(r'ip=127\.0\.0\.2 user="demo@localhost" reason="throttled: too many failures from this IP"',
                          start=mark)
        # the right password from the throttled IP is refused too ...
        s, f = self.app.connect(source="127.0.0.2")
        command(s, f, "USER demo")
        self.assertIn(b"too many failures", command(s, f, "PASS demo")[0])
        s.close()
        # ... while another address logs in normally
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        p.quit()

    def test_max_per_ip_and_max_daemons(self):
        held = [self.app.connect(source="127.0.0.3") for _ in range(3)]
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10, source_address=("127.0.0.3", 0))
        self.assertEqual(s.makefile("rb").readline(),
                         b"-ERR [SYS/TEMP] too many connections from your address, try again later\r\n")
        s.close()
        held += [self.app.connect(source="127.0.0.4") for _ in range(3)]
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10, source_address=("127.0.0.5", 0))
        self.assertEqual(s.makefile("rb").readline(),
                         b"-ERR [SYS/TEMP] too many connections, try again later\r\n")
        s.close()
        self.app.wait_log(r"event=refused reason=max_per_ip ip=127\.0\.0\.3 limit=3")
        self.app.wait_log(r"event=refused reason=max_daemons ip=127\.0\.0\.5 limit=6")
        for hs, hf in held:
            hf.close()
            hs.close()
        wait_until(self._can_connect, 10, "slots free again")

    def _can_connect(self):
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10, source_address=("127.0.0.3", 0))
        ok = s.makefile("rb").readline().startswith(b"+OK")
        s.close()
        return ok


class TestSignals(unittest.TestCase):
    def test_sighup_reload_and_sigterm_clean_stop(self):
        app = Appliance().start()
        try:
            s, f = app.connect()
            mark = app.log_mark()
            app.settings["max_per_ip"] = "7"
            app.write_conf()
            app.proc.send_signal(signal.SIGHUP)
            app.wait_log(r"event=reloaded .*max_per_ip=7", start=mark)
            self.assertTrue(command(s, f, "CAPA", multiline=True)[0].startswith(b"+OK"))  # session survives
            # a broken config is refused and the old one stays
            with open(app.conf, "a") as cf:
                cf.write("no_such_key = 1\n")
            # children read the master's validated snapshot, not the file:
            # the broken edit does not reach new sessions, before or after HUP
            s2, f2 = app.connect()
            self.assertTrue(command(s2, f2, "CAPA", multiline=True)[0].startswith(b"+OK"))
            f2.close()
            s2.close()
            app.proc.send_signal(signal.SIGHUP)
            app.wait_log(r'event=reload_failed reason=".*:\d+: unknown key .no_such_key."', start=mark)
            p = poplib.POP3("127.0.0.1", app.port, timeout=10)
            p.user("demo")
            p.pass_("demo")
            p.quit()
            f.close()
            s.close()
            app.proc.send_signal(signal.SIGTERM)
            self.assertEqual(app.proc.wait(15), 0)
            self.assertIn("event=stopped clean=yes", app.log())
        finally:
            app.cleanup()


if __name__ == "__main__":
    unittest.main()


class TestMoreLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # no 1 s idle timeout here: on a loaded machine it would end the
        # other tests' sessions between two commands (test_idle_timeout_closes
        # has an appliance of its own)
        cls.app = Appliance({"pop3_max_messages": "2",
                             "auth_fail_user_max": "5", "auth_fail_ip_max": "1000",
                             "worker_max_memory": "67108864"}).start()
        for i in range(3):
            cls.app.deliver("demo", make_message("m%d" % i, "x\n"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_idle_timeout_closes(self):
        app = Appliance({"pop3_idle_timeout": "1"}).start()
        self.addCleanup(app.cleanup)
        mark = app.log_mark()
        s, f = app.connect()
        s.settimeout(10)
        self.assertEqual(f.readline(), b"")  # closed by the server after 1 s idle
        app.wait_log(r"event=disconnect ip=127\.0\.0\.1 reason=idle_timeout", start=mark)

    def test_max_messages_caps_the_listing(self):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        self.assertEqual(p.stat()[0], 2)
        p.quit()

    def test_user_throttle_spares_trusted_addresses(self):
        # the owner logged in from 127.0.0.1 before the guessing started
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo2")
        p.pass_("demo2")
        p.quit()
        for i in range(6):
            s, f = self.app.connect(source="127.0.0.%d" % (10 + i))
            command(s, f, "USER demo2")
            command(s, f, "PASS wrong")
            f.close()
            s.close()
        # a fresh address is refused as well, even with the right password:
        # a guesser with many addresses gets no check from each of them
        for src in ("127.0.0.10", "127.0.0.30"):
            s, f = self.app.connect(source=src)
            command(s, f, "USER demo2")
            self.assertIn(b"too many failures", command(s, f, "PASS demo2")[0])
            f.close()
            s.close()
        self.app.wait_log(r'ip=127\.0\.0\.30 user="demo2@localhost" reason="throttled: too many failures for this user"')
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)  # the owner's address: fine
        p.user("demo2")
        p.pass_("demo2")
        p.quit()

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_worker_rlimits(self):
        mark = self.app.log_mark()
        s, f = self.app.connect()
        pid = worker_pid(self.app, mark)
        limits = open("/proc/%d/limits" % pid).read()
        self.assertRegex(limits, r"Max address space\s+67108864\s+67108864")
        self.assertRegex(limits, r"Max processes\s+0\s+0")
        self.assertRegex(limits, r"Max core file size\s+0\s+0")
        self.assertRegex(limits, r"Max open files\s+32\s+32")
        f.close()
        s.close()


class TestSeccompDebug(unittest.TestCase):
    def test_debug_mode_names_the_syscall(self):
        app = Appliance({"debug_seccomp": "yes", "test_triggers": "yes"}).start()
        try:
            mark = app.log_mark()
            s, f = app.connect()
            command(s, f, "XSYSCALLTEST")
            self.assertEqual(f.readline(), b"")
            f.close()
            s.close()
            app.wait_log(r"proc=pop3d level=error event=seccomp_violation syscall=socket nr=41", start=mark)
            app.wait_log(r"event=sandbox_kill child=pop3d pid=\d+ exit=159", start=mark)
        finally:
            app.cleanup()


@unittest.skipUnless(os.geteuid() == 0, "needs root to switch to the test uid")
class TestUnprivilegedMode(unittest.TestCase):
    """Started without root (a developer's `make run`): no uid change or chroot,
    but seccomp, no_new_privs and (for stored) Landlock still apply."""

    def test_runs_and_confines_without_root(self):
        app = Appliance(run_as=7500)
        app.deliver("demo", make_message("unpriv", "x\n"))
        app.start()
        try:
            mark = app.log_mark()
            p = poplib.POP3("127.0.0.1", app.port, timeout=10)
            p.user("demo")
            p.pass_("demo")
            self.assertIn(b"Subject: unpriv", p.retr(1)[1])
            spid = int(app.wait_log(r"stored_pid=(\d+)", start=mark).group(1))
            wpid = worker_pid(app, mark)
            for pid in (spid, wpid, app.authd_pid()):
                st = proc_status(pid)
                self.assertEqual(st["Uid"].split(), ["7500"] * 4)
                self.assertEqual(st["NoNewPrivs"], "1")
                self.assertEqual(st["Seccomp"], "2")
                self.assertEqual(int(st["CapEff"], 16), 0)
            p.quit()
            self.assertIn("event=unprivileged", app.log())
            self.assertNotIn("landlock", app.log())  # no "not available" warning
        finally:
            app.cleanup()


# -- seccomp argument filters, process groups, read-only userdb -------------

def proc_pgrp_session(pid):
    """(pgrp, session) from /proc/PID/stat fields 5 and 6 (after the comm)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[2]), int(fields[3])


# (hostile command, the system call the filter must refuse)
FORBIDDEN_CALLS = [
    ("SETOWN-MASTER", "fcntl"),       # F_SETOWN to the group the worker started in
    ("SETOWN-EX", "fcntl"),           # F_SETOWN_EX, F_OWNER_PGRP
    ("SETSIG", "fcntl"),              # F_SETSIG SIGKILL
    ("ASYNC", "fcntl"),               # F_SETFL with O_ASYNC
    ("SETLEASE", "fcntl"),
    ("NOTIFY", "fcntl"),
    ("IOCTL-SETOWN", "ioctl"),        # FIOSETOWN: the same hole through ioctl
    ("KILL-GROUP", "kill"),
    ("MPROTECT-EXEC", "mprotect"),    # RW page made executable
    ("MPROTECT-RWX", "mprotect"),
    ("PKEY-MPROTECT-EXEC", "pkey_mprotect"),
    ("MMAP-EXEC", "mmap"),
]


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestArgumentFilters(unittest.TestCase):
    """Calls a compromised worker could use to signal other processes or run
    injected code die by SIGSYS; the calls glibc and our code make pass."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker")}).start()
        cls.app.deliver("demo", make_message("for demo", "demo's mail\n"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    hostile = TestHostilePeer.hostile
    ask = staticmethod(TestHostilePeer.ask)

    def assert_killed(self, cmd):
        bs, bf, _, _ = self.hostile()
        s, f, sid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, cmd), "")  # killed before it could report
        s.close()
        self.app.wait_log(r"sid=%s level=error event=sandbox_kill child=pop3d pid=\d+ signal=31" % sid,
                          start=mark)
        # only that worker: a session opened before goes on, a new one works
        self.assertEqual(self.ask(bs, bf, "FCNTL-ALLOWED"), "fcntl-allowed ok")
        bs.close()
        s, f, _, _ = self.hostile()
        self.assertEqual(self.ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        self.assertEqual(self.ask(s, f, "OPEN"), "open ok 1")
        self.assertEqual(self.ask(s, f, "FETCH 0"), "fetch-ok Subject: for demo")
        s.close()

    def test_allowed_fcntl_and_memory_calls_pass(self):
        s, f, _, _ = self.hostile()
        self.assertEqual(self.ask(s, f, "FCNTL-ALLOWED"), "fcntl-allowed ok")
        self.assertEqual(self.ask(s, f, "MEMORY-ALLOWED"), "memory-allowed ok")
        s.close()


def _forbidden_test(cmd, call):
    def test(self):
        self.assert_killed(cmd)
    test.__doc__ = "%s (%s) kills the worker by SIGSYS" % (cmd, call)
    return test


for _cmd, _call in FORBIDDEN_CALLS:
    setattr(TestArgumentFilters, "test_forbidden_%s" % _cmd.lower().replace("-", "_"),
            _forbidden_test(_cmd, _call))


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestArgumentFiltersDebug(unittest.TestCase):
    """debug_seccomp traps an argument-filtered call and names it."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker"),
                             "debug_seccomp": "yes"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    hostile = TestHostilePeer.hostile
    ask = staticmethod(TestHostilePeer.ask)

    def check_named(self, cmd, call, nr):
        s, f, sid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, cmd), "")
        s.close()
        self.app.wait_log(r"proc=pop3d level=error event=seccomp_violation syscall=%s nr=%d" % (call, nr),
                          start=mark)
        self.app.wait_log(r"sid=%s level=error event=sandbox_kill child=pop3d pid=\d+ exit=159" % sid,
                          start=mark)

    def test_fcntl_setown_is_named(self):
        self.check_named("SETOWN-MASTER", "fcntl", 72)

    def test_mprotect_exec_is_named(self):
        self.check_named("MPROTECT-EXEC", "mprotect", 10)

    def test_allowed_calls_pass_in_debug_mode(self):
        s, f, _, _ = self.hostile()
        self.assertEqual(self.ask(s, f, "FCNTL-ALLOWED"), "fcntl-allowed ok")
        self.assertEqual(self.ask(s, f, "MEMORY-ALLOWED"), "memory-allowed ok")
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestLiveConfinement(unittest.TestCase):
    """The real daemons, with the filters on."""

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()
        cls.app.deliver("demo", make_message("filtered", "still delivered\n"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def keyd_pid(self):
        m = self.app.wait_log(r"proc=keyd pid=(\d+) level=info event=ready")
        return int(m.group(1))

    def test_every_child_has_its_own_session_and_group(self):
        master = self.app.proc.pid
        mpgrp, msid = proc_pgrp_session(master)
        mark = self.app.log_mark()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        stored = int(self.app.wait_log(r"event=stored_spawn user=demo@localhost stored_pid=(\d+)",
                                       start=mark).group(1))
        children = {"authd": self.app.authd_pid(), "keyd": self.keyd_pid(),
                    "pop3d": worker_pid(self.app, mark), "stored": stored}
        seen = set()
        for name, pid in children.items():
            pgrp, sid = proc_pgrp_session(pid)
            self.assertEqual((pgrp, sid), (pid, pid), name)  # setsid(): leader of its own
            self.assertNotIn(pgrp, (mpgrp, msid), name)
            seen.add(pgrp)
        self.assertEqual(len(seen), len(children))
        p.quit()

    def test_normal_session_works_with_filters(self):
        mark = self.app.log_mark()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        self.assertEqual(proc_status(worker_pid(self.app, mark))["Seccomp"], "2")
        count, _ = p.stat()
        self.assertGreaterEqual(count, 1)
        self.assertIn(b"Subject: filtered", p.retr(1)[1])
        p.quit()
        self.assertNotIn("sandbox_kill", self.app.log()[mark:])
        self.assertNotIn("reason=sandbox_kill", self.app.log())

    def test_authd_reads_the_userdb_read_only(self):
        pid = self.app.authd_pid()
        data = []
        for fd in os.listdir("/proc/%d/fd" % pid):
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).endswith("/userdb/data.mdb"):
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    flags = int(re.search(r"^flags:\s+([0-7]+)", f.read(), re.M).group(1), 8)
                data.append(flags)
        self.assertTrue(data, "authd has the userdb data file open")
        for flags in data:
            self.assertEqual(flags & os.O_ACCMODE, os.O_RDONLY, oct(flags))
        # and it still verifies passwords
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        p.quit()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestMasterInheritedFds(unittest.TestCase):
    def test_master_closes_fds_from_its_launcher(self):
        app = Appliance()
        secret = os.path.join(app.dir, "launcher-secret")
        fd = os.open(secret, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            app.start(pass_fds=(fd,))
            holders = []
            for pid in [app.proc.pid, app.authd_pid()]:
                for n in os.listdir("/proc/%d/fd" % pid):
                    try:
                        if os.readlink("/proc/%d/fd/%s" % (pid, n)) == secret:
                            holders.append(pid)
                    except FileNotFoundError:
                        pass
            self.assertEqual(holders, [])
            p = poplib.POP3("127.0.0.1", app.port, timeout=10)
            p.user("demo")
            p.pass_("demo")
            p.quit()
        finally:
            os.close(fd)
            app.cleanup()
