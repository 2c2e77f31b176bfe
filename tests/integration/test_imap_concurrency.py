"""Two IMAP sessions on one mailbox (RFC 9051 5.5, 7.5.1): when EXPUNGE responses
may come, IDLE seeing mail written into new/ by another program and a flag change
by the other session, and IDLE's autologout.  PTEST_IMAP_PEER=dovecot runs the
same against Dovecot (imappeer.py)."""
import os
import re
import socket
import time
import unittest

from harness import wait_until
from imappeer import RawImap, make_peer

EXPUNGE = re.compile(r"\* \d+ EXPUNGE$")
SMALL = "From: a@example.org\nTo: demo@localhost\nSubject: m%d\n\nbody %d\n"


class ConcurrencyBase(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer(cls.overrides)
        cls.nuser = 0

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def new_user(self, n=0):
        type(self).nuser += 1
        name = "cc%d%s" % (self.nuser, self._testMethodName[5:17].replace("_", ""))
        self.peer.add_user(name, "pw-" + name)
        for i in range(n):
            self.peer.deliver(name, SMALL % (i + 1, i + 1))
        return name, "pw-" + name

    def session(self, user, pw, select="INBOX"):
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        s.login(user, pw)
        if select:
            s.cmd("SELECT " + select)
        return s

    def drop_into_new(self, user, text):
        """As an MTA does: write tmp/, then rename into new/."""
        md = self.peer.maildir(user)
        name = "%d.M%dP%d.mta" % (time.time(), time.monotonic_ns() % 10**9, os.getpid())
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "w") as f:
            f.write(text)
        os.chown(tmp, self.peer.mail_uid, self.peer.mail_uid)
        os.rename(tmp, os.path.join(md, "new", name))


