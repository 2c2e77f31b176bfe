"""authd's checkpassword backend (docs/AUTH.md#backends): a shell script
behind the DJB interface (fd 3: login, password, timestamp; exit 0 good,
1 bad, 111 temporary), in the chain `userdb checkpw`: logins over IMAP
and POP3, the output's key=value lines, a wrong password, a temporary
failure, a program that hangs (killed at auth_backend_timeout_ms), the
identity the program runs with and the helper's live privileges."""
import os
import poplib
import shutil
import signal
import tempfile
import time
import unittest

from harness import (BIN, TOOLS, Appliance, hostile_ask, hostile_session, proc_status, wait_until,
                     imap_login_result, pop3_login_result)

SCRIPT = r"""#!/bin/sh
# reads login NUL password NUL timestamp NUL from fd 3
all=$(tr '\000' '\n' <&3)
login=$(printf '%s\n' "$all" | sed -n 1p)
pass=$(printf '%s\n' "$all" | sed -n 2p)
stamp=$(printf '%s\n' "$all" | sed -n 3p)
id -u > "@OUT@/uid"
echo "$stamp" > "@OUT@/stamp"
case "$login:$pass" in
erin@localhost:erinpw) echo "quota=5000S"; echo "options=disablepop3=0"; exec "$@" ;;
fay@localhost:faypw) echo "options=disableimap=1"; exec "$@" ;;
slow@localhost:*) sleep 60; exit 0 ;;
temp@localhost:*) exit 111 ;;
*) exit 1 ;;
esac
"""


