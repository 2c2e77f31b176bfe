"""Every fixture message (tests/imap/messages/, scripts/demo-mail/) read back over
IMAP agrees with itself and with Python's email package: RFC822.SIZE is the length
of BODY[], BODY[] is the file with CRLF line ends, BODY[HEADER] + BODY[TEXT] is
BODY[], each leaf part's BINARY[n] is its decoded payload and BINARY.SIZE[n] its
length, BODY[n.MIME] + BODY[n] is the part as it stands in the message, and the
BODYSTRUCTURE has one entry per leaf part."""
import email
import email.policy
import glob
import os
import re
import unittest

import imapscript
from imappeer import RawImap, make_peer

TOP = imapscript.TOP
FILES = sorted(glob.glob(os.path.join(TOP, "tests", "imap", "messages", "*.eml")) +
               glob.glob(os.path.join(TOP, "scripts", "demo-mail", "*.eml")))


def literal(resp, item):
    """The data of one FETCH item ("BODY[1]", "BINARY[2]") from a response; None for NIL."""
    i = resp.find(item + " ")
    if i < 0:
        raise AssertionError("no %s in %s" % (item, imapscript.show(resp)))
    rest = resp[i + len(item) + 1:]
    if rest.startswith("NIL"):
        return None
    if rest.startswith('""'):
        return b""
    m = re.match(r"~?\{(\d+)\}\r\n", rest)
    if m:
        start = m.end()
        return rest[start:start + int(m.group(1))].encode("latin-1")
    m = re.match(r'"((?:[^"\\]|\\.)*)"', rest)
    if m:
        return re.sub(r"\\(.)", r"\1", m.group(1)).encode("latin-1")
    raise AssertionError("cannot read %s in %s" % (item, imapscript.show(resp)))


def leaf_parts(msg, prefix=""):
    """[(part number, part)] of the leaves, IMAP numbering (RFC 9051 6.4.5)."""
    if not msg.is_multipart():
        return [(prefix or "1", msg)]
    out = []
    for i, sub in enumerate(msg.get_payload(), 1):
        num = "%s.%d" % (prefix, i) if prefix else str(i)
        if sub.is_multipart() and sub.get_content_maintype() != "message":
            out += leaf_parts(sub, num)
        else:
            out.append((num, sub))
    return out


