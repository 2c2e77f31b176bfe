"""Durability of mail intake under kill -9 (issue 10, invariant 5).

1,000 deliveries over LMTP and SMTP from several client threads; a seeded
RNG chooses, for some of them, a process to kill -9 and the moment: the
worker (postern-lmtpd or postern-smtpd) right after a RCPT was accepted,
right after the client sent the final dot, or in the middle of BDAT
chunks; or the deliver-view postern-stored of that delivery as soon as it
exists after the final dot.  The kill is sent by the test when it reaches
that point of the dialogue, never after a sleep.

Afterwards, for every user: every message that got 250 is in new/ exactly
once and byte-identical to what was sent (after the Return-Path and
Delivered-To lines stored adds, and for SMTP its Received header); a
message that did not get 250 is not in new/ or cur/, except in the one
window no SMTP receiver can close (RFC 5321 6.1): the copy was durable and
the process died before the 250 reached the client.  Those are counted,
must be whole, and must come only from a kill after the final dot (a
kill in the middle of BDAT leaves nothing visible).  tmp/
may keep the file of a copy cut short: stored never lists tmp/ (IMAP and
POP3 see only new/ and cur/).
"""
import os
import random
import re
import select
import signal
import socket
import threading
import time
import unittest

from harness import Appliance, delivery_headers, free_port

SEED = int(os.environ.get("DURABILITY_SEED", "20261201"))
TOTAL = 1000
THREADS = 8
KILL_RATE = 0.12
SCENARIOS = ("worker_rcpt", "worker_dot", "worker_bdat", "stored_dot")
TOKEN = re.compile(rb"^Subject: m([0-9]+)-([0-9]+)\n", re.M)
RECEIVED = re.compile(rb"^Received: [^\n]*\n(?:\t[^\n]*\n)*")


def message(t, i):
    """A small message with a unique subject, a leading-dot line (the
    dot-stuffing) and an 8-bit line; CRLF line ends, as on the wire."""
    return (b"From: s@example.org\r\nTo: u%d@localhost\r\nSubject: m%d-%d\r\n"
            b"Message-ID: <m%d-%d@durability.test>\r\n\r\n"
            b".a line with a leading dot\r\ncaf\xc3\xa9\r\n%s\r\nend\r\n"
            % (t, t, i, t, i, b"x" * (40 + 7 * i % 300)))


def stuffed(msg):
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in msg.split(b"\r\n"))


class Conn:
    """One raw LMTP or SMTP connection, read line by line."""

    def __init__(self, port, lmtp):
        self.lmtp = lmtp
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        if not self.reply().startswith("220"):
            raise OSError("no greeting")
        self.s.sendall(b"LHLO client.test\r\n" if lmtp else b"EHLO client.test\r\n")
        if not self.reply().startswith("250"):
            raise OSError("no LHLO/EHLO")

    def reply(self):
        while True:
            try:
                line = self.f.readline()
            except ConnectionResetError:
                return ""
            if not line:
                return ""   # EOF: no reply (a reset is the same)
            if line[3:4] != b"-":
                return line.decode("ascii", "replace").strip()

    def cmd(self, line):
        self.s.sendall(line)
        return self.reply()

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except OSError:
            pass


