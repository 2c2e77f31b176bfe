"""A 100,000-message INBOX made directly on disk (Maildir++ names with ,S= and ,W=
sizes in cur/, as Courier and Dovecot leave them), then SELECT, UID FETCH 1:*,
UID COPY and UID MOVE of 10,000, STORE of 10,000 and EXPUNGE of 10,000.
Functional, not timed: each step only has a generous deadline."""
import os
import re
import time
import unittest

from imappeer import RawImap, make_peer

N = 100000
BATCH = 10000
TEXT = "From: bulk@example.org\nTo: demo@localhost\nSubject: bulk %06d\nMessage-ID: <bulk-%06d@example.org>\n\nmessage %06d\n"


class TestImapLarge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer()
        cls.user = "bulk"
        cls.peer.add_user(cls.user, "pw-bulk")
        # one delivery makes the Maildir as the server wants it (owner, modes); then
        # that message goes and the bulk is written straight into cur/
        cls.peer.deliver(cls.user, TEXT % (0, 0, 0))
        new = os.path.join(cls.peer.maildir(cls.user), "new")
        for n in os.listdir(new):
            os.unlink(os.path.join(new, n))
        cur = os.path.join(cls.peer.maildir(cls.user), "cur")
        base = int(time.time()) - N
        uid = gid = cls.peer.mail_uid
        for i in range(N):
            body = TEXT % (i, i, i)
            size = len(body)
            wsize = size + body.count("\n")
            # unique, sortable names in delivery order; flags in the info part
            name = "%d.M%06dP1V1I%d.bulkhost,S=%d,W=%d:2,%s" % (
                base + i, i, i, size, wsize, "S" if i % 2 else "")
            path = os.path.join(cur, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, body.encode())
            os.close(fd)
            os.chown(path, uid, gid)
            os.utime(path, (base + i, base + i))

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def count(self, responses, rx):
        return sum(1 for r in responses if rx.match(r))

    def test_large_mailbox(self):
        s = RawImap(self.peer, timeout=300)
        self.addCleanup(s.close)
        s.login(self.user, "pw-bulk")
        got, tagged = s.cmd("SELECT INBOX")
        self.assertIn("* %d EXISTS" % N, got)
        uidnext = [r for r in got if "UIDNEXT" in r]
        self.assertTrue(uidnext and "[UIDNEXT %d]" % (N + 1) in uidnext[0], uidnext)

        got, _ = s.cmd("UID FETCH 1:* (UID FLAGS)")
        rx = re.compile(r"\* (\d+) FETCH \((?=.*UID (\d+))(?=.*FLAGS \(([^)]*)\)).*\)$")
        rows = [rx.match(r) for r in got]
        rows = [m for m in rows if m]
        self.assertEqual(len(rows), N)
        self.assertEqual([int(m.group(2)) for m in rows[:3]], [1, 2, 3])
        self.assertEqual(int(rows[-1].group(1)), N)
        self.assertEqual(int(rows[-1].group(2)), N)
        seen = sum(1 for m in rows if "\\Seen" in m.group(3))
        self.assertEqual(seen, N // 2)

        # the sizes from the names are the CRLF sizes
        got, _ = s.cmd("FETCH 1,%d (RFC822.SIZE)" % N)
        for i, seq in ((0, 1), (N - 1, N)):
            body = TEXT % (i, i, i)
            self.assertIn("* %d FETCH (RFC822.SIZE %d)" % (seq, len(body) + body.count("\n")), got)

        s.cmd("CREATE INBOX.Copies")
        s.cmd("CREATE INBOX.Moved")
        got, tagged = s.cmd("UID COPY 1:%d INBOX.Copies" % BATCH)
        self.assertRegex(tagged, r"OK \[COPYUID \d+ 1:%d 1:%d\]" % (BATCH, BATCH))
        self.assertEqual(self.count(got, re.compile(r"\* \d+ EXPUNGE$")), 0)

        got, tagged = s.cmd("UID MOVE %d:%d INBOX.Moved" % (BATCH + 1, 2 * BATCH))
        self.assertEqual(self.count(got, re.compile(r"\* \d+ EXPUNGE$")), BATCH)
        copyuid = [r for r in got + [tagged] if "COPYUID" in r]
        self.assertTrue(copyuid, got[:3])
        self.assertIn(" 1:%d]" % BATCH, copyuid[0])

        got, _ = s.cmd("STORE 1:%d +FLAGS (\\Flagged)" % BATCH)
        self.assertEqual(self.count(got, re.compile(r"\* \d+ FETCH \(.*\\Flagged.*\)$")), BATCH)
        got, _ = s.cmd("SEARCH FLAGGED")
        hits = [r for r in got if r.startswith("* SEARCH")]
        self.assertEqual(len(hits[0].split()) - 2, BATCH)

        s.cmd("STORE %d:%d +FLAGS.SILENT (\\Deleted)" % (N - 2 * BATCH - BATCH + 1, N - 2 * BATCH))
        got, _ = s.cmd("EXPUNGE")
        self.assertEqual(self.count(got, re.compile(r"\* \d+ EXPUNGE$")), BATCH)

        got, _ = s.cmd("STATUS INBOX.Copies (MESSAGES)")
        self.assertTrue(any(re.search(r"\(MESSAGES %d\)" % BATCH, r) for r in got), got)
        got, _ = s.cmd("STATUS INBOX.Moved (MESSAGES)")
        self.assertTrue(any(re.search(r"\(MESSAGES %d\)" % BATCH, r) for r in got), got)
        got, _ = s.cmd("NOOP")
        got, _ = s.cmd("UID SEARCH ALL")
        uids = [int(x) for x in [r for r in got if r.startswith("* SEARCH")][0].split()[2:]]
        self.assertEqual(len(uids), N - 2 * BATCH)
        self.assertEqual(uids[:2], [1, 2])
        self.assertNotIn(BATCH + 1, uids)         # moved
        self.assertNotIn(N - BATCH, uids)         # expunged: sequence 70,001..80,000 were UIDs 80,001..90,000
        s.cmd("LOGOUT")
        # the files agree
        md = self.peer.maildir(self.user)
        self.assertEqual(len(os.listdir(os.path.join(md, "cur"))) + len(os.listdir(os.path.join(md, "new"))),
                         N - 2 * BATCH)
        self.assertEqual(len(os.listdir(os.path.join(md, ".Moved", "cur"))) +
                         len(os.listdir(os.path.join(md, ".Moved", "new"))), BATCH)


if __name__ == "__main__":
    unittest.main()