class TestExpungeTiming(ConcurrencyBase):
    def test_expunge_reported_only_when_allowed(self):
        u, pw = self.new_user(5)
        a = self.session(u, pw)
        b = self.session(u, pw)
        a.cmd("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        got, _ = a.cmd("EXPUNGE")
        self.assertEqual(len([r for r in got if EXPUNGE.match(r)]), 2, got)
        # b's FETCH, STORE and SEARCH must not carry the EXPUNGEs (RFC 9051 7.5.1):
        # its sequence numbers stay what they were until a command that may shrink them
        for text in ("FETCH 1:5 (FLAGS)", "STORE 5 +FLAGS (\\Flagged)", "SEARCH ALL",
                     "FETCH 5 (UID)"):
            got, tagged = b.cmd(text, ok=False)
            self.assertFalse([r for r in got if EXPUNGE.match(r)], "%s: %r" % (text, got))
            self.assertRegex(tagged, r"^t\d+ (OK|NO) ", text)
        # message 5 is still message 5 for b: the FLAGGED one is the last one
        got, _ = b.cmd("FETCH 5 (UID FLAGS)")
        self.assertTrue(any(re.match(r"\* 5 FETCH \(.*UID 5\b", r) for r in got), got)
        # NOOP may: both EXPUNGEs, numbers as the server renumbers
        got, _ = b.cmd("NOOP")
        ex = [r for r in got if EXPUNGE.match(r)]
        self.assertEqual(len(ex), 2, got)
        got, _ = b.cmd("FETCH 1:* (UID)")
        uids = [int(m.group(1)) for r in got for m in [re.search(r"UID (\d+)", r)] if m]
        self.assertEqual(uids, [1, 3, 5])
        # a's session saw b's \Flagged on UID 5 (now message 3) by NOOP time
        got, _ = a.cmd("NOOP")
        got2, _ = a.cmd("FETCH 3 (UID FLAGS)")
        self.assertTrue(any("\\Flagged" in r and "UID 5" in r for r in got2), got + got2)

    def test_uid_commands_and_idle_may_carry_expunge(self):
        u, pw = self.new_user(3)
        a = self.session(u, pw)
        b = self.session(u, pw)
        a.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        a.cmd("EXPUNGE")
        # UID FETCH may report the EXPUNGE, NOOP at the latest must
        got, _ = b.cmd("UID FETCH 1:* (UID)")
        if not [r for r in got if EXPUNGE.match(r)]:
            got, _ = b.cmd("NOOP")
            self.assertEqual([r for r in got if EXPUNGE.match(r)], ["* 1 EXPUNGE"], got)
        got, _ = b.cmd("FETCH 1:* (UID)")
        self.assertEqual(len([r for r in got if "FETCH" in r]), 2, got)

    def test_new_mail_seen_by_noop_of_other_session(self):
        u, pw = self.new_user(1)
        a = self.session(u, pw)
        b = self.session(u, pw)
        b.cmd("APPEND INBOX {%d+}\r\n%s" % (len(SMALL % (2, 2)), SMALL % (2, 2)))
        got = wait_until(lambda: [r for r in a.cmd("NOOP")[0] if r == "* 2 EXISTS"], 10,
                         "EXISTS in the other session")
        self.assertTrue(got)


class TestIdle(ConcurrencyBase):
    def idle(self, s):
        s.n += 1
        tag = "t%d" % s.n
        s.send(tag + " IDLE\r\n")
        r = s.read()
        while r is not None and r.startswith("* "):
            r = s.read()
        self.assertTrue(r and r.startswith("+"), r)
        return tag

    def wait_for(self, s, pattern, timeout=15):
        rx = re.compile(pattern)
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                r = s.read(max(0.1, deadline - time.monotonic()))
            except socket.timeout:
                raise AssertionError("no %s in IDLE; got %r" % (pattern, seen))
            if r is None:
                raise AssertionError("EOF in IDLE waiting for %s; got %r" % (pattern, seen))
            seen.append(r)
            if rx.match(r):
                return seen

    def done(self, s, tag):
        s.send("DONE\r\n")
        seen = []
        while True:
            r = s.read()
            self.assertIsNotNone(r, seen)
            if r.startswith(tag + " "):
                self.assertTrue(r.startswith(tag + " OK"), r)
                return seen
            seen.append(r)

    def test_idle_sees_file_renamed_into_new(self):
        u, pw = self.new_user(1)
        a = self.session(u, pw)
        tag = self.idle(a)
        self.drop_into_new(u, SMALL % (2, 2))
        self.wait_for(a, r"\* 2 EXISTS$")
        self.drop_into_new(u, SMALL % (3, 3))
        self.wait_for(a, r"\* 3 EXISTS$")
        self.done(a, tag)
        got, _ = a.cmd("FETCH 2:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn("Subject: m2", "".join(got))
        self.assertIn("Subject: m3", "".join(got))

    def test_idle_sees_flag_change_and_expunge_of_other_session(self):
        u, pw = self.new_user(3)
        a = self.session(u, pw)
        b = self.session(u, pw)
        tag = self.idle(a)
        b.cmd("STORE 2 +FLAGS (\\Flagged)")
        self.wait_for(a, r"\* 2 FETCH \(.*FLAGS \([^)]*\\Flagged")
        b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.cmd("EXPUNGE")
        self.wait_for(a, r"\* 1 EXPUNGE$")
        self.done(a, tag)
        got, _ = a.cmd("FETCH 1:* (UID FLAGS)")
        self.assertEqual(len(got), 2, got)
        self.assertIn("\\Flagged", got[0])

    def test_idle_and_noop_see_changes_made_by_other_programs(self):
        # the Maildir is the shared truth: another program renames a file to add a flag
        # (":2," -> ":2,S"), deletes one, and moves one from new/ to cur/ with a flag
        u, pw = self.new_user(3)
        a = self.session(u, pw)
        a.cmd("FETCH 1:* (FLAGS)")                   # the server has moved them to cur/
        md = self.peer.maildir(u)
        cur = os.path.join(md, "cur")

        def file_of(subject):
            for n in sorted(os.listdir(cur)):
                with open(os.path.join(cur, n)) as f:
                    if "Subject: %s\n" % subject in f.read():
                        return n
            raise AssertionError("no file for " + subject)

        tag = self.idle(a)
        n1 = file_of("m1")
        base = n1.split(":2,")[0]
        os.rename(os.path.join(cur, n1), os.path.join(cur, base + ":2,S"))
        self.wait_for(a, r"\* 1 FETCH \(.*FLAGS \([^)]*\\Seen")
        os.unlink(os.path.join(cur, file_of("m2")))
        self.wait_for(a, r"\* 2 EXPUNGE$")
        self.done(a, tag)
        # without IDLE: the next command tells
        self.drop_into_new(u, SMALL % (4, 4))
        name = [n for n in os.listdir(os.path.join(md, "new"))][0]
        os.rename(os.path.join(md, "new", name), os.path.join(cur, name + ":2,F"))
        got = wait_until(lambda: [r for r in a.cmd("NOOP")[0] if r == "* 3 EXISTS"], 10, "EXISTS at NOOP")
        got, _ = a.cmd("FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        rows = [(re.search(r"Subject: (\S+)", r).group(1), "\\Seen" in r, "\\Flagged" in r) for r in got if "FETCH" in r]
        self.assertEqual(rows, [("m1", True, False), ("m3", False, False), ("m4", False, True)])

    def test_idle_sees_delivery(self):
        u, pw = self.new_user(0)
        a = self.session(u, pw)
        tag = self.idle(a)
        self.peer.deliver(u, SMALL % (1, 1))
        self.wait_for(a, r"\* 1 EXISTS$")
        self.done(a, tag)


class TestRaces(ConcurrencyBase):
    def test_operations_on_a_message_expunged_elsewhere(self):
        # b still sees message 2 (no sync yet): FETCH, STORE, SEARCH, COPY of it either work
        # on what was there or say NO (RFC 9051 7.5.1, [EXPUNGEISSUED]); never BAD,
        # never an EXPUNGE in the middle, never the wrong message
        u, pw = self.new_user(3)
        a = self.session(u, pw)
        b = self.session(u, pw)
        a.cmd("CREATE INBOX.Dest")
        a.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
        a.cmd("EXPUNGE")
        for text in ("FETCH 2 (BODY[])", "STORE 2 +FLAGS (\\Flagged)",
                     "FETCH 3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "SEARCH ALL"):
            got, tagged = b.cmd(text, ok=False)
            self.assertRegex(tagged, r"^t\d+ (OK|NO)( |$)", text)
            self.assertFalse([r for r in got if EXPUNGE.match(r)], "%s: %r" % (text, got))
            body = "".join(got)
            if "Subject:" in body:
                self.assertIn("Subject: m3", body, text)    # message 3 is still m3 for b
            if "BODY[] {" in body:
                self.assertIn("body 2", body, text)         # the content of the one asked for
            if text == "SEARCH ALL":
                self.assertIn("* SEARCH 1 2 3", got)
        # COPY may report the EXPUNGE (it is not FETCH, STORE or SEARCH); NOOP at the latest
        got, tagged = b.cmd("COPY 2 INBOX.Dest", ok=False)
        self.assertRegex(tagged, r"^t\d+ (OK|NO)( |$)")
        got2, _ = b.cmd("NOOP")
        self.assertEqual([r for r in got + got2 if EXPUNGE.match(r)], ["* 2 EXPUNGE"])
        got, _ = b.cmd("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(re.findall(r"Subject: (m\d)", "".join(got)), ["m1", "m3"])
        got, _ = b.cmd("STATUS INBOX.Dest (MESSAGES)")
        self.assertRegex(" ".join(got), r"MESSAGES [01]\)")

    def test_concurrent_flag_changes_merge(self):
        u, pw = self.new_user(1)
        a = self.session(u, pw)
        b = self.session(u, pw)
        a.cmd("STORE 1 +FLAGS (\\Seen)")
        b.cmd("STORE 1 +FLAGS ($Label1)")
        a.cmd("STORE 1 +FLAGS (\\Flagged)")
        b.cmd("STORE 1 -FLAGS (\\Seen)")
        for s in (a, b):
            got, _ = s.cmd("FETCH 1 (FLAGS)")
            flags = re.search(r"FLAGS \(([^)]*)\)", [r for r in got if "FETCH" in r][-1]).group(1).split()
            self.assertEqual(sorted(set(flags) - {"\\Recent"}), ["$Label1", "\\Flagged"])

    def test_concurrent_appends_get_unique_ascending_uids(self):
        import threading
        u, pw = self.new_user(0)
        s0 = self.session(u, pw, select=None)
        s0.cmd("CREATE INBOX.Race")
        results = {}

        def worker(k):
            s = RawImap(self.peer)
            try:
                s.login(u, pw)
                uids = []
                for i in range(40):
                    body = "From: r@example.org\r\nSubject: w%d-%02d\r\n\r\nx\r\n" % (k, i)
                    _, tagged = s.cmd("APPEND INBOX.Race {%d+}\r\n%s" % (len(body), body))
                    m = re.search(r"APPENDUID \d+ (\d+)", tagged)
                    uids.append(int(m.group(1)) if m else None)
                results[k] = uids
            except Exception as e:  # reported below
                results[k] = e
            finally:
                s.close()

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for k in range(3):
            self.assertIsInstance(results.get(k), list, results.get(k))
            self.assertEqual(results[k], sorted(results[k]), "worker %d's UIDs ascend" % k)
        every = [x for k in range(3) for x in results[k]]
        self.assertEqual(len(set(every)), 120, "unique APPENDUIDs")
        s0.cmd("SELECT INBOX.Race")
        got, _ = s0.cmd("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        seen = {int(re.search(r"UID (\d+)", r).group(1)): re.search(r"Subject: (\S+)", r).group(1)
                for r in got if "FETCH" in r}
        self.assertEqual(sorted(seen), sorted(every))
        for k in range(3):
            self.assertEqual([seen[x] for x in results[k]], ["w%d-%02d" % (k, i) for i in range(40)])


class TestPop3Lock(ConcurrencyBase):
    """docs/IMAP.md: a POP3 session excludes IMAP sessions of the same user, and they
    it; the refusal is clean on both sides and the lock goes with the session."""

    def setUp(self):
        if self.peer.name != "postern":
            self.skipTest("POP3 is Postern's part of this test (the Dovecot peer serves IMAP only)")

    def pop3(self, u, pw):
        import poplib
        p = poplib.POP3("127.0.0.1", self.peer.app.port, timeout=10)
        try:
            p.user(u)
            return p, p.pass_(pw)
        except poplib.error_proto:
            p.close()
            raise

    def test_pop3_excludes_imap_and_imap_excludes_pop3(self):
        import poplib
        u, pw = self.new_user(2)
        p, _ = self.pop3(u, pw)
        self.assertEqual(p.stat()[0], 2)
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        greet_and_login = None
        try:
            s.login(u, pw)
            got, tagged = s.cmd("SELECT INBOX", ok=False)
            greet_and_login = got + [tagged]
        except AssertionError as e:       # EOF after the BYE
            greet_and_login = [str(e)]
        self.assertTrue(any("[UNAVAILABLE]" in r for r in greet_and_login), greet_and_login)
        p.quit()
        # the POP3 session is over: IMAP works, and now holds the mailbox
        a = self.session(u, pw)
        got, _ = a.cmd("FETCH 1:* (UID)")
        self.assertEqual(len(got), 2)
        with self.assertRaises(poplib.error_proto) as e:
            self.pop3(u, pw)
        self.assertIn(b"[IN-USE]", e.exception.args[0])
        a.cmd("LOGOUT")
        a.close()
        # the lock went before LOGOUT's OK: no waiting for the session's end
        p2, _ = self.pop3(u, pw)
        self.assertEqual(p2.stat()[0], 2)
        p2.quit()

    def test_pop3_login_right_after_imap_logout(self):
        # stored answers the worker's LOGOUT request only after it dropped the
        # lock, and the tagged OK follows that answer (a CI failure: -ERR [IN-USE])
        u, pw = self.new_user(1)
        for i in range(200):
            s = RawImap(self.peer)
            s.login(u, pw)
            if i % 2:
                s.cmd("SELECT INBOX")
            got, _ = s.cmd("LOGOUT")
            self.assertTrue(any(r.startswith("* BYE") for r in got), got)
            p, reply = self.pop3(u, pw)   # poplib raises on -ERR [IN-USE]
            self.assertTrue(reply.startswith(b"+OK"), (i, reply))
            p.quit()
            s.close()

    def test_imap_select_right_after_pop3_quit(self):
        # POP3's final commit drops the lock before stored's reply, which the
        # +OK of QUIT follows
        u, pw = self.new_user(1)
        for i in range(200):
            p, _ = self.pop3(u, pw)
            self.assertEqual(p.stat()[0], 1)
            p.quit()
            s = RawImap(self.peer)
            s.login(u, pw)
            got, tagged = s.cmd("SELECT INBOX")
            self.assertIn("[READ-WRITE]", tagged, (i, got))
            s.cmd("LOGOUT")
            s.close()


class TestConnectionLimit(ConcurrencyBase):
    """max_per_ip: a client that logs out and connects again at once is not refused
    (the session it ended no longer counts once the server closed it), as POP3's
    test_login_right_after_quit_finds_mailbox_free asks for the mailbox lock."""
    overrides = {"max_per_ip": "3"}

    def setUp(self):
        if self.peer.name != "postern":
            self.skipTest("Dovecot has no connection limit per address before login")

    def test_reconnect_right_after_logout(self):
        u, pw = self.new_user(1)
        keep = [self.session(u, pw), RawImap(self.peer)]   # two of the three places taken
        self.addCleanup(lambda: [k.close() for k in keep])
        for i in range(100):
            s = RawImap(self.peer)   # asserts the greeting is "* OK"
            s.login(u, pw)
            got, tagged = s.cmd("LOGOUT")
            self.assertTrue(any(r.startswith("* BYE") for r in got))
            self.assertIsNone(s.read(10))                   # the server closed it
            s.close()
        # the last place is free again every time: a fourth connection would be refused
        extra = RawImap(self.peer)
        with self.assertRaises(AssertionError):
            RawImap(self.peer)
        extra.close()


class TestDeliveryOrder(ConcurrencyBase):
    """UIDs ascend in the order messages were added (RFC 9051 2.3.1.1).  Several
    files found in new/ at one look get their UIDs in delivery order: the order of
    their Maildir names' time fields (seconds, then the M microseconds), compared as
    numbers -- "M99999" is earlier than "M100000"."""

    def subjects(self, user, pw):
        s = self.session(user, pw)
        got, _ = s.cmd("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return [re.search(r"Subject: (\S+)", r).group(1) for r in got if "Subject:" in r]

    def test_maildir_names_in_time_order(self):
        u, pw = self.new_user(1)  # the server's delivery makes the Maildir
        md = self.peer.maildir(u)
        t = int(time.time()) + 100
        for subject, name in (("first", "%d.M9P100Q1.mta" % t), ("second", "%d.M99999P100Q2.mta" % t),
                              ("third", "%d.M100000P100Q3.mta" % t), ("fourth", "%d.M5P100Q4.mta" % (t + 1))):
            tmp = os.path.join(md, "tmp", name)
            with open(tmp, "w") as f:
                f.write("From: a@example.org\nSubject: %s\n\nx\n" % subject)
            os.chown(tmp, self.peer.mail_uid, self.peer.mail_uid)
            os.utime(tmp, (t, t))
            os.rename(tmp, os.path.join(md, "new", name))
        self.assertEqual(self.subjects(u, pw), ["m1", "first", "second", "third", "fourth"])

    def test_deliveries_in_order(self):
        u, pw = self.new_user(0)
        for i in range(20):
            self.peer.deliver(u, "From: a@example.org\nSubject: d%02d\n\nx\n" % i)
        self.assertEqual(self.subjects(u, pw), ["d%02d" % i for i in range(20)])


class TestPersistence(ConcurrencyBase):
    """What a client cached stays true across a server restart and an index rebuild
    (DESIGN invariant 6: the Maildir is the truth, the index is rebuilt from it):
    UIDVALIDITY, UIDs, flags, keywords, subscriptions, folders."""

    def state(self, u, pw):
        s = self.session(u, pw, select=None)
        got, _ = s.cmd("SELECT INBOX")
        uidv = [re.search(r"UIDVALIDITY (\d+)", r).group(1) for r in got if "UIDVALIDITY" in r]
        nxt = [re.search(r"UIDNEXT (\d+)", r).group(1) for r in got if "UIDNEXT" in r]
        fetch, _ = s.cmd("UID FETCH 1:* (UID FLAGS)")
        rows = sorted((int(re.search(r"UID (\d+)", r).group(1)),
                       tuple(sorted(set(re.search(r"FLAGS \(([^)]*)\)", r).group(1).split()) - {"\\Recent"})))
                      for r in fetch if "FETCH" in r)
        lsub, _ = s.cmd('LSUB "" "*"')
        lst, _ = s.cmd('LIST "" "*"')
        s.cmd("LOGOUT")
        names = sorted(r.rsplit(" ", 1)[1].strip('"') for r in lst if r.startswith("* LIST"))
        subs = sorted(r.rsplit(" ", 1)[1].strip('"') for r in lsub if r.startswith("* LSUB"))
        return uidv, nxt, rows, names, subs

    def test_restart_and_index_rebuild_keep_uids_and_flags(self):
        u, pw = self.new_user(4)
        s = self.session(u, pw)
        s.cmd("STORE 1 +FLAGS (\\Seen $Work)")
        s.cmd("STORE 2 +FLAGS (\\Flagged \\Answered)")
        s.cmd("STORE 3 +FLAGS.SILENT (\\Deleted)")
        s.cmd("EXPUNGE")
        s.cmd("CREATE INBOX.Keep")
        s.cmd("SUBSCRIBE INBOX.Keep")
        s.cmd("LOGOUT")
        before = self.state(u, pw)
        self.assertEqual([r[0] for r in before[2]], [1, 2, 4])
        self.assertEqual(before[1], ["5"])
        self.peer.restart()
        self.assertEqual(self.state(u, pw), before)
        self.peer.rebuild_index(u)
        self.assertEqual(self.state(u, pw), before)
        # and a new message after all that gets the next UID, not a reused one
        self.peer.deliver(u, SMALL % (9, 9))
        after = self.state(u, pw)
        self.assertEqual([r[0] for r in after[2]], [1, 2, 4, 5])


class TestIdleAutologout(ConcurrencyBase):
    """imap_idle_timeout: the server ends an idle session (also in IDLE) with BYE."""
    overrides = {"imap_idle_timeout": "2", "login_timeout": "5"}

    def test_idle_autologout(self):
        u, pw = self.new_user(1)
        a = self.session(u, pw)
        a.send("i1 IDLE\r\n")
        t0 = time.monotonic()
        seen = []
        while True:  # keepalives ("* OK Still here") do not count as activity
            left = t0 + 30 - time.monotonic()
            try:
                if left <= 0:
                    raise socket.timeout()
                r = a.read(left)
            except socket.timeout:
                self.fail("no autologout within 30 s of a 2 s idle timeout: %r" % seen[-5:])
            if r is None:
                break
            seen.append(r)
        self.assertTrue(any(r.startswith("* BYE") for r in seen), seen)
        self.assertLess(time.monotonic() - t0, 30)

    def test_autologout_before_login(self):
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        seen = []
        t0 = time.monotonic()
        while True:
            left = t0 + 30 - time.monotonic()
            try:
                if left <= 0:
                    raise socket.timeout()
                r = s.read(left)
            except socket.timeout:
                self.fail("no autologout within 30 s: %r" % seen[-5:])
            if r is None:
                break
            seen.append(r)
        self.assertTrue(any(r.startswith("* BYE") for r in seen), seen)


if __name__ == "__main__":
    unittest.main()