class TestIntakeDurability(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance({"lmtp_listen": "127.0.0.1:%d" % cls.lport, "log_level": "warn"})
        for t in range(THREADS):
            cls.app.ctl("user", "add", "u%d" % t, "-p", "pw-u%d" % t)
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    # -- finding the process to kill --------------------------------------
    def children(self, comm):
        return self.app.children(comm)

    def worker_of(self, conn):
        """The worker holding the server end of conn (its socket inode)."""
        cport = conn.s.getsockname()[1]
        sport = conn.s.getpeername()[1]
        want = "0100007F:%04X" % sport, "0100007F:%04X" % cport
        inode = None
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if (p[1], p[2]) == want:
                    inode = p[9]
        self.assertIsNotNone(inode, "no server socket for port %d" % cport)
        link = "socket:[%s]" % inode
        for pid in self.children("postern-lmtpd" if conn.lmtp else "postern-smtpd"):
            try:
                for fd in os.listdir("/proc/%d/fd" % pid):
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == link:
                        return pid
            except OSError:
                continue
        raise AssertionError("no worker holds port %d" % cport)

    def stored_of(self, user):
        """The deliver-view stored of user (chrooted into its Maildir), or None."""
        root = os.path.realpath(self.app.maildir(user))
        for pid in self.children("postern-stored"):
            try:
                if root in (os.readlink("/proc/%d/root" % pid), os.readlink("/proc/%d/cwd" % pid)):
                    return pid
            except OSError:
                continue
        return None

    @staticmethod
    def kill(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    # -- one client thread -------------------------------------------------
    def client(self, t, count, results, errors):
        rng = random.Random(SEED * 31 + t)
        user = "u%d" % t
        conn = None
        try:
            for i in range(count):
                if conn is None:
                    lmtp = rng.random() < 0.5
                    conn = Conn(self.lport if lmtp else self.app.smtp_port, lmtp)
                scenario = rng.choice(SCENARIOS) if rng.random() < KILL_RATE else None
                bdat = rng.random() < 0.3 or scenario == "worker_bdat"
                msg = message(t, i)
                try:
                    reply, killed = self.one(conn, user, msg, bdat, scenario)
                except OSError as e:
                    raise OSError("m%d-%d (%s, %s, kill %s): %r" % (t, i, "lmtp" if conn.lmtp else
                                  "smtp", "bdat" if bdat else "data", scenario, e))
                results[(t, i)] = (reply, killed, conn.lmtp, msg)
                if killed in ("worker_rcpt", "worker_dot", "worker_bdat") or not reply:
                    conn.close()
                    conn = None
        except Exception as e:  # reported by the main thread
            errors.append("thread %d: %r" % (t, e))
        finally:
            if conn is not None:
                try:
                    conn.cmd(b"QUIT\r\n")
                except OSError:
                    pass
                conn.close()

    def one(self, conn, user, msg, bdat, scenario):
        """One delivery; (the final reply, or "" if none, and the kill made)."""
        r = conn.cmd(b"MAIL FROM:<s@example.org>\r\n")
        if not r.startswith("250"):
            return r, None
        r = conn.cmd(b"RCPT TO:<%s@localhost>\r\n" % user.encode())
        if not r.startswith("250"):
            return r, None
        if scenario == "worker_rcpt":
            self.kill(self.worker_of(conn))
            return conn.reply(), scenario
        pid = self.worker_of(conn) if scenario in ("worker_dot", "worker_bdat") else None
        if bdat:
            half = len(msg) // 2
            r = conn.cmd(b"BDAT %d\r\n%s" % (half, msg[:half]))
            if not r.startswith("250"):
                return r, None
            rest = msg[half:]
            if scenario == "worker_bdat":
                # the second chunk announced, half of it sent
                conn.s.sendall(b"BDAT %d LAST\r\n%s" % (len(rest), rest[:len(rest) // 2]))
                self.kill(pid)
                return conn.reply(), scenario
            conn.s.sendall(b"BDAT %d LAST\r\n%s" % (len(rest), rest))
        else:
            r = conn.cmd(b"DATA\r\n")
            if not r.startswith("354"):
                return r, None
            conn.s.sendall(stuffed(msg) + b".\r\n")
        if scenario == "worker_dot" and pid is not None:
            self.kill(pid)
            return conn.reply(), scenario
        if scenario == "stored_dot":
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                spid = self.stored_of(user)
                if spid is not None:
                    self.kill(spid)
                    return conn.reply(), scenario
                # no stored yet, or it is done: the reply may be there
                if select.select([conn.s], [], [], 0.001)[0]:
                    return conn.reply(), None
            return conn.reply(), None
        return conn.reply(), None

    # -- the check ---------------------------------------------------------
    def stored_copies(self, user):
        """{(t, i): [message bytes as stored, ...]} from new/ and cur/."""
        out = {}
        for sub in ("new", "cur"):
            d = os.path.join(self.app.maildir(user), sub)
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
                m = TOKEN.search(data)
                if m is None and b"\nSubject: tmpclean\n" in data:
                    continue    # the other test's
                self.assertIsNotNone(m, "%s/%s: no subject token" % (sub, name))
                out.setdefault((int(m.group(1)), int(m.group(2))), []).append(data)
        return out

    def test_kill9_during_1000_deliveries(self):
        results, errors, threads = {}, [], []
        per = TOTAL // THREADS
        start = time.monotonic()
        for t in range(THREADS):
            th = threading.Thread(target=self.client, args=(t, per, results, errors))
            th.start()
            threads.append(th)
        for th in threads:
            th.join(120)
        elapsed = time.monotonic() - start
        self.assertFalse([th for th in threads if th.is_alive()], "client threads hung")
        self.assertEqual(errors, [])
        self.assertEqual(len(results), TOTAL)

        kills = sum(1 for r in results.values() if r[1])
        ok = not_ok = window = 0
        for t in range(THREADS):
            user = "u%d" % t
            copies = self.stored_copies(user)
            for key in copies:
                self.assertIn(key, results, "a message nobody sent: %r" % (key,))
            for i in range(per):
                reply, killed, lmtp, msg = results[(t, i)]
                got = copies.get((t, i), [])
                want = msg.replace(b"\r\n", b"\n")
                for data in got:
                    sender, rcpt, rest = delivery_headers(data, user)
                    self.assertEqual(sender, b"s@example.org")
                    if not lmtp:
                        m = RECEIVED.match(rest)
                        self.assertIsNotNone(m, "SMTP copy without Received: %r" % rest[:200])
                        rest = rest[m.end():]
                    self.assertEqual(rest, want, "m%d-%d not byte-identical" % (t, i))
                if reply.startswith("250"):
                    ok += 1
                    self.assertEqual(len(got), 1, "m%d-%d got 250, %d copies" % (t, i, len(got)))
                    continue
                not_ok += 1
                if got:
                    # durable, then killed before the 250 reached the client
                    window += 1
                    self.assertEqual(len(got), 1, "m%d-%d: %d copies" % (t, i, len(got)))
                    self.assertIn(killed, ("worker_dot", "stored_dot"),
                                  "m%d-%d visible without 250 (%r, kill %s)" % (t, i, reply, killed))
        # copies cut short by a kill may stay in tmp/: stored ignores them
        leftovers = sum(len(os.listdir(os.path.join(self.app.maildir("u%d" % t), "tmp")))
                        for t in range(THREADS))
        print("\n  durability: %d deliveries in %.1f s, %d kills, %d got 250, %d did not, "
              "%d of those durable before the kill (RFC 5321 6.1 duplicates), %d files left in tmp/"
              % (TOTAL, elapsed, kills, ok, not_ok, window, leftovers))
        self.assertGreater(kills, TOTAL * KILL_RATE / 2)
        self.assertGreater(ok, TOTAL / 2)
        # the appliance serves on after all of it
        c = Conn(self.lport, True)
        self.assertTrue(c.cmd(b"MAIL FROM:<s@example.org>\r\n").startswith("250"))
        self.assertTrue(c.cmd(b"RCPT TO:<u0@localhost>\r\n").startswith("250"))
        c.cmd(b"QUIT\r\n")
        c.close()

    def test_stale_tmp_files_are_removed_at_the_next_delivery(self):
        """What a kill leaves in tmp/ goes after 36 hours (the Maildir rule):
        the deliver-view stored removes it when it starts."""
        tmp = os.path.join(self.app.maildir("u1"), "tmp")
        stale, fresh = os.path.join(tmp, "stale.cut-short"), os.path.join(tmp, "fresh.in-progress")
        for p in (stale, fresh):
            with open(p, "wb") as f:
                f.write(b"Subject: half")
        old = time.time() - 37 * 3600
        os.utime(stale, (old, old))
        c = Conn(self.lport, True)
        self.assertTrue(c.cmd(b"MAIL FROM:<s@example.org>\r\n").startswith("250"))
        self.assertTrue(c.cmd(b"RCPT TO:<u1@localhost>\r\n").startswith("250"))
        self.assertTrue(c.cmd(b"DATA\r\n").startswith("354"))
        self.assertTrue(c.cmd(b"Subject: tmpclean\r\n\r\nx\r\n.\r\n").startswith("250"))
        c.cmd(b"QUIT\r\n")
        c.close()
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(fresh))
        os.unlink(fresh)


if __name__ == "__main__":
    unittest.main()
