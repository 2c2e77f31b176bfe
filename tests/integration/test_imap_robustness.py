"""Random well-framed nonsense (a fixed seed, so a failure replays): commands from
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


class TestImapRobustness(unittest.TestCase):
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
        for i in range(3000):
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
        self.assertLess(restarts, 1000, "the session should mostly go on")
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


if __name__ == "__main__":
    unittest.main()
