"""A user's quota (posternctl user add -q) through IMAP (RFC 9208): GETQUOTAROOT and
GETQUOTA show the limit and the use, APPEND and COPY that would pass it get
NO [OVERQUOTA] and change nothing, EXPUNGE gives the room back."""
import re
import unittest

from imappeer import RawImap, make_peer

QUOTA = 10240          # bytes: 10 KiB
MSG = "From: q@example.org\r\nSubject: %s\r\n\r\n" + "q" * 3000 + "\r\n"


class TestImapQuota(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer()
        if cls.peer.name != "postern":
            cls.peer.cleanup()
            raise unittest.SkipTest("per-user quotas are set through posternctl here")
        cls.peer.add_user("quser", "pw-quser", quota=QUOTA)

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def append(self, s, box, subject):
        body = MSG % subject
        return s.cmd("APPEND %s {%d+}\r\n%s" % (box, len(body), body), ok=False)

    def usage(self, s):
        got, _ = s.cmd("GETQUOTAROOT INBOX")
        q = [r for r in got if r.startswith("* QUOTA ")]
        self.assertTrue(q, got)
        m = re.search(r"STORAGE (\d+) (\d+)", q[0])
        self.assertIsNotNone(m, q)
        return int(m.group(1)), int(m.group(2))

    def test_quota_limits_append_and_copy(self):
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        s.login("quser", "pw-quser")
        used, limit = self.usage(s)
        self.assertEqual((used, limit), (0, QUOTA // 1024))
        for i in range(3):                      # 3 x ~3 KB: 9 KB of 10
            _, tagged = self.append(s, "INBOX", "q%d" % i)
            self.assertTrue(tagged.split()[1] == "OK", tagged)
        used, _ = self.usage(s)
        self.assertIn(used, (8, 9))
        _, tagged = self.append(s, "INBOX", "over")
        self.assertRegex(tagged, r"^t\d+ NO \[OVERQUOTA\]")
        s.cmd("CREATE INBOX.Copy")
        s.cmd("SELECT INBOX")
        got, tagged = s.cmd("COPY 1 INBOX.Copy", ok=False)
        self.assertRegex(tagged, r"^t\d+ NO \[OVERQUOTA\]")
        got, _ = s.cmd("STATUS INBOX.Copy (MESSAGES)")
        self.assertIn("MESSAGES 0", " ".join(got))
        got, _ = s.cmd("STATUS INBOX (MESSAGES)")
        self.assertIn("MESSAGES 3", " ".join(got))
        # MOVE within the quota is fine (nothing is added)
        got, tagged = s.cmd("MOVE 1 INBOX.Copy", ok=False)
        self.assertTrue(tagged.split()[1] == "OK", tagged)
        # room comes back with EXPUNGE
        s.cmd("STORE 1:* +FLAGS.SILENT (\\Deleted)")
        s.cmd("EXPUNGE")
        used, _ = self.usage(s)
        self.assertIn(used, (2, 3))
        _, tagged = self.append(s, "INBOX", "again")
        self.assertTrue(tagged.split()[1] == "OK", tagged)

    def test_multiappend_is_all_or_none(self):
        """RFC 3502: a MULTIAPPEND that cannot append every message appends
        none (here the quota holds two of the three messages)."""
        self.peer.add_user("quser3", "pw-quser3", quota=QUOTA)
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        s.login("quser3", "pw-quser3")
        bodies = [MSG % ("m%d" % i) for i in range(4)]
        parts = " ".join("{%d+}\r\n%s" % (len(b), b) for b in bodies)
        _, tagged = s.cmd("APPEND INBOX " + parts, ok=False)
        self.assertRegex(tagged, r"^t\d+ NO \[OVERQUOTA\]")
        got, _ = s.cmd("STATUS INBOX (MESSAGES UIDNEXT)")
        self.assertIn("MESSAGES 0", " ".join(got))
        self.assertEqual(self.usage(s)[0], 0)
        # three fit: one command, three consecutive UIDs
        parts = " ".join("{%d+}\r\n%s" % (len(b), b) for b in bodies[:3])
        _, tagged = s.cmd("APPEND INBOX " + parts)
        m = re.search(r"\[APPENDUID (\d+) (\d+):(\d+)\]", tagged)
        self.assertIsNotNone(m, tagged)
        self.assertEqual(int(m.group(3)) - int(m.group(2)), 2)
        got, _ = s.cmd("STATUS INBOX (MESSAGES)")
        self.assertIn("MESSAGES 3", " ".join(got))


if __name__ == "__main__":
    unittest.main()
