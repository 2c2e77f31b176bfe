"""The dialogue runner itself (imapscript.py) against a scripted fake server:
matching (glob, regex, exact, unordered, forbidden, tolerated), captures,
literals both ways, refused literals, EOF, and what a failure message says.
No daemon needed."""
import os
import re
import socket
import tempfile
import threading
import unittest

import imapscript


class FakeServer:
    """Greets, then answers each client line with handler(line, server) -> bytes.
    Everything received is kept in .received."""

    def __init__(self, handler):
        self.handler = handler
        self.received = b""
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.imap_port = self.imaps_port = self.lsock.getsockname()[1]
        self.host = "127.0.0.1"
        self.settings = {}
        self.mail_uid = os.getuid()
        self.threads = []
        self.conns = []
        t = threading.Thread(target=self.accept, daemon=True)
        self.threads.append(t)
        t.start()

    def accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.conns.append(c)
            t = threading.Thread(target=self.serve, args=(c,), daemon=True)
            self.threads.append(t)
            t.start()

    def serve(self, c):
        c.sendall(b"* OK fake ready\r\n")
        f = c.makefile("rb")
        self.conn = c
        self.file = f
        while True:
            line = f.readline()
            if not line:
                break
            # LITERAL+: the data and the rest of the command belong to this line
            m = re.search(rb"\{(\d+)\+\}\r\n$", line)
            while m:
                line += f.read(int(m.group(1))) + f.readline()
                m = re.search(rb"\{(\d+)\+\}\r\n$", line)
            self.received += line
            out = self.handler(line.rstrip(b"\r\n"), self)
            if out is None:
                break
            c.sendall(out)
        f.close()
        c.shutdown(socket.SHUT_RDWR)
        c.close()

    def read_literal(self, n):
        data = self.file.read(n)
        self.received += data
        return data

    def close(self):
        # Wake every thread out of its accept() or recv() before the fds are
        # closed: a thread left blocked on a closed fd number would read
        # from whatever later test gets that number (a daemon's greeting).
        for sock in [self.lsock] + self.conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.threads:
            t.join(10)
        self.lsock.close()


def run(text, handler):
    srv = FakeServer(handler)
    fd, path = tempfile.mkstemp(suffix=".imap")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        imapscript.Runner(imapscript.Script(path), srv, "u1", "p1", "u2", "p2").run()
        return srv, None
    except imapscript.ScriptError as e:
        return srv, str(e)
    finally:
        os.unlink(path)
        srv.close()


def simple(line, srv):
    tag, _, rest = line.decode().partition(" ")
    if rest.startswith("SELECT"):
        return (b"* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 777] x\r\n"
                b"%s OK [READ-WRITE] done\r\n" % tag.encode())
    if rest.startswith("STATUS"):
        return b'* STATUS INBOX (UIDVALIDITY 777)\r\n%s OK x\r\n' % tag.encode()
    if rest.startswith("FETCH"):
        return b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n* 1 EXPUNGE\r\n%s OK x\r\n" % tag.encode()
    if rest.startswith("APPEND"):
        if b"NoSuch" in line:
            return b"%s NO [TRYCREATE] no\r\n" % tag.encode()
        if b"+}" in line:  # the data came with the line
            return b"%s OK [APPENDUID 1 1] x\r\n" % tag.encode()
        n = int(line.rsplit(b"{", 1)[1][:-1])
        srv.conn.sendall(b"+ go\r\n")
        srv.read_literal(n)
        srv.received += srv.file.readline()
        return b"%s OK [APPENDUID 1 2] x\r\n" % tag.encode()
    if rest.startswith("LOGOUT"):
        srv.conn.sendall(b"* BYE bye\r\n%s OK x\r\n" % tag.encode())
        return None
    if rest.startswith("BAD"):
        return b"%s BAD no\r\n" % tag.encode()
    return b"%s OK fine\r\n" % tag.encode()


