"""stored's views and its lock scheme, with real postern-stored processes
spawned as the master spawns them (root, -u/-g/-r of a user, -v VIEW) and a
worker's end of the channel held by the test:

- POP3 holds the mailbox lock exclusive, IMAP shared: IMAP sessions share a
  mailbox, POP3 excludes them and they exclude POP3 ([IN-USE] as before);
- the deliver view writes one message per request into new/ and answers
  with its name only once it is there; its filter may create files, the
  POP3 view's may not (the IMAP view's may too: tests/integration/test_stored_imap.py);
- a view refuses the requests of another view as an IPC violation (the
  master chose the view; the worker cannot switch it).
"""
import os
import socket
import struct
import subprocess
import unittest

from harness import BIN, MAIL_UID, Appliance, wait_until

MSG = {"pop_open": 0x0601, "pop_sizes": 0x0602, "imap_open": 0x0611, "deliver": 0x0621,
       "ok": 0x0701, "err": 0x0702, "sizes": 0x0703, "delivered": 0x0706, "changed": 0x0707}
ERR_INUSE, ERR_TOOBIG = 1, 6


def frame(mtype, payload=b"", fd=False):
    """One IPC datagram (common/ipc/ipc.c): version, flags, type, length, payload."""
    return struct.pack(">BBHI", 1, 1 if fd else 0, mtype, len(payload)) + payload


class Stored:
    """One postern-stored with the test as its worker."""

    def __init__(self, app, view, user="demo"):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        n = theirs.fileno()
        self.log = open(os.path.join(app.dir, "stored-%s.log" % view), "ab")
        cmd = [os.path.join(BIN, "postern-stored"), "-c", app.conf, "-s", "t" + view,
               "-u", str(MAIL_UID), "-g", str(MAIL_UID), "-r", app.maildir(user),
               "-n", user + "@localhost", "-v", view]
        # fd 3 is the worker channel, as the master passes it
        self.proc = subprocess.Popen(["sh", "-c", 'exec "$@" 3<&%d %d<&-' % (n, n), "sh"] + cmd,
                                     pass_fds=(n,), stderr=self.log)
        theirs.close()
        self.sock.settimeout(10)

    def call(self, mtype, payload=b"", fd=None):
        if fd is None:
            self.sock.send(frame(mtype, payload))
        else:
            socket.send_fds(self.sock, [frame(mtype, payload, True)], [fd])
        data = self.sock.recv(70000)
        if not data:
            return None, b""
        return struct.unpack(">H", data[2:4])[0], data[8:]

    def open(self, mtype):
        """(reply type, error code or count)."""
        t, p = self.call(mtype)
        return t, struct.unpack(">I" if t == MSG["err"] else ">Q", p[:4 if t == MSG["err"] else 8])[0]

    def close(self):
        self.sock.close()
        rc = self.proc.wait(timeout=10)
        self.log.close()
        return rc


