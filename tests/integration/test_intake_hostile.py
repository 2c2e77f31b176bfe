"""Mail intake against a compromised LMTP worker: the stand-in (tests/tools/
hostile_worker.c) speaks the control channel directly.  It can ask where
mail for an address goes and get a deliver-view stored for what the master
resolved, and nothing more: never a user it names, never an index the
master did not give, never a second lookup while one is out."""
import os
import re
import signal
import socket
import unittest

from harness import Appliance, free_port

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "tests")


class TestIntakeHostile(unittest.TestCase):
    service = "lmtp"

    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance({cls.service + "_listen": "127.0.0.1:%d" % cls.lport,
                             cls.service + "_worker": os.path.join(TOOLS, "hostile_worker")})
        cls.app.ctl("user", "add", "off", "-p", "offpw")
        cls.app.ctl("user", "set", "off", "--disable")
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.stop()
        cls.app.cleanup()

    def session(self):
        mark = self.app.log_mark()
        s = socket.create_connection(("127.0.0.1", self.lport), timeout=15)
        f = s.makefile("rb")
        self.assertEqual(f.readline(), b"+OK hostile worker ready\n")
        sid = self.app.wait_log(r"sid=(\w+) level=info event=connect proto=%s" % self.service,
                                start=mark).group(1)
        self.addCleanup(s.close)
        self.addCleanup(f.close)
        return s, f, sid, mark

    def ask(self, s, f, line):
        s.sendall(line.encode() + b"\n")
        return f.readline().decode().strip()

    def test_verdicts_and_a_deliver_stored_for_a_given_index(self):
        s, f, sid, mark = self.session()
        self.assertEqual(self.ask(s, f, "INTAKE-RCPT nobody@localhost"), "rcpt status=1 index=0")
        self.assertEqual(self.ask(s, f, "INTAKE-RCPT off@localhost"), "rcpt status=2 index=0")
        self.assertEqual(self.ask(s, f, "INTAKE-RCPT demo2@localhost"), "rcpt status=0 index=0")
        self.assertEqual(self.ask(s, f, "INTAKE-RCPT demo@localhost"), "rcpt status=0 index=1")
        self.assertEqual(self.ask(s, f, "INTAKE-DELIVER 1"), "deliver-fd")
        # the stored it got is demo's (index 1), in the deliver view; the
        # worker's request names the stored channel itself as the message
        # fd: stored refuses it unread (IPC_FD_FILE) and exits, instead of
        # blocking on its own channel for ever with the mailbox lock held
        self.assertEqual(self.ask(s, f, "DELIVER"), "deliver stored-closed")
        self.app.wait_log(r"sid=%s .*event=stored_spawn user=demo@localhost \S+ role=deliver "
                          r"view=deliver" % sid, start=mark)
        self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker type=0x0621 "
                          r"view=deliver" % sid, start=mark)
        self.app.wait_log(r"sid=%s level=info event=child_exit child=stored pid=\d+ exit=1" % sid,
                          start=mark)
        self.assertNotRegex(self.app.log()[mark:], r"stored_spawn user=demo2@localhost")
        self.assertRegex(self.app.log()[mark:], r'event=rcpt address="nobody@localhost" status=unknown')

    def test_index_never_given_kills_worker(self):
        s, f, sid, mark = self.session()
        self.assertEqual(self.ask(s, f, "INTAKE-RCPT demo@localhost"), "rcpt status=0 index=0")
        self.assertIn(self.ask(s, f, "INTAKE-DELIVER 1"), ("ctl-closed", ""))
        self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker .*type=0x0205" % sid,
                          start=mark)
        self.assertNotIn("role=deliver", self.app.log()[mark:])

    def test_reset_forgets_the_recipients(self):
        s, f, sid, mark = self.session()
        self.assertEqual(self.ask(s, f, "INTAKE-RCPT demo@localhost"), "rcpt status=0 index=0")
        s.sendall(b"INTAKE-RESET\n")
        self.assertEqual(f.readline().strip(), b"sent")
        self.assertIn(self.ask(s, f, "INTAKE-DELIVER 0"), ("ctl-closed", ""))
        self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker .*type=0x0205" % sid,
                          start=mark)

    def test_second_lookup_while_one_is_out_kills_worker(self):
        s, f, sid, mark = self.session()
        # authd held still: the first lookup is surely out when the second
        # arrives (else authd may answer in between, and the second is fair)
        pid = self.app.authd_pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            said = self.ask(s, f, "INTAKE-RCPT demo@localhost twice")
            self.app.wait_log(r"sid=%s level=error event=ipc_violation peer=worker .*type=0x0204"
                              % sid, start=mark)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertRegex(said, r"^(ctl-closed|)$")

    def test_no_login_on_an_intake_service(self):
        s, f, sid, mark = self.session()
        # authd has no channel for this session: the worker's authd fd is dead
        self.assertIn(self.ask(s, f, "LOGIN demo demo"), ("authd-closed", "authd-send-failed",
                                                          "login-failed", "no-store"))
        self.assertNotRegex(self.app.log()[mark:], r"sid=%s .*event=login " % sid)



class TestIntakeHostileSmtp(TestIntakeHostile):
    """The same channel on the SMTP service (the MX): the same limits."""
    service = "smtp"
    # Racy once more: authd may answer the first lookup before the master
    # reads the second, which is then legal.  The master code is the same
    # for both services; the LMTP class keeps the test.
    test_second_lookup_while_one_is_out_kills_worker = None


if __name__ == "__main__":
    unittest.main()
