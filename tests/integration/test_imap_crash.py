"""Invariant 5/6 for IMAP: kill -9 of a session's stored in the middle of a
STORE of thousands of messages leaves an index that opens and agrees with
the Maildir at the next session (mindex.h: files first, then the commit;
the next sync adopts what the files say)."""
import glob
import os
import re
import signal
import socket
import time
import unittest

from harness import Appliance, wait_until

N = 20000


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestStoredKilledMidStore(unittest.TestCase):
    def setUp(self):
        self.app = Appliance().start()
        self.addCleanup(self.app.cleanup)
        self.app.deliver("demo", "Subject: first\n\nx\n")  # the Maildir, made by the user
        md = self.app.maildir("demo")
        st = os.stat(os.path.join(md, "cur"))
        body = "From: a@example.org\nSubject: bulk\n\nbody\n"
        t = int(time.time()) - N
        for i in range(N):
            name = "%d.M%06dP1Q%d.bulk,S=%d,W=%d:2," % (t + i, i, i, len(body), len(body) + 4)
            p = os.path.join(md, "cur", name)
            with open(p, "w") as f:
                f.write(body)
            os.chown(p, st.st_uid, st.st_gid)
        self.md = md

    def session(self):
        s = socket.create_connection(("127.0.0.1", self.app.imap_port), timeout=30)
        f = s.makefile("rb")
        f.readline()
        return s, f

    def cmd(self, s, f, line):
        tag = line.split()[0].encode()
        s.sendall(line.encode() + b"\r\n")
        out = []
        while True:
            l = f.readline()
            if not l:
                return out, None
            if l.startswith(tag + b" "):
                return out, l
            out.append(l)

    def flagged_on_disk(self):
        return sum(1 for p in glob.glob(os.path.join(self.md, "cur", "*"))
                   if "F" in p.rsplit(":2,", 1)[-1])

    def test_kill_9_mid_store(self):
        mark = self.app.log_mark()
        s, f = self.session()
        self.cmd(s, f, "a LOGIN demo demo")
        _, ok = self.cmd(s, f, "b SELECT INBOX")
        self.assertTrue(ok.startswith(b"b OK"), ok)
        spid = int(self.app.wait_log(r"stored_pid=(\d+) role=mailbox view=imap", start=mark).group(1))
        s.sendall(b"c UID STORE 1:* +FLAGS.SILENT (\\Flagged)\r\n")
        # some renames done, the command not finished: kill the store there
        wait_until(lambda: self.flagged_on_disk() > 0, timeout=30, what="renames under way")
        os.kill(spid, signal.SIGKILL)
        s.close()
        on_disk = self.flagged_on_disk()
        self.assertLess(on_disk, N + 1, "the STORE finished before the kill: nothing tested")
        # a new session: the index opens and says what the files say
        s, f = self.session()
        self.cmd(s, f, "a LOGIN demo demo")
        lines, ok = self.cmd(s, f, "b SELECT INBOX")
        self.assertTrue(ok.startswith(b"b OK"), (ok, lines))
        self.assertIn(b"* %d EXISTS\r\n" % (N + 1), lines)
        lines, ok = self.cmd(s, f, "c FETCH 1:* (FLAGS)")
        self.assertTrue(ok.startswith(b"c OK"), ok)
        flagged = sum(1 for l in lines if re.search(rb"FLAGS \([^)]*\\Flagged", l))
        self.assertEqual(len(lines), N + 1)
        self.assertEqual(flagged, self.flagged_on_disk())
        # and the STORE, done again, completes
        _, ok = self.cmd(s, f, "d UID STORE 1:* +FLAGS.SILENT (\\Flagged)")
        self.assertTrue(ok.startswith(b"d OK"), ok)
        self.assertEqual(self.flagged_on_disk(), N + 1)
        self.cmd(s, f, "e LOGOUT")
        s.close()


if __name__ == "__main__":
    unittest.main()
