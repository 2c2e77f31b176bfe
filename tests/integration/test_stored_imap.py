"""The IMAP view of postern-stored (common/ipc/storeimap.h), with real
postern-stored processes spawned as the master spawns them (root, -u/-g/-r of
a user, -v imap, fd 3 the worker channel) and driven by tests/tools/store_cli,
the worker's side of the channel built on the same codec as imapd:

- every request: LIST, SELECT/EXAMINE, UNSELECT/CLOSE, SYNC, META, MSGFD,
  STORE, EXPUNGE, COPY/MOVE, APPEND, STATUS, CREATE, DELETE, RENAME,
  SUBSCRIBE, QUOTA, with the error codes a legitimate worker can cause;
- two sessions of one user: what one changes the other sees at SYNC, and a
  SYNC with nothing new is answered by SYNCED alone;
- MSG_STORE_CHANGED for a file dropped into the selected folder's new/;
- a 100,000-message folder: SELECT gives every record, UID COPY and EXPUNGE
  of 10,000 complete (times printed, not asserted);
- requests outside their phase, or malformed, end the session (exit 1,
  ipc_violation logged).
"""
import os
import socket
import subprocess
import time
import unittest

from harness import BIN, MAIL_UID, TOOLS, Appliance, wait_until

FINALS = {"OK", "ERR", "MSGFD", "SELECTED", "SYNCED", "STORED", "COPIED", "APPENDED", "STATUS",
          "QUOTA", "EOF", "BAD", "USAGE", "CHANGED", "NOCHANGE"}
ERR = {"nomsg": 2, "gone": 3, "proto": 5, "toobig": 6, "nobox": 7, "exists": 8, "name": 9, "denied": 10,
       "quota": 11, "limit": 12}
EXPUNGED, MODIFIED, COPY_SRC, COPY_DST, VIEW = 1, 2, 3, 4, 5
SEEN, ANSWERED, FLAGGED, DELETED, DRAFT, KEYWORD0 = 1, 2, 4, 8, 16, 32
MAX_MESSAGE = 4096


def message(subject, size=0):
    text = "From: a@example.org\nSubject: %s\n\n" % subject
    return (text + "x" * max(0, size - len(text) - 1) + "\n").encode()