class TestAuthCheckpw(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-checkpw-")
        os.chmod(cls.dir, 0o755)
        cls.out = os.path.join(cls.dir, "out")
        os.mkdir(cls.out)
        os.chmod(cls.out, 0o777)
        cls.script = os.path.join(cls.dir, "checkpw.sh")
        with open(cls.script, "w") as f:
            f.write(SCRIPT.replace("@OUT@", cls.out))
        os.chmod(cls.script, 0o755)
        cls.app = Appliance({"auth_backends": "userdb checkpw",
                             "checkpw_command": cls.script + " /bin/true",
                             "auth_backend_timeout_ms": "1500", "auth_fail_ip_max": "1000"})
        try:
            cls.app.start()
            cls.app.wait_log(r"proc=auth-checkpw pid=\d+ level=info event=ready backend=checkpw")
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def imap_login(self, user, password):
        return imap_login_result(self.app, user, password)

    def pop3_login(self, user, password):
        return pop3_login_result(self.app, user, password)

    def test_logins(self):
        mark = self.app.log_mark()
        self.assertEqual(self.imap_login("erin", "erinpw"), "OK")
        self.assertEqual(self.pop3_login("erin@localhost", "erinpw"), "OK")
        self.app.wait_log(r"event=login service=pop3 ip=127\.0\.0\.1 user=erin@localhost mech=USER "
                          r"backend=checkpw", start=mark)
        self.assertEqual(self.imap_login("demo", "demo"), "OK")  # the user db first
        with open(os.path.join(self.out, "uid")) as f:
            self.assertEqual(f.read().strip(), "7004")  # auth_helper_uid
        with open(os.path.join(self.out, "stamp")) as f:
            self.assertTrue(f.read().strip().isdigit())

    def test_output_options(self):
        mark = self.app.log_mark()
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("fay", "faypw"))
        self.assertEqual(self.pop3_login("fay", "faypw"), "OK")
        self.app.wait_log(r"event=auth_failed service=imap .*user=\"fay@localhost\" "
                          r"reason=\"this service is switched off", start=mark)

    def test_wrong_password_and_unknown(self):
        mark = self.app.log_mark()
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("erin", "nope"))
        self.assertIn("-ERR", self.pop3_login("nobody", "x"))
        self.app.wait_log(r"event=auth_failed service=imap .*user=\"erin@localhost\" "
                          r"reason=\"wrong password \(checkpw\)\" mech=\S+ backend=checkpw", start=mark)

    def test_temporary_failure_and_timeout(self):
        mark = self.app.log_mark()
        self.assertIn("[UNAVAILABLE]", self.imap_login("temp", "x"))
        self.assertIn("[SYS/TEMP]", self.pop3_login("slow", "x"))
        self.app.wait_log(r"event=checkpw_failed user=\"slow@localhost\" reason=\"killed at "
                          r"auth_backend_timeout_ms", start=mark)
        # the helper goes on
        self.assertEqual(self.pop3_login("erin", "erinpw"), "OK")

    def test_a_stopped_helper_never_blocks_authd(self):
        pid = self.app.child_pid("postern-auth-checkpw")
        mark = self.app.log_mark()
        os.kill(pid, signal.SIGSTOP)
        try:
            c = poplib.POP3("127.0.0.1", self.app.port, timeout=20)
            c.user("erin")
            c.sock.sendall(b"PASS erinpw\r\n")   # the answer comes later
            # meanwhile authd serves everyone else at once
            started = time.monotonic()
            self.assertEqual(self.pop3_login("demo", "demo"), "OK")
            self.assertLess(time.monotonic() - started, 1.0)
            self.assertIn(b"[SYS/TEMP]", c.file.readline())
            c.close()
            self.app.wait_log(r"event=backend_timeout backend=checkpw id=\d+ timeout_ms=1500",
                              start=mark)
        finally:
            os.kill(pid, signal.SIGCONT)
        # the late answer is dropped, the helper goes on
        self.app.wait_log(r"event=backend_late backend=checkpw", start=mark)
        self.assertEqual(self.pop3_login("erin", "erinpw"), "OK")

    def test_a_killed_helper_is_started_again(self):
        pid = self.app.child_pid("postern-auth-checkpw")
        mark = self.app.log_mark()
        os.kill(pid, signal.SIGKILL)
        self.app.wait_log(r"event=child_died child=auth-checkpw signal=9", start=mark)
        self.app.wait_log(r"event=backend_up backend=checkpw helper_pid=(?!%d\b)\d+" % pid,
                          start=mark)
        wait_until(lambda: self.pop3_login("erin", "erinpw") == "OK", 10, "a login again")
        self.assertNotEqual(self.app.child_pid("postern-auth-checkpw"), pid)

    def test_helper_privileges(self):
        pid = self.app.child_pid("postern-auth-checkpw")
        self.assertIsNotNone(pid)
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), ["7004"] * 4)
        self.assertEqual(st["Gid"].split(), ["7004"] * 4)
        self.assertEqual(st["Groups"], "")
        self.assertEqual(st["CapEff"], "0000000000000000")
        self.assertEqual(st["CapPrm"], "0000000000000000")
        self.assertEqual(st["CapBnd"], "0000000000000000")
        self.assertEqual(st["NoNewPrivs"], "1")
        fds = sorted(int(f) for f in os.listdir("/proc/%d/fd" % pid))
        self.assertLessEqual(len(fds), 5, fds)  # 0-2, authd's channel, (the config)


if __name__ == "__main__":
    unittest.main()


