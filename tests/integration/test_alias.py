"""Aliases with several targets, and aliases of aliases (Courier's and
Postfix's aliases): `posternctl alias add ADDRESS TARGET...`, expanded by
authd's recipient lookup for SMTP and LMTP.  Each user an address reaches
gets exactly one copy, however many paths (two aliases, an alias and the
user) reach it in one transaction; each RCPT gets one reply.  Loops, chains
deeper than alias_max_depth and more users than alias_max_targets are
refused when the alias is added, and at RCPT (451, the sender keeps the
mail) if one got into the database anyway.  docs/POSTERNCTL.md "Aliases"
is the operator's side of the same."""
import glob
import os
import poplib
import smtplib
import subprocess
import unittest

from harness import Appliance, delivery_headers, free_port

USERS = ("demo", "demo2", "u3", "u4", "u5")


class TestAliases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance({"lmtp_listen": "127.0.0.1:%d" % cls.lport,
                             "alias_max_targets": "4", "alias_max_depth": "3"})
        for u in USERS[2:]:
            cls.app.ctl("user", "add", u, "-p", "pw-" + u)
        ctl = cls.app.ctl
        ctl("alias", "add", "team@localhost", "demo", "demo2", "u3")
        ctl("alias", "add", "all@localhost", "team", "u4")     # an alias of an alias
        ctl("alias", "add", "one@localhost", "demo")
        ctl("alias", "add", "both@localhost", "team", "one")  # demo by two paths
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def counts(self):
        return {u: len(glob.glob(os.path.join(self.app.maildir(u), "new", "*"))) for u in USERS}

    def delta(self, before):
        after = self.counts()
        return {u: after[u] - before[u] for u in USERS if after[u] != before[u]}

    def smtp(self, rcpts, subject):
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20)
        try:
            c.ehlo("client.test")
            self.assertEqual(c.mail("s@example.org")[0], 250)
            for r in rcpts:
                self.assertEqual(c.rcpt(r), (250, b"2.1.5 Recipient OK"), r)
            return c.data("Subject: %s\r\n\r\nbody\r\n" % subject)[0]
        finally:
            c.quit()

    def lmtp(self, rcpts, subject):
        c = smtplib.LMTP("127.0.0.1", self.lport, timeout=20)
        try:
            c.ehlo("client.test")
            self.assertEqual(c.mail("s@example.org")[0], 250)
            for r in rcpts:
                self.assertEqual(c.rcpt(r)[0], 250, r)
            first = c.data("Subject: %s\r\n\r\nbody\r\n" % subject)
            return [first[0]] + [c.getreply()[0] for _ in rcpts[1:]]
        finally:
            c.quit()

    def last(self, user):
        with open(sorted(glob.glob(os.path.join(self.app.maildir(user), "new", "*")))[-1], "rb") as f:
            return f.read()

    def test_fan_out_over_smtp(self):
        before, mark = self.counts(), self.app.log_mark()
        self.assertEqual(self.smtp(["team@localhost"], "fan out"), 250)
        self.assertEqual(self.delta(before), {"demo": 1, "demo2": 1, "u3": 1})
        for u in ("demo", "demo2", "u3"):
            delivery_headers(self.last(u), u)  # each copy names its own user
        self.app.wait_log(r"event=rcpt address=\"team@localhost\" status=found "
                          r"user=demo@localhost users=3", start=mark)

    def test_nested_and_overlapping_recipients_one_copy_each(self):
        before = self.counts()
        # all = team + u4; team again; demo by its own name; both = team + one(demo)
        rcpts = ["all@localhost", "team@localhost", "demo@localhost", "both@localhost"]
        self.assertEqual(self.smtp(rcpts, "overlap"), 250)
        self.assertEqual(self.delta(before), {"demo": 1, "demo2": 1, "u3": 1, "u4": 1})

    def test_lmtp_one_reply_per_rcpt(self):
        before = self.counts()
        replies = self.lmtp(["both@localhost", "u5@localhost", "team@localhost"], "lmtp")
        self.assertEqual(replies, [250, 250, 250])
        self.assertEqual(self.delta(before), {"demo": 1, "demo2": 1, "u3": 1, "u5": 1})

    def test_list_shows_the_targets(self):
        out = self.app.ctl("alias", "list").stdout
        self.assertIn("team@localhost -> demo@localhost, demo2@localhost, u3@localhost\n", out)
        self.assertIn("one@localhost -> demo@localhost\n", out)

    def test_an_alias_of_several_is_no_login(self):
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("team@localhost")
        with self.assertRaises(poplib.error_proto):
            p.pass_("demo")
        p.quit()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("one@localhost")  # one user: still a login, as before
        p.pass_("demo")
        p.quit()

    def refused(self, *args):
        r = self.app.ctl("alias", "add", *args, check=False)
        self.assertNotEqual(r.returncode, 0, args)
        self.assertNotIn("\n%s -> " % args[0], "\n" + self.app.ctl("alias", "list").stdout)
        return r.stderr

    def test_refused_at_add_time(self):
        ctl = self.app.ctl
        self.assertIn("at most 4 targets", self.refused("five@localhost", *USERS))
        self.assertIn("given twice", self.refused("twice@localhost", "demo", "demo"))
        self.assertIn("is not a user (nor an alias)", self.refused("x@localhost", "nobody"))
        # more users than alias_max_targets through nesting: team (3) + u4 + u5
        self.assertIn("alias_max_targets", self.refused("big@localhost", "team", "u4", "u5"))
        # deeper than alias_max_depth: c4 -> c3 -> c2 -> c1 -> demo
        ctl("alias", "add", "c1@localhost", "demo")
        ctl("alias", "add", "c2@localhost", "c1")
        ctl("alias", "add", "c3@localhost", "c2")
        self.assertIn("alias_max_depth", self.refused("c4@localhost", "c3"))
        # a loop: l2 -> l1, then l1 made again to name l2
        ctl("alias", "add", "l1@localhost", "demo2")
        ctl("alias", "add", "l2@localhost", "l1")
        ctl("alias", "del", "l1@localhost")
        self.assertIn("alias loop", self.refused("l1@localhost", "l2"))
        # a change that would take a parent over the limit: par -> p1 + u5
        ctl("alias", "add", "p1@localhost", "demo", "demo2")
        ctl("alias", "add", "par@localhost", "p1", "u5")
        ctl("alias", "del", "p1@localhost")
        err = self.refused("p1@localhost", "demo", "demo2", "u3", "u4")
        self.assertIn("then alias par@localhost", err)
        self.assertIn("alias_max_targets", err)

    def test_loop_refused_at_lookup(self):
        # a loop written into the database behind posternctl's back: m1 -> m2 -> m1
        ctl = self.app.ctl
        ctl("alias", "add", "m1@localhost", "demo")
        ctl("alias", "add", "m2@localhost", "m1")
        data = b"m1@localhost\nm2@localhost\n"  # mdb_load -T: key line, value line
        # Debian's mdb_load is glibc's LMDB, Postern's binaries musl's: their
        # lock-file mutexes differ, so never both at once (INSTALL.md): the
        # appliance is stopped around the write
        self.app.stop()
        try:
            r = subprocess.run(["mdb_load", "-T", "-s", "aliases", self.app.settings["userdb"]],
                               input=data, capture_output=True, timeout=30)
        finally:
            self.app.start()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("m1@localhost -> m2@localhost", ctl("alias", "list").stdout)
        mark = self.app.log_mark()
        try:
            c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20)
            c.ehlo("client.test")
            c.mail("s@example.org")
            self.assertEqual(c.rcpt("m2@localhost"),
                             (451, b"4.3.0 Temporary failure, try again later"))
            c.quit()
            self.app.wait_log(r"event=alias_refused address=\"m2@localhost\" reason=\"alias "
                              r"loop: m2@localhost -> ... -> m1@localhost -> m2@localhost\"",
                              start=mark)
            # the broken pair does not stop the operator adding others
            ctl("alias", "add", "fine@localhost", "demo")
        finally:
            ctl("alias", "del", "m1@localhost")
            ctl("alias", "del", "m2@localhost")

    def test_rename_retargets_inside_a_list(self):
        ctl = self.app.ctl
        ctl("user", "add", "rn", "-p", "pw-rn")
        ctl("alias", "add", "rl@localhost", "demo", "rn")
        ctl("user", "set", "rn", "--rename", "rn2@localhost")
        self.assertIn("rl@localhost -> demo@localhost, rn2@localhost\n", ctl("alias", "list").stdout)


if __name__ == "__main__":
    unittest.main()