class Session:
    """One postern-stored (imap view) and the store_cli that is its worker."""

    def __init__(self, test, root, sid):
        self.test = test
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        n = theirs.fileno()
        self.logpath = os.path.join(test.app.dir, "stored-%s.log" % sid)
        self.log = open(self.logpath, "ab")
        cmd = [os.path.join(BIN, "postern-stored"), "-c", test.app.conf, "-s", sid,
               "-u", str(MAIL_UID), "-g", str(MAIL_UID), "-r", root, "-n", sid + "@localhost",
               "-v", "imap"]
        # fd 3 is the worker channel, as the master passes it
        self.proc = subprocess.Popen(["sh", "-c", 'exec "$@" 3<&%d %d<&-' % (n, n), "sh"] + cmd,
                                     pass_fds=(n,), stderr=self.log)
        theirs.close()
        self.cli = subprocess.Popen([os.path.join(TOOLS, "store_cli"), str(ours.fileno())],
                                    pass_fds=(ours.fileno(),), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        ours.close()
        test.addCleanup(self.close)

    def cmd(self, line):
        """The reply's lines, split; the last is the final message."""
        self.cli.stdin.write(line + "\n")
        self.cli.stdin.flush()
        lines = []
        while True:
            text = self.cli.stdout.readline()
            if not text:
                lines.append(["EOF"])
                return lines
            words = text.split()
            self.test.assertNotEqual(words[0], "BADDATA", "stored sent what the codec refuses")
            lines.append(words)
            if words[0] in FINALS:
                return lines

    def final(self, line):
        return self.cmd(line)[-1]

    def ok(self, line):
        f = self.final(line)
        self.test.assertEqual(f[0], "OK", "%s: %s" % (line, f))
        return int(f[1])

    def err(self, line, code):
        f = self.final(line)
        self.test.assertEqual(f[:2], ["ERR", str(ERR[code])], "%s: %s" % (line, f))

    def close(self):
        if self.cli.poll() is None:
            self.cli.stdin.close()
            self.cli.wait(30)
            self.cli.stdout.close()
        rc = self.proc.wait(30)
        if not self.log.closed:
            self.log.close()
        return rc

    def logtext(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()


def records(lines):
    """{uid: (flags, modseq)} of the RECORDS lines."""
    out = {}
    for w in lines:
        if w[0] == "RECORDS":
            for r in w[2:]:
                uid, flags, modseq = (int(x) for x in r.split(":"))
                out[uid] = (flags, modseq)
    return out


def uidsets(lines, kind):
    """The UIDs of the UIDSET lines of kind, in order."""
    out = []
    for w in lines:
        if w[0] == "UIDSET" and int(w[1]) == kind:
            for r in w[2].split(","):
                lo, hi = (int(x) for x in r.split(":"))
                out.extend(range(lo, hi + 1))
    return out


class StoredImapCase(unittest.TestCase):
    """A config (CONFIG over the defaults) and helpers; no tests."""
    CONFIG = {}

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(cls.CONFIG)
        cls.msgdir = os.path.join(cls.app.dir, "msgs")
        os.mkdir(cls.msgdir)
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def root(self, name):
        return os.path.join(self.app.mail, "localhost", name)

    def session(self, user):
        type(self).n += 1
        return Session(self, self.root(user), "%s-%d" % (user, self.n))

    def msgfile(self, data):
        type(self).n += 1
        path = os.path.join(self.msgdir, "m%d" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def append(self, s, folder, data, flags="-", kws="-", date=0):
        f = s.final("append %s %s %s %d %s" % (folder, flags, kws, date, self.msgfile(data)))
        self.assertEqual(f[0], "APPENDED", f)
        return int(f[2])


@unittest.skipUnless(os.geteuid() == 0, "stored is spawned as root, as the master does")
class TestStoredImap(StoredImapCase):
    CONFIG = {"imap_max_message_size": str(MAX_MESSAGE)}

    def test_folders(self):
        s = self.session("folders")
        self.assertEqual(s.ok("open"), 0)
        lines = s.cmd("list")
        self.assertEqual(lines[0][:2], ["FOLDERS", "1"])
        self.assertTrue(lines[0][2].endswith("=INBOX"))
        self.assertEqual(s.ok("create Sent 16"), 0, "the special use the default mapping gives")
        s.err("create Foo 16", "denied")
        s.err("create Trash 16", "denied")
        s.err("create Sent", "exists")
        s.err("create INBOX", "exists")
        s.err("create a..b", "name")
        s.err("create INBOX.sub", "name")
        self.assertEqual(s.ok("create Lists.Debian"), 0)
        self.assertTrue(os.path.isfile(os.path.join(self.root("folders"), ".Sent", "maildirfolder")))
        lines = s.cmd("list")
        got = {e.split("=", 1)[1]: int(e.split("=", 1)[0]) for w in lines if w[0] == "FOLDERS"
               for e in w[2:]}
        self.assertEqual(set(got), {"INBOX", "Sent", "Lists", "Lists.Debian"})
        self.assertTrue(got["Sent"] & 16, "\\Sent")
        self.assertTrue(got["Lists"] & 1, "an implied parent is \\Noselect")
        self.assertEqual(lines[-1], ["OK", "4"])
        s.err("select Lists", "nobox")
        s.err("select Nowhere", "nobox")
        s.err("select a..b", "name")
        s.err("status Nowhere", "nobox")
        f = s.final("status Sent")
        self.assertEqual(f[0], "STATUS")
        self.assertEqual(f[1:3], ["0", "1"], "no messages, UIDNEXT 1")
        # subscriptions
        s.ok("subscribe Sent")
        s.ok("subscribe Later")
        lines = s.cmd("list sub")
        names = [e.split("=", 1)[1] for w in lines if w[0] == "FOLDERS" for e in w[2:]]
        self.assertEqual(sorted(names), ["Later", "Sent"])
        s.ok("unsubscribe Later")
        self.assertEqual(s.ok("list sub"), 1)
        s.err("subscribe a..b", "name")
        # rename and delete
        s.ok("rename Sent Outbox")
        s.err("rename Sent Other", "nobox")
        s.err("rename Outbox Lists.Debian", "exists")
        s.ok("delete Outbox")
        s.err("delete Outbox", "nobox")
        s.err("delete INBOX", "denied")
        s.err("delete Lists", "denied")  # an implied parent with children
        # INBOX renamed: its messages move into the new folder, INBOX stays
        s.ok("create Box")
        self.append(s, "INBOX", message("to be moved"))
        s.ok("rename INBOX Old")
        self.assertEqual(s.final("status Old")[1], "1")
        self.assertEqual(s.final("status INBOX")[1], "0")
        # selected: DELETE of it is refused; RENAME moves it, and the
        # session goes on in it under the new name (same UIDs)
        self.append(s, "Box", message("in the box"))
        self.assertEqual(s.final("select Box")[0], "SELECTED")
        s.err("delete Box", "denied")
        s.ok("rename Box Box2")
        self.assertEqual(s.final("status Box2")[1], "1")
        s.err("status Box", "nobox")
        self.assertEqual(s.final("sync")[0], "SYNCED")
        s.ok("delete Old")
        self.assertEqual(s.final("quota"), ["QUOTA", "0", "0", "0", "0"], "no maildirsize: no quota")
        self.assertEqual(s.close(), 0)

    def test_messages(self):
        s = self.session("msgs")
        s.ok("open")
        s.ok("create Sent")
        u1 = self.append(s, "INBOX", message("one"), flags="S")
        u2 = self.append(s, "INBOX", message("two"), flags="F", kws="$Label1", date=1700000000)
        u3 = self.append(s, "INBOX", message("three"))
        self.assertEqual((u1, u2, u3), (1, 2, 3))
        s.err("append Nowhere - - 0 %s" % self.msgfile(message("x")), "nobox")
        s.err("append a..b - - 0 %s" % self.msgfile(message("x")), "name")
        lines = s.cmd("select INBOX")
        self.assertEqual(lines[0][:3], ["KEYWORDS", "1", "0=$Label1"])
        # SELECT carries the UIDs as ranges; flags come when asked (FLAGS)
        self.assertEqual(uidsets(lines, VIEW), [1, 2, 3])
        self.assertEqual(records(lines), {})
        flines = s.cmd("flags")
        self.assertEqual(flines[-1], ["OK", "3"])
        recs = records(flines)
        self.assertEqual(sorted(recs), [1, 2, 3])
        self.assertEqual(recs[1][0], SEEN)
        self.assertEqual(recs[2][0], FLAGGED | KEYWORD0)
        sel = lines[-1]
        self.assertEqual(sel[0], "SELECTED")
        uidvalidity, uidnext, count, unseen, first_unseen, hms, ro = (int(x) for x in sel[1:])
        self.assertEqual((uidnext, count, unseen, first_unseen, ro), (4, 3, 2, 2, 0))
        # META and MSGFD
        lines = s.cmd("meta 2:3,10:4294967295")
        self.assertEqual(lines[-1], ["OK", "2"])
        m = lines[0][2].split(":")
        crlf_size = len(message("two")) + message("two").count(b"\n")
        self.assertEqual((m[0], m[3], m[4]), ("2", str(crlf_size), "1700000000"))
        f = s.final("msgfd 2")
        self.assertEqual(f[0], "MSGFD")
        self.assertEqual(bytes.fromhex(f[3]), message("two"))
        self.assertEqual(int(f[1]), crlf_size, "RFC822.SIZE counts CRLF")
        s.err("msgfd 99", "nomsg")
        # STORE: records of what changed, the keyword table when it grew
        lines = s.cmd("store add R $Work - 1:3")
        self.assertEqual(lines[-1][:2], ["STORED", "3"])
        recs = records(lines)
        self.assertEqual(sorted(recs), [1, 2, 3])
        self.assertTrue(all(r[0] & ANSWERED and r[0] & (KEYWORD0 << 1) for r in recs.values()))
        self.assertIn(["KEYWORDS", "2", "0=$Label1", "1=$Work"], lines)
        modseq = recs[1][1]
        self.assertEqual(int(lines[-1][3]), modseq)
        lines = s.cmd("store remove R - - 1")
        self.assertEqual(lines[-1][:2], ["STORED", "1"])
        self.assertEqual(records(lines)[1][0], SEEN | (KEYWORD0 << 1))
        # UNCHANGEDSINCE: message 1 changed after modseq
        lines = s.cmd("store add D - %d 1:2" % modseq)
        self.assertEqual(uidsets(lines, MODIFIED), [1])
        self.assertEqual(sorted(records(lines)), [2], "2 was unchanged since, so stored")
        self.assertEqual(lines[-1][:2], ["STORED", "1"])
        # a 27th keyword in the folder
        kws = ",".join("k%d" % i for i in range(24))
        self.assertEqual(s.final("store add - %s - 3" % kws)[0], "STORED")
        s.err("store add - one-too-many - 3", "limit")
        # EXPUNGE of the set's \Deleted only (UID EXPUNGE), then all
        s.cmd("store add T - - 1:2")
        lines = s.cmd("expunge 2:3")
        self.assertEqual(uidsets(lines, EXPUNGED), [2])
        self.assertEqual(lines[-1], ["OK", "1"])
        lines = s.cmd("expunge all")
        self.assertEqual(uidsets(lines, EXPUNGED), [1])
        self.assertEqual(s.final("sync")[:3], ["SYNCED", "4", "1"])
        # COPY and MOVE
        u4 = self.append(s, "INBOX", message("four"))
        u5 = self.append(s, "INBOX", message("five"))
        self.assertEqual(records(s.cmd("sync")).keys(), {u4, u5})
        lines = s.cmd("copy Sent 3:5")
        self.assertEqual(uidsets(lines, COPY_SRC), [3, 4, 5])
        self.assertEqual(uidsets(lines, COPY_DST), [1, 2, 3])
        self.assertEqual(lines[-1][0], "COPIED")
        self.assertEqual(lines[-1][2], "3")
        self.assertNotEqual(lines[-1][1], str(uidvalidity), "the destination's UIDVALIDITY")
        s.err("copy Nowhere 3", "nobox")
        lines = s.cmd("move Sent 4")
        self.assertEqual(lines[0], ["UIDSET", str(EXPUNGED), "4:4"], "MOVE: the expunge comes first")
        self.assertEqual(uidsets(lines, COPY_DST), [4])
        s.err("move INBOX 5", "denied")
        self.assertEqual(s.final("status Sent")[1], "4")
        self.assertEqual(s.final("sync")[1:3], ["6", "2"])
        # a file removed by another program: GONE until a SYNC
        cur = os.path.join(self.root("msgs"), "cur")
        name = [n for n in os.listdir(cur)][0]
        os.unlink(os.path.join(cur, name))
        f = s.cmd("msgfd 3")[-1], s.cmd("msgfd 5")[-1]
        self.assertIn(["ERR", str(ERR["gone"]), "message", "no", "longer", "available"], f)
        # EXAMINE: read-only
        lines = s.cmd("examine Sent")
        self.assertEqual(lines[-1][-1], "1")
        self.assertEqual(len(uidsets(lines, VIEW)), 4)
        self.assertEqual(len(records(s.cmd("flags"))), 4)
        s.err("store add S - - 1", "denied")
        s.err("expunge all", "denied")
        s.err("move INBOX 1", "denied")
        self.assertEqual(s.final("copy INBOX 1")[0], "COPIED", "copying out of it is fine")
        self.assertEqual(s.ok("unselect"), 0)
        self.assertEqual(s.close(), 0)

    def test_close_expunges(self):
        s = self.session("closing")
        s.ok("open")
        for i in range(3):
            self.append(s, "INBOX", message("m%d" % i), flags="T" if i else "-")
        self.assertEqual(s.final("select INBOX")[3], "3")
        self.assertEqual(s.ok("close"), 2, "CLOSE expunges the \\Deleted")
        self.assertEqual(s.final("status INBOX")[1], "1")
        self.assertEqual(s.close(), 0)

    def test_second_session_sees_changes_at_sync(self):
        a, b = self.session("shared"), self.session("shared")
        a.ok("open")
        b.ok("open")
        for i in range(3):
            self.append(a, "INBOX", message("m%d" % i))
        self.assertEqual(len(uidsets(a.cmd("select INBOX"), VIEW)), 3)
        self.assertEqual(a.final("sync")[0], "SYNCED")
        self.assertEqual(len(b.cmd("select INBOX")), 3)  # KEYWORDS, UIDSET(VIEW), SELECTED
        self.assertEqual(b.final("store add F - - 1")[0], "STORED")
        self.assertEqual(b.final("store add T - - 2")[0], "STORED")
        self.assertEqual(b.ok("expunge all"), 1)
        lines = a.cmd("sync")
        self.assertEqual(uidsets(lines, EXPUNGED), [2])
        recs = records(lines)
        self.assertEqual(list(recs), [1], "only what changed")
        self.assertEqual(recs[1][0], FLAGGED)
        self.assertEqual(lines[-1][:3], ["SYNCED", "4", "2"])
        self.assertEqual(a.cmd("sync"), [lines[-1]], "nothing new: SYNCED alone")
        # a delivery by another program into new/, seen at the next SYNC
        new = os.path.join(self.root("shared"), "new")
        with open(os.path.join(new, "1700000001.M1P1.mta,S=20"), "wb") as f:
            f.write(b"Subject: outside\n\nx\n")
        lines = b.cmd("sync")
        self.assertEqual(list(records(lines)), [4])
        self.assertEqual(lines[-1][:3], ["SYNCED", "5", "3"])
        self.assertEqual(list(records(a.cmd("sync"))), [4])
        self.assertEqual(a.close(), 0)
        self.assertEqual(b.close(), 0)

    def test_changed_follows_the_selected_folder(self):
        s = self.session("watch")
        s.ok("open")
        s.ok("create Lists")
        self.append(s, "Lists", message("first"))
        self.assertEqual(s.final("select Lists")[0], "SELECTED")
        # two round trips: a CHANGED our own SELECT caused has arrived
        s.final("sync")
        s.final("sync")
        new = os.path.join(self.root("watch"), ".Lists", "new")
        with open(os.path.join(new, "1700000002.M2P2.mta,S=20"), "wb") as f:
            f.write(b"Subject: outside\n\nx\n")
        self.assertEqual(s.final("changed 10000"), ["CHANGED"])
        lines = s.cmd("sync")
        self.assertEqual(list(records(lines)), [2])
        self.assertEqual(s.close(), 0)

    def test_append_limits_and_quota(self):
        s = self.session("limits")
        s.ok("open")
        s.err("append INBOX - - 0 %s" % self.msgfile(message("big", MAX_MESSAGE + 1)), "toobig")
        s.err("append INBOX - - 0 %s 10" % self.msgfile(message("longer than said", 100)), "toobig")
        self.assertEqual(os.listdir(os.path.join(self.root("limits"), "tmp")), [], "tmp/ left clean")
        self.assertEqual(s.final("append INBOX - - 0 pipe 10")[:2], ["ERR", "5"], "a pipe is no message")
        self.assertEqual(s.final("status INBOX")[1], "0")
        # a Maildir++ quota of 3000 bytes, 3 messages
        path = os.path.join(self.root("limits"), "maildirsize")
        with open(path, "w") as f:
            f.write("3000S,3C\n")
        os.chown(path, MAIL_UID, MAIL_UID)
        self.append(s, "INBOX", message("small", 1000))
        with open(path) as f:
            self.assertEqual(f.read().splitlines()[1:], ["1000 1"])
        s.err("append INBOX - - 0 %s" % self.msgfile(message("over", 2500)), "quota")
        wait_until(lambda: "event=quota_refused reason=storage" in s.logtext(), what="quota log")
        self.assertEqual(s.final("quota"), ["QUOTA", "1000", "3000", "1", "3"])
        self.append(s, "INBOX", message("s2", 100))
        self.append(s, "INBOX", message("s3", 100))
        s.cmd("select INBOX")
        s.err("copy INBOX 1", "quota")
        wait_until(lambda: "event=quota_refused reason=messages" in s.logtext(), what="quota log")
        s.cmd("store add T - - 2")
        self.assertEqual(s.ok("expunge all"), 1)
        with open(path) as f:
            self.assertEqual(f.read().splitlines()[-1], "-100 -1", "the expunge is counted")
        # a malformed line: quota_read recounts the Maildir (through tmp/, in the filter)
        with open(path, "a") as f:
            f.write("not a usage line\n")
        self.assertEqual(s.final("quota"), ["QUOTA", "1100", "3000", "2", "3"])
        with open(path) as f:
            self.assertNotIn("not a usage line", f.read())
        self.assertEqual(s.close(), 0)

    def test_multiappend_parts_all_or_none(self):
        s = self.session("parts")
        s.ok("open")
        m = [self.msgfile(message("part %d" % i, 200)) for i in range(4)]
        # kept until the last, then one transaction: consecutive UIDs
        self.assertEqual(s.final("part 0 3 INBOX - - 0 %s" % m[0])[0], "OK")
        self.assertEqual(s.final("part 1 3 INBOX S - 0 %s" % m[1])[0], "OK")
        self.assertEqual(s.final("status INBOX")[1], "0")      # nothing yet
        f = s.final("part 2 3 INBOX - - 0 %s" % m[2])
        self.assertEqual(f[0], "APPENDED", f)
        last = int(f[2])
        self.assertEqual(s.final("status INBOX")[1], "3")
        self.assertEqual(len(os.listdir(os.path.join(self.root("parts"), "cur"))), 3)
        # the last part over the quota: none of the three lands
        path = os.path.join(self.root("parts"), "maildirsize")
        with open(path, "w") as fh:
            fh.write("3000S,5C\n750 3\n")                    # 3 messages in, 5 allowed
        os.chown(path, MAIL_UID, MAIL_UID)
        self.assertEqual(s.final("part 0 3 INBOX - - 0 %s" % m[0])[0], "OK")
        self.assertEqual(s.final("part 1 3 INBOX - - 0 %s" % m[1])[0], "OK")
        s.err("part 2 3 INBOX - - 0 %s" % m[2], "quota")
        self.assertEqual(s.final("status INBOX")[1], "3")
        self.assertEqual(len(os.listdir(os.path.join(self.root("parts"), "cur"))), 3)
        # a part out of step is refused and drops what was kept; a plain
        # APPEND after kept parts appends only itself
        self.assertEqual(s.final("part 0 2 INBOX - - 0 %s" % m[0])[0], "OK")
        self.assertEqual(s.final("part 0 3 INBOX - - 0 %s" % m[1])[0], "OK")  # starts again
        s.err("part 2 3 INBOX - - 0 %s" % m[2], "proto")
        self.assertEqual(s.final("part 0 2 INBOX - - 0 %s" % m[0])[0], "OK")
        uid = self.append(s, "INBOX", message("alone", 100))
        self.assertEqual(uid, last + 1)
        self.assertEqual(s.final("status INBOX")[1], "4")
        self.assertEqual(s.close(), 0)

    def assert_violation(self, lines, mtype):
        s = self.session("phases")
        for line in lines[:-1]:
            self.assertNotEqual(s.final(line)[0], "EOF", line)
        self.assertEqual(s.final(lines[-1]), ["EOF"], lines[-1])
        self.assertEqual(s.close(), 1)
        self.assertIn("event=ipc_violation peer=worker type=0x%04x view=imap" % mtype, s.logtext())

    def test_wrong_phase_or_form_ends_the_session(self):
        self.assert_violation(["list"], 0x0630)
        self.assert_violation(["select INBOX"], 0x0631)
        self.assert_violation(["open", "sync"], 0x0633)
        self.assert_violation(["open", "meta 1"], 0x0634)
        self.assert_violation(["open", "expunge all"], 0x0637)
        self.assert_violation(["open", "open"], 0x0611)
        self.assert_violation(["open", "select INBOX", "unselect", "msgfd 1"], 0x0635)
        self.assert_violation(["open", "raw 0x063a"], 0x063a)           # STATUS without a name
        self.assert_violation(["open", "raw 0x063f 00"], 0x063f)        # QUOTA with a byte
        self.assert_violation(["open", "raw 0x0639 0000000000"], 0x0639)  # APPEND without its fd
        self.assert_violation(["open", "select INBOX", "raw 0x0634 000000010000000500000002"],
                              0x0634)                                   # a range with lo > hi
        self.assert_violation(["open", "raw 0x0601"], 0x0601)           # POP3's OPEN

    def test_100k_folder(self):
        root = self.root("big")
        s = self.session("big")
        s.ok("open")
        s.ok("create Dest")
        cur = os.path.join(root, "cur")
        body = b"Subject: bulk\n\nx\n"
        t0 = time.monotonic()
        for i in range(100000):
            with open(os.path.join(cur, "%d.M%dP1.bulk,S=%d,W=%d:2," %
                                   (1600000000 + i, i, len(body), len(body) + 3)), "wb") as f:
                f.write(body)
                # the user's files, as delivery makes them: root's would not be
                # hard-linked (fs.protected_hardlinks), and COPY would copy them
                os.fchown(f.fileno(), MAIL_UID, MAIL_UID)
        made = time.monotonic() - t0
        t0 = time.monotonic()
        lines = s.cmd("select INBOX")
        t_select = time.monotonic() - t0
        self.assertEqual(lines[-1][0], "SELECTED")
        self.assertEqual(lines[-1][3], "100000")
        # 100,000 consecutive UIDs: one range
        self.assertEqual([w[:3] for w in lines if w[0] == "UIDSET"], [["UIDSET", "5", "1:100000"]])
        recs = records(s.cmd("flags"))
        self.assertEqual(len(recs), 100000)
        self.assertEqual(sorted(recs), list(range(1, 100001)))
        t0 = time.monotonic()
        lines = s.cmd("copy Dest 1:10000")
        t_copy = time.monotonic() - t0
        self.assertEqual(lines[-1][2], "10000")
        self.assertEqual(uidsets(lines, COPY_SRC), list(range(1, 10001)))
        self.assertEqual(uidsets(lines, COPY_DST), list(range(1, 10001)))
        t0 = time.monotonic()
        self.assertEqual(s.final("store add T - - 20001:30000")[:2], ["STORED", "10000"])
        t_store = time.monotonic() - t0
        t0 = time.monotonic()
        lines = s.cmd("expunge 1:4294967295")
        t_expunge = time.monotonic() - t0
        self.assertEqual(lines[-1], ["OK", "10000"])
        self.assertEqual(uidsets(lines, EXPUNGED), list(range(20001, 30001)))
        self.assertEqual(s.final("sync")[:3], ["SYNCED", "100001", "90000"])
        self.assertEqual(len(os.listdir(cur)), 90000)
        self.assertEqual(s.final("status Dest")[1], "10000")
        self.assertEqual(len(os.listdir(os.path.join(root, ".Dest", "cur"))), 10000)
        print("\n# 100k folder: files made in %.1f s; SELECT (first sync + 100k records) %.2f s, "
              "UID COPY 10k %.2f s, STORE +\\Deleted 10k %.2f s, UID EXPUNGE 10k %.2f s"
              % (made, t_select, t_copy, t_store, t_expunge))
        self.assertEqual(s.close(), 0)


@unittest.skipUnless(os.geteuid() == 0, "stored is spawned as root, as the master does")
class TestStoredImapConfig(StoredImapCase):
    """What stored takes from the config snapshot: the separator, whether
    new keywords may be made."""
    CONFIG = {"imap_separator": "/", "imap_namespace": "", "imap_keywords": "no"}

    def test_separator_and_keywords(self):
        s = self.session("config")
        s.ok("open")
        s.ok("create Lists/Debian")
        s.ok("create a.b")
        root = self.root("config")
        self.assertTrue(os.path.isdir(os.path.join(root, ".Lists.Debian", "cur")))
        self.assertTrue(os.path.isdir(os.path.join(root, ".a\\056b", "cur")), os.listdir(root))
        names = [e.split("=", 1)[1] for w in s.cmd("list") if w[0] == "FOLDERS" for e in w[2:]]
        self.assertEqual(sorted(names), ["INBOX", "Lists", "Lists/Debian", "a.b"])
        self.append(s, "Lists/Debian", message("one"))
        self.assertEqual(s.final("select Lists/Debian")[3], "1")
        s.err("store add - NewKeyword - 1", "denied")
        self.assertEqual(s.final("store add F - - 1")[:2], ["STORED", "1"])
        s.err("append INBOX - NewKeyword 0 %s" % self.msgfile(message("two")), "denied")
        self.assertEqual(s.close(), 0)


if __name__ == "__main__":
    unittest.main()