class TestForgedBackend(unittest.TestCase):
    """A worker that sends authd the master's MSG_AUTHD_BACKEND, offering
    its own channel as a backend helper's (authd would then send it other
    sessions' names and checkpw passwords): authd closes that channel and
    the real helper keeps serving."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-checkpw-")
        os.chmod(cls.dir, 0o755)
        cls.out = os.path.join(cls.dir, "out")
        os.mkdir(cls.out)
        os.chmod(cls.out, 0o777)
        script = os.path.join(cls.dir, "checkpw.sh")
        with open(script, "w") as f:
            f.write(SCRIPT.replace("@OUT@", cls.out))
        os.chmod(script, 0o755)
        cls.app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker"),
                             "auth_backends": "userdb checkpw", "checkpw_command": script + " /bin/true"})
        try:
            cls.app.start()
            cls.app.wait_log(r"proc=auth-checkpw pid=\d+ level=info event=ready")
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_forged_backend_channel_closes_the_worker_channel(self):
        s, f, sid, mark = hostile_session(self.app)
        try:
            self.assertEqual(hostile_ask(s, f, "FORGE-BACKEND"), "sent")
            self.assertEqual(f.readline().strip(), b"authd-closed")
        finally:
            f.close()
            s.close()
        self.assertNotIn("event=backend_up backend=pgsql", self.app.log()[mark:])
        s, f, sid, mark = hostile_session(self.app)
        try:
            self.assertEqual(hostile_ask(s, f, "LOGIN erin erinpw"), "auth-ok store-fd")
        finally:
            f.close()
            s.close()


class TestHostileHelper(unittest.TestCase):
    """A compromised backend helper (tests/tools/hostile_helper in
    postern-auth-checkpw's place): what authd and the master make of
    what it says.  It can vouch for a name authd asked about (that is what
    a backend is), nothing more: not for another user, not with the ids of
    Postern's own processes, not with a mail root outside the rules; a
    reply out of form closes its channel, and silence is a timeout."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="postern-hostile-helper-")
        os.chmod(cls.dir, 0o755)
        for b in os.listdir(BIN):
            if b.startswith("postern-") and b != "postern-auth-checkpw":
                os.symlink(os.path.join(BIN, b), os.path.join(cls.dir, b))
        os.symlink(os.path.join(TOOLS, "hostile_helper"), os.path.join(cls.dir, "postern-auth-checkpw"))
        cls.app = Appliance({"libexec_dir": cls.dir, "auth_backends": "userdb checkpw",
                             "checkpw_command": "/bin/true", "auth_backend_timeout_ms": "1000",
                             "auth_fail_ip_max": "1000", "restart_backoff_max": "1"})
        try:
            cls.app.start()
            cls.app.wait_log(r"proc=auth-checkpw pid=\d+ level=info event=ready backend=checkpw "
                             r"hostile=yes")
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    pop3_login = TestAuthCheckpw.pop3_login

    def test_it_vouches_for_the_name_asked_about(self):
        self.assertEqual(self.pop3_login("ok", "anything"), "OK")

    def test_not_for_another_user(self):
        mark = self.app.log_mark()
        self.assertIn("[SYS/TEMP]", self.pop3_login("other", "x"))
        self.app.wait_log(r"user=\"other@localhost\" reason=\"backend checkpw: answered for "
                          r"another user\"", start=mark)
        self.assertNotIn("stored_spawn user=demo@localhost", self.app.log()[mark:])

    def test_not_with_a_service_uid(self):
        mark = self.app.log_mark()
        self.assertIn("[SYS/TEMP]", self.pop3_login("keyd", "x"))
        self.app.wait_log(r"reason=\"backend checkpw: named the uid or gid of a Postern process\"",
                          start=mark)
        self.assertNotIn("stored_spawn", self.app.log()[mark:])

    def test_a_reply_out_of_form_closes_its_channel(self):
        for name in ("escape", "garbage"):
            mark = self.app.log_mark()
            self.assertIn("[SYS/TEMP]", self.pop3_login(name, "x"))
            self.app.wait_log(r"event=ipc_violation peer=auth-checkpw", start=mark)
            # the master starts a new one, authd gets its channel
            self.app.wait_log(r"event=backend_up backend=checkpw", start=mark)
            wait_until(lambda: self.pop3_login("ok", "x") == "OK", 10, "the helper back")
        self.assertNotIn("stored_spawn user=escape", self.app.log())

    def test_silence_is_a_timeout(self):
        mark = self.app.log_mark()
        self.assertIn("[SYS/TEMP]", self.pop3_login("silent", "x"))
        self.app.wait_log(r"event=backend_timeout backend=checkpw", start=mark)
        self.assertEqual(self.pop3_login("ok", "x"), "OK")