@unittest.skipUnless(os.geteuid() == 0, "stored is spawned as root, as the master does")
class TestStoredViews(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def stored(self, view):
        s = Stored(self.app, view)
        self.addCleanup(lambda: s.proc.poll() is not None or (s.sock.close(), s.proc.wait(10)))
        return s

    def logs(self):
        text = ""
        for name in os.listdir(self.app.dir):
            if name.startswith("stored-"):
                with open(os.path.join(self.app.dir, name), errors="replace") as f:
                    text += f.read()
        return text

    def test_imap_view_pushes_changes_on_disk(self):
        # another program (an external MTA, another session) changes the
        # Maildir: the open IMAP view tells its worker unasked, once
        a, b = self.stored("imap"), self.stored("imap")
        self.assertEqual(a.open(MSG["imap_open"]), (MSG["ok"], 0))
        self.assertEqual(b.open(MSG["imap_open"]), (MSG["ok"], 0))
        new = os.path.join(self.app.maildir("demo"), "new")
        path = os.path.join(new, "1700000000.M1P1.ext")
        with open(path, "w") as f:
            f.write("Subject: from outside\n\nhello\n")
        for s in (a, b):
            data = s.sock.recv(70000)
            self.assertEqual(struct.unpack(">H", data[2:4])[0], MSG["changed"])
            self.assertEqual(len(data), 8, "no fields")
        os.unlink(path)
        self.assertEqual(a.close(), 0)
        self.assertEqual(b.close(), 0)

    def test_pop3_snapshot_of_a_big_mailbox(self):
        # glibc's qsort of the snapshot (over 1 KiB from 59 messages) asks
        # for the memory size (sysinfo) once: the filter must let it
        root = os.path.join(self.app.mail, "localhost", "bigpop")
        for d in ("", "cur", "new", "tmp"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
            os.chown(os.path.join(root, d), MAIL_UID, MAIL_UID)
        for i in range(100):
            path = os.path.join(root, "new", "%d.M%dP1.big,S=5" % (1600000000 + i, i))
            with open(path, "w") as f:
                f.write("x\n\nx\n")
            os.chown(path, MAIL_UID, MAIL_UID)
        s = Stored(self.app, "pop3", user="bigpop")
        self.addCleanup(lambda: s.proc.poll() is not None or (s.sock.close(), s.proc.wait(10)))
        self.assertEqual(s.open(MSG["pop_open"]), (MSG["ok"], 100))
        self.assertEqual(s.close(), 0)

    def test_imap_shares_pop3_excludes(self):
        a, b = self.stored("imap"), self.stored("imap")
        self.assertEqual(a.open(MSG["imap_open"]), (MSG["ok"], 0))
        self.assertEqual(b.open(MSG["imap_open"]), (MSG["ok"], 0), "two IMAP sessions share the lock")
        p = self.stored("pop3")
        self.assertEqual(p.open(MSG["pop_open"]), (MSG["err"], ERR_INUSE), "POP3 waits for no IMAP session")
        self.assertEqual(a.close(), 0)
        self.assertEqual(p.open(MSG["pop_open"]), (MSG["err"], ERR_INUSE), "one IMAP holder is enough")
        self.assertEqual(b.close(), 0)
        self.assertEqual(p.open(MSG["pop_open"])[0], MSG["ok"], "the lock is free once both are gone")
        c = self.stored("imap")
        self.assertEqual(c.open(MSG["imap_open"]), (MSG["err"], ERR_INUSE), "IMAP excluded by POP3")
        q = self.stored("pop3")
        self.assertEqual(q.open(MSG["pop_open"]), (MSG["err"], ERR_INUSE), "POP3 excludes POP3, as before")
        for s in (p, c, q):
            self.assertEqual(s.close(), 0)

    def deliver(self, s, data, announced=None, sender=b"a@example.org"):
        fd = os.memfd_create("msg")
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        n = len(data) if announced is None else announced
        t, p = s.call(MSG["deliver"], struct.pack(">QI", n, len(sender)) + sender, fd=fd)
        os.close(fd)
        return t, p

    def test_deliver_view_writes_new_then_answers(self):
        s = self.stored("deliver")
        body = b"From: a@example.org\nSubject: via stored\n\nline\n"
        t, p = self.deliver(s, body)
        self.assertEqual(t, MSG["delivered"])
        name = p[4:4 + struct.unpack(">I", p[:4])[0]].decode()
        # the deliver view writes Return-Path and Delivered-To ahead of it
        stored = b"Return-Path: <a@example.org>\nDelivered-To: demo@localhost\n" + body
        self.assertTrue(name.endswith(",S=%d,W=%d" % (len(stored), len(stored) + 6)), name)
        path = os.path.join(self.app.maildir(), "new", name)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), stored)
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (MAIL_UID, 0o600))
        self.assertEqual(self.deliver(s, b"second\n")[0], MSG["delivered"], "one session, many messages")
        t, p = self.deliver(s, b"0123456789", announced=4)
        self.assertEqual((t, struct.unpack(">I", p[:4])[0]), (MSG["err"], ERR_TOOBIG))
        # a sender that would add a header line is an IPC violation (the
        # worker parsed MAIL FROM: it cannot have sent it)
        t, _ = self.deliver(s, b"x\n", sender=b"a@example.org>\r\nX-Evil: 1")
        self.assertIsNone(t, "stored closed the channel")
        self.assertEqual(s.close(), 1)
        s = self.stored("deliver")
        self.assertEqual(os.listdir(os.path.join(self.app.maildir(), "tmp")), [], "tmp/ left clean")
        self.assertEqual(s.close(), 0)
        # the engine's other view sees what the deliver view wrote
        pop = self.stored("pop3")
        t, n = pop.open(MSG["pop_open"])
        self.assertEqual(t, MSG["ok"])
        self.assertGreaterEqual(n, 2)
        self.assertEqual(pop.close(), 0)

    def assert_violation(self, view, mtype, fd=None):
        s = self.stored(view)
        t, _ = s.call(mtype, struct.pack(">Q", 1) if fd is not None else b"", fd=fd)
        self.assertIsNone(t, "stored closed the channel")
        self.assertEqual(s.close(), 1)
        wait_until(lambda: ("event=ipc_violation peer=worker type=0x%04x view=%s" % (mtype, view))
                   in self.logs(), what="ipc_violation in %s view" % view)

    def test_views_refuse_each_others_requests(self):
        fd = os.memfd_create("msg")
        try:
            self.assert_violation("pop3", MSG["deliver"], fd=fd)
            self.assert_violation("imap", MSG["deliver"], fd=fd)
        finally:
            os.close(fd)
        self.assert_violation("deliver", MSG["pop_open"])
        self.assert_violation("imap", MSG["pop_open"])
        # phase: no listing before the mailbox is open
        s = self.stored("pop3")
        self.assertIsNone(s.call(MSG["pop_sizes"], struct.pack(">I", 0))[0])
        self.assertEqual(s.close(), 1)

    def test_unknown_view_refused(self):
        s = Stored(self.app, "smtp")
        self.assertNotEqual(s.proc.wait(timeout=10), 0)
        s.sock.close()
        s.log.close()
        self.assertIn("reason=\"unknown view\" view=smtp", self.logs())


if __name__ == "__main__":
    unittest.main()
