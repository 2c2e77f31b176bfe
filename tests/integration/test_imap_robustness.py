"""Random well-framed nonsense (1500 commands) (a fixed seed, so a failure replays): commands from
every state with arguments drawn from IMAP's tokens, good and bad -- sequence sets
at their limits, sections, partials, unbalanced lists, bad quoting, LITERAL+ data,
search keys, modifiers.  Every command gets a tagged OK, NO or BAD (or the session
ends with BYE, after which the test logs in again); nothing crashes: no worker or
stored dies of a signal or the sandbox, stored sees no malformed request
(DESIGN invariant 8), and the server still serves a normal session at the end."""
import random
import re
import socket
import unittest

from imappeer import RawImap, make_peer

COMMANDS = ["FETCH", "UID FETCH", "STORE", "UID STORE", "SEARCH", "UID SEARCH", "COPY", "UID COPY",
            "MOVE", "UID MOVE", "EXPUNGE", "UID EXPUNGE", "LIST", "LSUB", "STATUS", "SELECT", "EXAMINE",
            "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "NOOP", "CHECK", "UNSELECT",
            "ENABLE", "ID", "NAMESPACE", "GETQUOTAROOT", "GETQUOTA", "CAPABILITY", "APPEND", "X-NONSENSE",
            "LOGIN", "AUTHENTICATE", "STARTTLS"]
TOKENS = ["1", "*", "1:*", "0", "4294967295", "4294967296", "2,3:5", "$", "1:x", "3:1", "*:*", "1,,2",
          "FLAGS", "(UID FLAGS)", "BODY[]", "BODY[1.2.3.MIME]", "BODY.PEEK[HEADER.FIELDS (a b)]<0.5>",
          "BODY[TEXT]<4294967295.1>", "BINARY[1]", "BINARY.SIZE[2]", "BINARY[0]", "ENVELOPE", "BODYSTRUCTURE",
          "RFC822", "MODSEQ", "(", ")", "((((", "))", '"quoted"', '"unterminated', '"\\\\"', "NIL", "\\Seen",
          "\\Recent", "+FLAGS", "-FLAGS.SILENT", "(\\Deleted)", "(\\Bogus $kw)", "INBOX", '"INBOX.a b"',
          "INBOX.x", "&Jjo", "&AOk-", "%", "*x*", "CHARSET", "UTF-8", "X-FOO", "OR", "NOT", "HEADER",
          "SUBJECT", "LARGER", "99999999999999999999", "-1", "RETURN", "(MIN MAX)", "(SAVE)", "(CONDSTORE)",
          "(CHANGEDSINCE 1)", "(UNCHANGEDSINCE 0)", "SINCE", "1-Jan-2020", "32-Foo-99", '""', "~", "[", "]",
          "<1.2>", "(SUBSCRIBED)", "RETURN (STATUS (MESSAGES))", "(MESSAGES UIDNEXT)", "\x7f", "\xe9"]


class RobustnessBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer()
        cls.peer.add_user("rob", "pw-rob")
        for i in range(5):
            cls.peer.deliver("rob", "From: r@example.org\nSubject: r%d\nMIME-Version: 1.0\n"
                                    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx%d\n--b--\n" % (i, i))

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def session(self):
        s = RawImap(self.peer, timeout=20)
        s.login("rob", "pw-rob")
        s.cmd("SELECT INBOX")
        return s



class TestImapRobustness(RobustnessBase):
    def line(self, rnd):
        words = [rnd.choice(COMMANDS)] + [rnd.choice(TOKENS) for _ in range(rnd.randrange(0, 6))]
        text = " ".join(words)
        if rnd.random() < 0.15:  # a well-framed LITERAL+ argument in the middle
            data = "".join(rnd.choice("ab \r\n(){}*\"") for _ in range(rnd.randrange(0, 12)))
            text += " {%d+}\r\n%s %s" % (len(data.encode("latin-1")), data, rnd.choice(TOKENS))
        return text

    def test_random_commands(self):
        rnd = random.Random(20261201)
        mark = len(self.peer.log())
        s = self.session()
        restarts = 0
        for i in range(1500):
            text = self.line(rnd)
            try:
                got, tagged = s.cmd(text, ok=False, timeout=20)
            except AssertionError as e:   # EOF: the server ended the session (BYE first)
                self.assertIn("* BYE", str(e), "command %d %r" % (i, text))
                restarts += 1
                s.close()
                s = self.session()
                continue
            except socket.timeout:
                self.fail("no answer to command %d %r" % (i, text))
            self.assertRegex(tagged, r"^t\d+ (OK|NO|BAD)( |$)", "command %d %r" % (i, text))
            if text.startswith("STARTTLS") and tagged.split()[1] == "OK":
                s.close()                 # (TLS is not what this test is about)
                s = self.session()
        s.close()
        self.assertLess(restarts, 500, "the session should mostly go on")
        # still serving, normally
        s = self.session()
        got, _ = s.cmd("FETCH 1:* (UID)")
        self.assertTrue(got)
        s.cmd("LOGOUT")
        s.close()
        log = self.peer.log()[mark:]
        if self.peer.name == "postern":
            bad = [l for l in log.splitlines()
                   if re.search(r"signal=|sandbox_kill|ipc_violation|event=fatal", l)]
            self.assertEqual(bad, [], "%d restarts" % restarts)


def valid_command(rnd, exists):
    """A syntactically valid command of the selected state (RFC 9051 9)."""
    def seq():
        def one():
            return rnd.choice(["*", str(rnd.randint(1, max(exists, 1)))])
        parts = []
        for _ in range(rnd.randint(1, 3)):
            parts.append(one() if rnd.random() < 0.5 else "%s:%s" % (one(), one()))
        return ",".join(parts)

    def uidset():
        return ",".join(rnd.choice(["*", str(rnd.randint(1, 60)), "%d:%d" % (rnd.randint(1, 30), rnd.randint(1, 60)),
                                    "%d:*" % rnd.randint(1, 60)]) for _ in range(rnd.randint(1, 3)))

    def section():
        part = ".".join(str(rnd.randint(1, 3)) for _ in range(rnd.randint(0, 2)))
        spec = rnd.choice(["", "HEADER", "TEXT", "MIME", "HEADER.FIELDS (Subject From)",
                           "HEADER.FIELDS.NOT (Subject)"])
        if not part and spec == "MIME":
            spec = "TEXT"
        inner = part + ("." + spec if part and spec else spec)
        partial = "<%d.%d>" % (rnd.randint(0, 500), rnd.randint(1, 500)) if rnd.random() < 0.3 else ""
        return "[%s]%s" % (inner, partial)

    def fetch_items():
        items = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", "BODYSTRUCTURE", "MODSEQ",
                 "RFC822.HEADER", "BODY.PEEK" + section(), "BINARY.PEEK[%d]" % rnd.randint(1, 2),
                 "BINARY.SIZE[%d]" % rnd.randint(1, 2)]
        pick = rnd.sample(items, rnd.randint(1, 4))
        return "(" + " ".join(pick) + ")"

    def flags():
        return "(" + " ".join(rnd.sample(["\\Seen", "\\Flagged", "\\Answered", "\\Draft", "\\Deleted",
                                          "$Work", "$Label1", "Junk"], rnd.randint(0, 3))) + ")"

    def key(depth=0):
        simple = ["ALL", "SEEN", "UNSEEN", "FLAGGED", "DELETED", "UNDELETED", "ANSWERED", "DRAFT",
                  "KEYWORD $Work", "UNKEYWORD Junk", "LARGER %d" % rnd.randint(0, 500),
                  "SMALLER %d" % rnd.randint(0, 500), "SUBJECT r%d" % rnd.randint(0, 9), "BODY x",
                  "TEXT r", "FROM example", "HEADER Subject r", "SINCE 1-Jan-2020", "BEFORE 1-Jan-2100",
                  "SENTSINCE 1-Jan-1990", "UID " + uidset(), seq(), "MODSEQ %d" % rnd.randint(1, 50)]
        r = rnd.random()
        if depth < 3 and r < 0.15:
            return "OR %s %s" % (key(depth + 1), key(depth + 1))
        if depth < 3 and r < 0.25:
            return "NOT " + key(depth + 1)
        if depth < 3 and r < 0.35:
            return "(%s %s)" % (key(depth + 1), key(depth + 1))
        return rnd.choice(simple)

    uid = "UID " if rnd.random() < 0.5 else ""
    target = lambda: uidset() if uid else seq()
    box = rnd.choice(["INBOX", "INBOX.A", "INBOX.B"])
    c = rnd.choice(["FETCH", "FETCH", "FETCH", "STORE", "SEARCH", "SEARCH", "COPY", "MOVE", "EXPUNGE", "APPEND",
                    "STATUS", "NOOP", "LIST"])
    if c == "FETCH":
        mod = " (CHANGEDSINCE %d)" % rnd.randint(1, 40) if rnd.random() < 0.15 else ""
        return "%sFETCH %s %s%s" % (uid, target(), fetch_items(), mod)
    if c == "STORE":
        mod = "(UNCHANGEDSINCE %d) " % rnd.randint(0, 40) if rnd.random() < 0.15 else ""
        return "%sSTORE %s %s%s %s" % (uid, target(), mod, rnd.choice(["FLAGS", "+FLAGS", "-FLAGS", "+FLAGS.SILENT"]),
                                       flags())
    if c == "SEARCH":
        ret = "RETURN (%s) " % " ".join(rnd.sample(["MIN", "MAX", "COUNT", "ALL"], rnd.randint(0, 3))) \
            if rnd.random() < 0.3 else ""
        cs = "CHARSET UTF-8 " if rnd.random() < 0.2 else ""
        return "%sSEARCH %s%s%s" % (uid, ret, cs, key())
    if c in ("COPY", "MOVE"):
        return "%s%s %s %s" % (uid, c, target(), rnd.choice(["INBOX.A", "INBOX.B"]))
    if c == "EXPUNGE":
        return "UID EXPUNGE " + uidset() if uid else "EXPUNGE"
    if c == "APPEND":
        body = "Subject: r%d\r\n\r\nx\r\n" % rnd.randint(0, 9)
        return "APPEND %s %s{%d+}\r\n%s" % (box, flags() + " " if rnd.random() < 0.5 else "", len(body), body)
    if c == "STATUS":
        return "STATUS %s (%s)" % (box, " ".join(rnd.sample(["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
                                                              "SIZE", "HIGHESTMODSEQ"], rnd.randint(1, 3))))
    if c == "LIST":
        return 'LIST "" "%s"' % rnd.choice(["*", "%", "INBOX.%", "INBOX*"])
    return "NOOP"


