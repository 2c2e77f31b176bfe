"""An idle session's stored gives back its mappings of the index file
(imap_index_release_ms): after the quiet period no page of data.mdb is
mapped in it, the next command maps what it reads and answers as before;
with 0 the pages stay mapped."""
import imaplib
import os
import time
import unittest

from harness import Appliance, make_message, wait_until


def index_rss_kib(pid):
    """Rss of the data.mdb mapping in pid's smaps (KiB), None if none."""
    rss, inside = None, False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                inside = line.rstrip().endswith("/data.mdb")
            elif inside and parts[0] == "Rss:":
                rss = (rss or 0) + int(parts[1])
    return rss


def close(c):
    try:
        c.shutdown()
    except OSError:
        pass  # logged out already


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestIndexRelease(unittest.TestCase):
    def start(self, overrides=None):
        self.app = Appliance(overrides).start()
        self.addCleanup(self.app.cleanup)
        for i in range(30):
            self.app.deliver("demo", make_message("note %d" % i, "body %d\n" % i))
        c = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=30)
        self.addCleanup(close, c)
        c.login("demo", "demo")
        self.assertEqual(c.select("INBOX")[0], "OK")
        pids = self.app.children("postern-stored")
        self.assertEqual(len(pids), 1)
        return c, pids[0]

    def test_quiet_session_unmaps_its_index(self):
        c, pid = self.start()
        wait_until(lambda: index_rss_kib(pid) == 0, what="data.mdb unmapped after SELECT")
        # the next command reads through the map again, the same answers
        typ, data = c.uid("FETCH", "1:*", "(FLAGS ENVELOPE)")
        self.assertEqual(typ, "OK")
        text = b"\n".join(d[0] + d[1] if isinstance(d, tuple) else d for d in data)
        self.assertEqual(text.count(b"ENVELOPE"), 30)
        self.assertIn(b"note 29", text)
        wait_until(lambda: index_rss_kib(pid) == 0, what="data.mdb unmapped after FETCH")
        typ, data = c.store("1:5", "+FLAGS", "(\\Seen)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data), 5)
        wait_until(lambda: index_rss_kib(pid) == 0, what="data.mdb unmapped after STORE")
        typ, data = c.search(None, "SEEN")
        self.assertEqual(data[0].split(), [b"1", b"2", b"3", b"4", b"5"])
        self.assertEqual(c.logout()[0], "BYE")
        self.assertNotIn("index_release", self.app.log())

    def test_zero_keeps_the_pages(self):
        c, pid = self.start({"imap_index_release_ms": "0"})
        self.assertGreater(index_rss_kib(pid) or 0, 0)
        # commands for longer than the default's 100 ms (not a sleep: each
        # round trip is a check): with 0 the pages stay mapped throughout
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            self.assertEqual(c.noop()[0], "OK")
            self.assertGreater(index_rss_kib(pid) or 0, 0)
        c.logout()


if __name__ == "__main__":
    unittest.main()