class TestImapScript(unittest.TestCase):
    def test_ordered_unordered_captures(self):
        srv, err = run("""connect
C: a1 SELECT INBOX
S* * 3 EXISTS
S* * FLAGS (*)
S~ \\* OK \\[UIDVALIDITY (?P<UV>\\d+)\\] .*
S: a1 OK [READ-WRITE]*
C: a2 STATUS INBOX (UIDVALIDITY)
S= * STATUS INBOX (UIDVALIDITY ${UV})
S: a2 OK*
""", simple)
        self.assertIsNone(err)
        self.assertIn(b"a2 STATUS INBOX (UIDVALIDITY)\r\n", srv.received)

    def test_missing_unordered_line_fails_with_context(self):
        _, err = run("connect\nC: a1 SELECT INBOX\nS* * 4 EXISTS\nS: a1 OK*\n", simple)
        self.assertIn(":4:", err)
        self.assertIn("S* * 4 EXISTS", err)
        self.assertIn("* 3 EXISTS", err)        # the lines received are shown
        self.assertIn("a1 OK [READ-WRITE] done", err)

    def test_unordered_lines_take_their_responses_first(self):
        _, err = run("connect\nC: a1 SELECT INBOX\nS* * FLAGS (*)\nS: * *\nS: a1 OK*\n", simple)
        self.assertIsNone(err)

    def test_sync_waits_for_unordered_lines(self):
        _, err = run("connect\nC: a1 NOOP\nC: a2 NOOP\nS* a2 OK*\nS* a1 OK*\nsync\nC: a3 NOOP\nS: a3 OK*\n", simple)
        self.assertIsNone(err)
        _, err = run("connect\nC: a1 NOOP\nS* a9 OK*\nsync\n", simple)
        self.assertIn("unexpected response while waiting for S* a9 OK*", err)

    def test_untagged_marker_is_literal_in_globs(self):
        _, err = run("connect\nC: a1 NOOP\nS: * OK*\n", simple)
        self.assertIn("unexpected response", err)

    def test_forbidden_and_tolerated(self):
        _, err = run("connect\nC: a1 FETCH 1 BODY[]\nS! * * EXPUNGE\nS: a1 OK*\n", simple)
        self.assertIn("forbidden response", err)
        _, err = run("connect\nC: b1 BAD\nC: b2 NOOP\nS: b2 OK*\n", simple)
        self.assertIn("unexpected response", err)
        _, err = run("connect\nC: b1 BAD\nC: b2 NOOP\nS? b* BAD*\nS: b2 OK*\n", simple)
        self.assertIsNone(err)

    def test_server_literal_is_part_of_the_response(self):
        _, err = run("connect\nC: a1 FETCH 1 BODY[]\nS~ \\* 1 FETCH \\(BODY\\[\\] \\{5\\}\\r\\nhello\\)\nS: a1 OK*\n",
                     simple)
        self.assertIsNone(err)

    def test_client_literals(self):
        msgs = os.path.join(imapscript.MESSAGES, "small.eml")
        with open(msgs, "rb") as f:
            small = imapscript.crlf(f.read())
        srv, err = run("""connect
C: a1 APPEND INBOX {@small.eml}
S: a1 OK [APPENDUID 1 2]*
C: a2 APPEND INBOX {'x\\r\\ny'+}
S: a2 OK [APPENDUID 1 1]*
C: a3 APPEND INBox.NoSuch {@small.eml}
S: a3 NO [TRYCREATE]*
C: a4 NOOP
S: a4 OK*
""", simple)
        self.assertIsNone(err)
        self.assertIn(b"a1 APPEND INBOX {%d}\r\n" % len(small) + small + b"\r\n", srv.received)
        self.assertIn(b"a2 APPEND INBOX {4+}\r\nx\r\ny\r\n", srv.received)
        # the refused literal was never sent
        self.assertIn(b"a3 APPEND INBox.NoSuch {%d}\r\na4 NOOP" % len(small), srv.received)

    def test_closed_and_eof(self):
        _, err = run("connect\nC: a1 LOGOUT\nS: * BYE*\nS: a1 OK*\nclosed\n", simple)
        self.assertIsNone(err)
        _, err = run("connect\nC: a1 LOGOUT\nS: * BYE*\nS: a1 OK*\nC: a2 NOOP\nS: a2 OK*\n", simple)
        self.assertIn("EOF waiting for", err)

    def test_variables_and_escapes(self):
        srv, err = run("connect\nCx: a1 NOOP \\x41${USER}\nS: a1 OK*\n"
                       "C: a2 AUTHENTICATE PLAIN ${AUTHPLAIN}\nS: a2 OK*\n", simple)
        self.assertIsNone(err)
        self.assertIn(b"a1 NOOP Au1\r\n", srv.received)
        self.assertIn(b"a2 AUTHENTICATE PLAIN AHUxAHAx\r\n", srv.received)
        srv, err = run("connect\nC: a1 NOOP ${repeat 3 X{'y'+} }Z\nS: a1 OK*\n", simple)
        self.assertIsNone(err)
        self.assertIn(b"a1 NOOP X{1+}\r\ny X{1+}\r\ny X{1+}\r\ny Z\r\n", srv.received)

    def test_every_dialogue_parses(self):
        names = [s.name for s in imapscript.scripts()]
        self.assertGreater(len(names), 30)
        for s in imapscript.scripts():
            for no, conn, kind, arg in s.lines:
                if kind in ("deliver", "drop"):
                    for f in arg.split():
                        if f.endswith(".eml"):
                            self.assertTrue(os.path.exists(os.path.join(imapscript.MESSAGES, f)),
                                            "%s:%d: %s" % (s.path, no, f))


if __name__ == "__main__":
    unittest.main()