class TestImapValidRandom(RobustnessBase):
    """Random valid commands (sequence numbers within EXISTS, real folders): never BAD.
    (Dovecot 2.3.19 fails this one: MOVE 1:1,*,*:1 trips an assertion in its cmd-copy.c.)"""

    def test_random_valid_commands(self):
        rnd = random.Random(1201)
        mark = len(self.peer.log())
        s = self.session()
        s.cmd("CREATE INBOX.A")
        s.cmd("CREATE INBOX.B")
        got, _ = s.cmd("NOOP")
        exists = 5
        counts = {}
        for i in range(2000):
            text = valid_command(rnd, exists)
            got, tagged = s.cmd(text, ok=False, timeout=20)
            word = tagged.split()[1]
            counts[word] = counts.get(word, 0) + 1
            self.assertIn(word, ("OK", "NO"), "command %d %r: %s" % (i, text, tagged))
            for r in got:
                m = re.match(r"\* (\d+) EXISTS$", r)
                if m:
                    exists = int(m.group(1))
                elif re.match(r"\* \d+ EXPUNGE$", r):
                    exists -= 1
            if exists == 0:
                body = "Subject: refill\r\n\r\nx\r\n"
                got, _ = s.cmd("APPEND INBOX {%d+}\r\n%s" % (len(body), body))
                got2, _ = s.cmd("NOOP")
                exists = 1
        s.cmd("LOGOUT")
        s.close()
        self.assertGreater(counts.get("OK", 0), 1500, counts)
        log = self.peer.log()[mark:]
        if self.peer.name == "postern":
            bad = [l for l in log.splitlines()
                   if re.search(r"signal=|sandbox_kill|ipc_violation|event=fatal", l)]
            self.assertEqual(bad, [])


if __name__ == "__main__":
    unittest.main()
