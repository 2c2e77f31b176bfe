"""Maildirs left by Dovecot and Courier are served as they are (DESIGN invariant 6,
docs/IMAP.md): their UIDVALIDITY, UIDs, UIDNEXT, flags, keywords and subscriptions
reach the client unchanged, so clients do not download everything again; mail
added afterwards continues the UIDs.  With PTEST_IMAP_PEER=dovecot the Courier
file is given to Dovecot under its own name (dovecot-uidlist version 1 is
courierimapuiddb's format)."""
import os
import re
import shutil
import unittest

from imappeer import RawImap, make_peer

T = 1700000000


def text(subject):
    return "From: old@example.org\nTo: demo@localhost\nSubject: %s\nMessage-ID: <%s@old>\n\nold mail\n" % (
        subject, subject)


class TestForeignMaildir(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def fresh_maildir(self):
        """A user whose Maildir exists (made by the server's own delivery) but holds
        nothing of the server's: no message, no index."""
        type(self).n += 1
        u = "fm%d" % self.n
        self.peer.add_user(u, "pw-" + u)
        self.peer.deliver(u, text("bootstrap"))
        md = self.peer.maildir(u)
        for sub in ("new", "cur"):
            for n in os.listdir(os.path.join(md, sub)):
                os.unlink(os.path.join(md, sub, n))
        for n in os.listdir(md):
            if n.startswith("postern-index") or n.startswith("dovecot"):
                p = os.path.join(md, n)
                shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
        return u, "pw-" + u, md

    def put(self, path, data):
        with open(path, "w") as f:
            f.write(data)
        os.chown(path, self.peer.mail_uid, self.peer.mail_uid)

    def message(self, md, name, info, subject, folder=""):
        d = os.path.join(md, folder, "cur") if folder else os.path.join(md, "cur")
        self.put(os.path.join(d, name + ":2," + info), text(subject))

    def view(self, u, pw, box="INBOX"):
        s = RawImap(self.peer)
        try:
            s.login(u, pw)
            got, _ = s.cmd("SELECT " + box)
            uidv = int(re.search(r"UIDVALIDITY (\d+)", " ".join(got)).group(1))
            nxt = int(re.search(r"UIDNEXT (\d+)", " ".join(got)).group(1))
            got, _ = s.cmd("UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            rows = []
            for r in got:
                m = re.match(r"\* \d+ FETCH \((?=.*UID (\d+))(?=.*FLAGS \(([^)]*)\)).*Subject: (\S+)", r, re.S)
                if m:
                    rows.append((int(m.group(1)), set(m.group(2).split()) - {"\\Recent"}, m.group(3)))
            lsub, _ = s.cmd('LSUB "" "*"')
            s.cmd("LOGOUT")
        finally:
            s.close()
        subs = sorted(r.rsplit(" ", 1)[1].strip('"') for r in lsub if r.startswith("* LSUB"))
        return uidv, nxt, sorted(rows), subs

    def test_dovecot_uidlist_and_keywords(self):
        self.dovecot_uidlist_and_keywords(rebuild_first=False)

    def test_dovecot_uidlist_after_index_rebuild(self):
        # the administrator's way (posternctl index rebuild USER) before the first login
        self.dovecot_uidlist_and_keywords(rebuild_first=True)

    def dovecot_uidlist_and_keywords(self, rebuild_first):
        u, pw, md = self.fresh_maildir()
        names = ["%d.M1P1.oldhost" % T, "%d.M2P1.oldhost" % (T + 1), "%d.M3P1.oldhost" % (T + 2)]
        self.message(md, names[0], "S", "one")
        self.message(md, names[1], "FRa", "two")     # a: keyword 0 of dovecot-keywords
        self.message(md, names[2], "b", "three")
        self.put(os.path.join(md, "dovecot-uidlist"),
                 "3 V1111111 N51 G0123456789abcdef0123456789abcdef\n40 :%s\n45 :%s\n50 :%s\n" % tuple(names))
        self.put(os.path.join(md, "dovecot-keywords"), "0 $Work\n1 Junk\n")
        if rebuild_first:
            self.peer.rebuild_index(u)
        uidv, nxt, rows, _ = self.view(u, pw)
        self.assertEqual(uidv, 1111111)
        self.assertEqual(nxt, 51)
        self.assertEqual([(r[0], r[2]) for r in rows], [(40, "one"), (45, "two"), (50, "three")])
        self.assertEqual(rows[0][1], {"\\Seen"})
        self.assertEqual(rows[1][1], {"\\Flagged", "\\Answered", "$Work"})
        self.assertEqual(rows[2][1], {"Junk"})
        self.peer.deliver(u, text("four"))
        uidv2, nxt2, rows2, _ = self.view(u, pw)
        self.assertEqual((uidv2, nxt2), (1111111, 52))
        self.assertEqual(rows2[-1][0], 51)

    def test_courier_uiddb_and_subscriptions(self):
        u, pw, md = self.fresh_maildir()
        names = ["%d.M1P1.courier" % T, "%d.M2P1.courier" % (T + 1)]
        self.message(md, names[0], "", "c-one")
        self.message(md, names[1], "ST", "c-two")
        uidfile = "dovecot-uidlist" if self.peer.name == "dovecot" else "courierimapuiddb"
        self.put(os.path.join(md, uidfile), "1 2222222 31\n10 %s\n20 %s\n" % tuple(names))
        sub = os.path.join(md, ".Archive")
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(sub, d))
            os.chown(os.path.join(sub, d), self.peer.mail_uid, self.peer.mail_uid)
        os.chown(sub, self.peer.mail_uid, self.peer.mail_uid)
        self.put(os.path.join(sub, "maildirfolder"), "")
        self.message(md, "%d.M9P1.courier" % T, "S", "archived", folder=".Archive")
        subfile = "subscriptions" if self.peer.name == "dovecot" else "courierimapsubscribed"
        self.put(os.path.join(md, subfile), "INBOX.Archive\n" if subfile != "subscriptions" else "Archive\n")
        uidv, nxt, rows, subs = self.view(u, pw)
        self.assertEqual((uidv, nxt), (2222222, 31))
        self.assertEqual([(r[0], r[2]) for r in rows], [(10, "c-one"), (20, "c-two")])
        self.assertEqual(rows[1][1], {"\\Seen", "\\Deleted"})
        self.assertIn("INBOX.Archive", subs)
        _, _, arch, _ = self.view(u, pw, "INBOX.Archive")
        self.assertEqual([(r[2], r[1]) for r in arch], [("archived", {"\\Seen"})])


if __name__ == "__main__":
    unittest.main()
