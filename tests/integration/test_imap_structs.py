"""ENVELOPE, BODY and BODYSTRUCTURE from stored's index (RFC 9051 6.4.5):
stored parses a message file once, keeps the three texts and serves them
again without reading the file; the worker writes them as it would its own
rendering, and reads the file itself for a structure too big to keep."""
import os
import re
import unittest

from harness import wait_until
from imappeer import PosternPeer, RawImap

PLAIN = ("From: Alice <alice@example.org>\r\nTo: bob@example.org, \"Carol C.\" <carol@example.org>\r\n"
         "Subject: =?utf-8?q?caf=C3=A9?= plans\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
         "Message-ID: <m%d@example.org>\r\n\r\nline one\r\nline two\r\n")


def multipart(n):
    parts = "".join("--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\npart %d\r\n" % i
                    for i in range(n))
    return ("From: a@example.org\r\nSubject: %d parts\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n%s--b--\r\n" % (n, parts))


def items(lines):
    """{seq: text after 'FETCH (' } of the FETCH responses."""
    out = {}
    for l in lines:
        m = re.match(r"\* (\d+) FETCH \((.*)\)$", l, re.S)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestKeptStructures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = PosternPeer({"log_level": "debug"}).start()
        cls.peer.add_user("st", "pw-st")
        for i in range(5):
            cls.peer.deliver("st", PLAIN % i)
        cls.peer.deliver("st", multipart(3))
        cls.peer.deliver("st", multipart(1500))   # its BODYSTRUCTURE is over a page

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def session(self):
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        s.login("st", "pw-st")
        s.cmd("SELECT INBOX")
        return s

    def made(self):
        return [int(n) for n in re.findall(r"event=structs_made count=(\d+)", self.peer.app.log())]

    def test_kept_texts_equal_the_workers_own_rendering(self):
        s = self.session()
        mark = self.peer.app.log_mark()
        first, _ = s.cmd("FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)")
        wait_until(lambda: self.made(), 10, "stored making the structures")
        self.assertEqual(self.made()[-1], 6)       # all but the one too big to keep
        again, _ = s.cmd("FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)")
        self.assertEqual(items(first), items(again))
        self.assertEqual(len(items(first)), 7)
        # a section in the same FETCH: the worker reads and parses every file
        own, _ = s.cmd("FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (X-NONE)])")
        for seq, text in items(own).items():
            self.assertTrue(text.startswith(items(first)[seq]), (seq, text[:200]))
        # kept: a second session asks again and nothing is made
        s2 = self.session()
        n = len(self.made())
        later, _ = s2.cmd("UID FETCH 1:* (ENVELOPE BODYSTRUCTURE FLAGS)")
        self.assertEqual(len(self.made()), n)
        self.assertEqual(len(items(later)), 7)
        self.assertIn('"=?utf-8?q?caf=C3=A9?= plans"', items(later)[1])
        self.assertNotIn("ipc_violation", self.peer.app.log()[mark:])
        self.assertNotIn("sandbox_kill", self.peer.app.log()[mark:])

    def test_too_big_to_keep_still_answers(self):
        s = self.session()
        got, _ = s.cmd("FETCH 7 (BODYSTRUCTURE)")
        text = items(got)[7]
        self.assertEqual(text.count('("text" "plain"'), 1500)

    def test_expunged_message_takes_its_structure_along(self):
        self.peer.deliver("st", PLAIN % 99)
        s = self.session()
        got, _ = s.cmd("UID SEARCH SUBJECT plans")
        uid = int(got[0].split()[-1]) if got and got[0].split()[-1].isdigit() else None
        s.cmd("FETCH * (ENVELOPE)")
        s.cmd("STORE * +FLAGS.SILENT (\\Deleted)")
        s.cmd("EXPUNGE")
        got, _ = s.cmd("FETCH 1:* (ENVELOPE)")
        self.assertEqual(len(items(got)), 7)
        self.assertIsNotNone(uid)


if __name__ == "__main__":
    unittest.main()
