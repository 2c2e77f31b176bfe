"""A compromised imapd: the hostile worker (tests/tools/hostile_worker.c) in
imapd's place and under imapd's sandbox (imap_worker = a name with "imap")
speaks the IMAP view of stored directly.  What it gets is the one user
authd verified, read-only message fds, and the end of its stored for any
request the view does not accept now (docs/ARCHITECTURE.md)."""
import os
import re
import socket
import unittest

from harness import TOOLS, Appliance, make_message, proc_status


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestHostileImapd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Appliance(seed=False)  # a directory for the link only
        link = os.path.join(cls.tmp.dir, "hostile_imapd")
        os.symlink(os.path.join(TOOLS, "hostile_worker"), link)
        cls.app = Appliance({"imap_worker": link}).start()
        cls.app.deliver("demo", make_message("for demo", "demo's mail\n"))
        cls.app.deliver("demo2", make_message("for demo2", "demo2's secret\n"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        cls.tmp.cleanup()

    def hostile(self):
        mark = self.app.log_mark()
        s = socket.create_connection(("127.0.0.1", self.app.imap_port), timeout=15)
        f = s.makefile("rb")
        self.assertEqual(f.readline(), b"+OK hostile worker ready\n")
        m = self.app.wait_log(r"event=connect proto=imap ip=\S+ worker_pid=(\d+)", start=mark)
        return s, f, int(m.group(1)), mark

    def ask(self, s, f, line):
        s.sendall(line.encode() + b"\n")
        return f.readline().decode().strip()

    def login(self):
        s, f, pid, mark = self.hostile()
        self.assertEqual(self.ask(s, f, "LOGIN demo demo"), "auth-ok store-fd")
        self.assertEqual(self.ask(s, f, "IMAP-OPEN"), "imap-open final 0x0701")
        return s, f, pid, mark

    def test_runs_under_imapds_sandbox(self):
        s, f, pid, mark = self.hostile()
        st = proc_status(pid)
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(int(st["CapEff"], 16), 0)
        # imapd's filter has memfd_create (APPEND), pop3d's does not: the
        # stand-in took imapd's row
        self.assertEqual(self.ask(s, f, "MEMFD"), "memfd ok")
        s.close()

    def test_only_the_verified_users_mail(self):
        s, f, pid, mark = self.login()
        self.assertEqual(self.ask(s, f, "IMAP-SELECT INBOX"), "imap-select selected messages=1")
        r = self.ask(s, f, "IMAP-MSGFD 1")
        self.assertRegex(r, r"^imap-msgfd msgfd read=\d+ write=Bad file descriptor$")
        self.assertEqual(self.ask(s, f, "IMAP-MSGFD 2"), "imap-msgfd err 2")
        # names that would leave the mail root are refused as names
        for name in ("../demo2", "..", "../../localhost/demo2", "/etc", ".demo2", "a/../../b"):
            self.assertIn(self.ask(s, f, "IMAP-STATUS " + name),
                          ("imap-status err 9", "imap-status err 7"), name)
            self.assertIn(self.ask(s, f, "IMAP-SELECT " + name),
                          ("imap-select err 9", "imap-select err 7"), name)
        self.assertIn(self.ask(s, f, "IMAP-CREATE ../escape"), ("imap-create err 9",))
        self.assertFalse(os.path.exists(os.path.join(self.app.maildir("demo"), "..", "escape")))
        self.assertFalse(os.path.exists(os.path.join(self.app.maildir("demo"), "..", ".escape")))
        s.close()

    def test_pop3_and_deliver_requests_end_the_imap_view(self):
        for cmd, report in (("OPEN", "open stored-closed"), ("DELIVER", "deliver stored-closed"),
                            ("BADTYPE", "badtype stored-closed")):
            s, f, pid, mark = self.login()
            self.assertEqual(self.ask(s, f, cmd), report, cmd)
            s.close()
            self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x0(601|621)|"
                              r"proc=stored .*event=ipc_violation peer=worker type=0x7777",
                              start=mark)

    def test_malformed_name_ends_the_session(self):
        s, f, pid, mark = self.login()
        self.assertEqual(self.ask(s, f, "IMAP-RAWNAME " + "x" * 300), "imap-rawname stored-closed")
        s.close()
        self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x0631", start=mark)

    def test_selected_requests_before_select_end_the_session(self):
        s, f, pid, mark = self.login()
        self.assertEqual(self.ask(s, f, "IMAP-MSGFD 1"), "imap-msgfd stored-closed")
        s.close()
        self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x0635", start=mark)
        log = self.app.log()[mark:]
        self.assertEqual(len(re.findall(r"stored_spawn user=demo@localhost", log)), 1)
        self.assertNotIn("user=demo2", log)

    def test_flags_before_select_ends_the_session(self):
        s, f, pid, mark = self.login()
        self.assertEqual(self.ask(s, f, "IMAP-FLAGS"), "imap-flags stored-closed")
        s.close()
        self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x0643", start=mark)

    def test_flags_after_select(self):
        s, f, pid, mark = self.login()
        self.assertEqual(self.ask(s, f, "IMAP-SELECT INBOX"), "imap-select selected messages=1")
        self.assertEqual(self.ask(s, f, "IMAP-FLAGS"), "imap-flags final 0x0701")
        s.close()

    def test_requests_after_logout_end_the_session(self):
        # LOGOUT releases the lock and ends the view: what follows is a violation
        s, f, pid, mark = self.login()
        self.assertEqual(self.ask(s, f, "IMAP-SELECT INBOX"), "imap-select selected messages=1")
        self.assertEqual(self.ask(s, f, "IMAP-LOGOUT"), "imap-logout final 0x0701")
        self.assertEqual(self.ask(s, f, "IMAP-SELECT INBOX"), "imap-select stored-closed")
        s.close()
        self.app.wait_log(r"proc=stored .*event=ipc_violation peer=worker type=0x0631", start=mark)


if __name__ == "__main__":
    unittest.main()