class TestImapMessages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer()
        cls.peer.add_user("msgs", "pw-msgs")
        for path in FILES:
            with open(path, "rb") as f:
                cls.peer.deliver("msgs", f.read())

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def test_every_fixture(self):
        s = RawImap(self.peer)
        self.addCleanup(s.close)
        s.login("msgs", "pw-msgs")
        s.cmd("EXAMINE INBOX")
        got, _ = s.cmd("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = {}
        for r in got:
            m = re.match(r"\* (\d+) FETCH .*Message-ID: (<[^>]*>)", r, re.S | re.I)
            if m:
                ids[m.group(2)] = int(m.group(1))
        for path in FILES:
            with open(path, "rb") as f:
                raw = f.read()
            wire = imapscript.crlf(raw)
            parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
            name = os.path.relpath(path, TOP)
            with self.subTest(message=name):
                seq = ids.get(parsed["Message-ID"])
                if seq is None:  # no Message-ID: find it by its size
                    got, _ = s.cmd("SEARCH LARGER %d SMALLER %d" % (len(wire) - 1, len(wire) + 1))
                    seq = int(got[0].split()[2])
                got, _ = s.cmd("FETCH %d (RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] "
                               "BODYSTRUCTURE)" % seq)
                resp = "".join(got)
                size = int(re.search(r"RFC822\.SIZE (\d+)", resp).group(1))
                body = literal(resp, "BODY[]")
                self.assertEqual(body, wire)
                self.assertEqual(size, len(wire))
                self.assertEqual(literal(resp, "BODY[HEADER]") + literal(resp, "BODY[TEXT]"), wire)
                leaves = leaf_parts(parsed)
                bs = resp[resp.index("BODYSTRUCTURE"):]
                # leaf body types in BODYSTRUCTURE: "type" "subtype" pairs not followed by a list
                ntypes = len(re.findall(r'\("[A-Za-z0-9.+-]+" "[A-Za-z0-9.+-]+" (\(|NIL)', bs))
                if not any(p.get_content_maintype() == "message" for _, p in leaves):
                    self.assertEqual(ntypes, len(leaves), bs[:300])
                for num, part in leaves:
                    if part.get_content_maintype() == "message":
                        continue
                    cte = (part.get("Content-Transfer-Encoding") or "7bit").lower()
                    got, _ = s.cmd("FETCH %d (BINARY.PEEK[%s] BINARY.SIZE[%s] BODY.PEEK[%s.MIME] BODY.PEEK[%s])"
                                   % (seq, num, num, num, num))
                    pr = "".join(got)
                    decoded = part.get_payload(decode=True)
                    if cte in ("base64", "quoted-printable"):
                        decoded = decoded if cte == "base64" else imapscript.crlf(decoded)
                    else:
                        decoded = imapscript.crlf(decoded)
                    self.assertEqual(literal(pr, "BINARY[%s]" % num), decoded, "%s part %s" % (name, num))
                    self.assertEqual(int(re.search(r"BINARY\.SIZE\[%s\] (\d+)" % re.escape(num), pr).group(1)),
                                     len(decoded))
                    mime = literal(pr, "BODY[%s.MIME]" % num)
                    text = literal(pr, "BODY[%s]" % num)
                    if len(leaves) > 1 or parsed.is_multipart():
                        self.assertIn(mime + text, wire, "%s part %s" % (name, num))
                    else:
                        self.assertTrue(wire.endswith(text), "%s part %s" % (name, num))


class TestBigMessages(unittest.TestCase):
    """Large bodies travel whole (stored hands the worker the file): a 6 MB message
    by APPEND and back, partials anywhere in it, a 1 MB base64 attachment decoded by
    BINARY, a 200 KB line without a line break."""

    @classmethod
    def setUpClass(cls):
        cls.peer = make_peer()
        cls.peer.add_user("big", "pw-big")

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def test_big_append_fetch_partials_binary(self):
        self.big(tls=False, box="INBOX")

    def test_big_over_imaps(self):
        self.big(tls=True, box="INBOX.TLS")

    def big(self, tls, box):
        import base64
        import random
        rnd = random.Random(7)
        blob = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
        b64 = base64.encodebytes(blob).replace(b"\n", b"\r\n")
        text_lines = b"".join(b"line %07d %s\r\n" % (i, b"y" * 50) for i in range(80000))
        longline = b"z" * 200000 + b"\r\n"
        msg = (b"From: big@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=bb\r\n\r\n--bb\r\n"
               b"Content-Type: text/plain\r\n\r\n" + text_lines + longline +
               b"--bb\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
               b64 + b"--bb--\r\n")
        s = RawImap(self.peer, tls=tls, timeout=120)
        self.addCleanup(s.close)
        s.login("big", "pw-big")
        if box != "INBOX":
            s.cmd("CREATE " + box)
        s.send(b"a1 APPEND %s {%d+}\r\n" % (box.encode(), len(msg)) + msg + b"\r\n")
        r = s.read()
        while r.startswith("* "):
            r = s.read()
        self.assertTrue(r.startswith("a1 OK"), r)
        s.cmd("SELECT " + box)
        got, _ = s.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[])")
        resp = "".join(got)
        self.assertIn("RFC822.SIZE %d" % len(msg), resp)
        self.assertEqual(literal(resp, "BODY[]"), msg)
        rnd = random.Random(11)
        for off, n in [(0, 1), (len(msg) - 10, 10), (len(msg) - 5, 100), (3000000, 65536)] + \
                [(rnd.randrange(len(msg)), rnd.randrange(1, 300000)) for _ in range(5)]:
            got, _ = s.cmd("FETCH 1 (BODY.PEEK[]<%d.%d>)" % (off, n))
            self.assertEqual(literal("".join(got), "BODY[]<%d>" % off), msg[off:off + n], (off, n))
        got, _ = s.cmd("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])")
        resp = "".join(got)
        self.assertEqual(literal(resp, "BINARY[2]"), blob)
        self.assertIn("BINARY.SIZE[2] %d" % len(blob), resp)
        got, _ = s.cmd("FETCH 1 (BODY.PEEK[1])")
        self.assertEqual(literal("".join(got), "BODY[1]"), text_lines + longline[:-2])
        got, _ = s.cmd("SEARCH BODY \"line 0079999\"")
        self.assertIn("* SEARCH 1", got)


if __name__ == "__main__":
    unittest.main()
