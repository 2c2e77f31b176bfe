"""imapscript: IMAP dialogues as data (the idea of OpenSMTPD's smtpscript).

A dialogue file (tests/imap/*.imap) is a sequence of directives, client lines
and expected server lines.  Every file runs with two fresh users of its own,
${USER}/${PASS} and ${USER2}/${PASS2}.

Syntax (one item per line; blank lines are ignored)

    # comment               a line whose first non-blank character is '#';
                            also "  # text" (two or more blanks, then '#') ends a line
    config KEY = VALUE      header only: a config override for this file (the file then
                            gets an appliance of its own with these settings)
    peer-note TEXT          free text shown when the file fails (why a peer may differ)

  connections (a line may start with a connection name c1..c9: "c2 C: a NOOP";
  without one it is c1)

    connect [plain|tls|starttls]   open the connection: plaintext to the IMAP port
                            (default), implicit TLS to the IMAPS port, or plaintext
                            then STARTTLS; the greeting is read and must be "* OK"
                            (it is also ${GREETING})
    connect raw             as connect, but the greeting is left to an S: line
    tls                     start TLS now on this connection (after a STARTTLS by hand)
    login [USER PASS]       LOGIN (default ${USER} ${PASS}); its tagged OK is required
    select MAILBOX          SELECT, tagged OK required; examine MAILBOX likewise
    close                   close this connection (no LOGOUT)
    closed                  the server must close the connection: untagged lines may
                            come first, then EOF (within the timeout)
    timeout SECONDS         read deadline for the expectations that follow (default 10)
    sync                    wait until every pending S* line has matched (after pipelined
                            commands whose answers may come in any order)

  mail

    deliver [USER] FILE...  deliver fixture messages from tests/imap/messages/ (the
                            server's delivery path: posternctl deliver for Postern)
    drop [USER] FILE        as an MTA does, bypassing the server: write tmp/, rename
                            into new/ (the file is given the mail uid)
    set NAME VALUE          a variable

  variables: ${USER} ${PASS} ${USER2} ${PASS2}, ${P} the personal namespace prefix,
  ${S} the hierarchy separator, ${AUTHPLAIN} (base64 of NUL user NUL pass),
  ${AUTHPLAIN_BAD} (a wrong password), ${AUTHPLAIN_AUTHZ} (the right password, ${USER2}
  as the authorization identity), ${B64USER} ${B64PASS}, ${GREETING},
  ${LONG} (70000 x: longer than any command line limit), ${repeat N TEXT} (TEXT N times,
  expanded before literals are framed),
  and what S~ lines captured

  client lines (${NAME} is replaced everywhere, also in server lines)

    C: TEXT                 sent as is, CRLF appended.  Literals the runner frames:
                              {@FILE}   a fixture file (LF -> CRLF), synchronising: the
                                        runner waits for "+ " before sending the data
                              {'TEXT'}  inline text with escapes (\\r \\n \\t \\xNN \\\\ \\')
                              {@FILE+} {'TEXT'+}  LITERAL+ (RFC 7888): sent at once
                            if the server answers a synchronising literal with a tagged
                            line instead of "+ ", the rest of the command is not sent and
                            that line is left for the next S: line.  A plain "{5}" is
                            just text: the script says what follows ("S: + *", more C:).
    Cx: TEXT                as C:, with escapes (\\r \\n \\xNN \\0 ...) in TEXT
    Craw: TEXT              escapes, and no CRLF appended

  server lines.  A server "line" is one response: a literal ({n} at the end of a line)
  is read and the response continues after it, so a pattern sees
  '* 1 FETCH (BODY[] {12}\\r\\n...data...)' as one string.

    S: GLOB                 the next response must match GLOB.  A GLOB is literal text
                            in which only '*' is special (any run of characters, also
                            CRLF), except that a leading "* " is the untagged marker:
                            "* 2 EXISTS", "a1 OK *", "* FLAGS (*)".
    S~ REGEX                the same with a Python regex (whole response, re.fullmatch);
                            named groups (?P<NAME>...) become variables ${NAME}
    S= TEXT                 the response must be exactly TEXT
    S* GLOB   S*~ REGEX     unordered: must appear before the next S:/S~/S= line is
                            matched, in any order among themselves
    S! GLOB   S!~ REGEX     forbidden: no response matching it may come before the next
                            S:/S~/S= line is matched
    S? GLOB   S?~ REGEX     tolerated: any number of responses matching it (tagged ones
                            too) may come before the next S:/S~/S= line is matched

  A response that an unordered (S*) line still waits for is taken by that line first.
  Ordered matching is a subsequence over untagged responses: while waiting for an
  S:/S~/S= line, untagged responses ("* ...") that match nothing expected are skipped
  (servers may send untagged data at any time, RFC 9051 7); a tagged response, a
  continuation request ("+ ...") or EOF that does not match fails the file.

On failure the message names the file and line, the expectation, and every
response received while waiting for it.

`python3 imapscript.py FILE.imap...` runs files against a fresh server of the kind
PTEST_IMAP_PEER names, with the transcript on stderr (PTEST_IMAP_TRACE=1 prints it
in the tests too).  Runner(..., over_tls=True) makes every plain "connect" an IMAPS one.
"""
import base64
import os
import re
import socket
import ssl
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAP_DIR = os.path.join(TOP, "tests", "imap")
MESSAGES = os.path.join(IMAP_DIR, "messages")

TRACE = bool(os.environ.get("PTEST_IMAP_TRACE"))
_COMMENT = re.compile(r"\s{2,}#.*$")
_CONN = re.compile(r"^(c[1-9])\s+(.*)$")
_LITERAL_IN = re.compile(r"\{(@[A-Za-z0-9_.\-]+|'(?:[^'\\]|\\.)*')(\+?)\}")
_LITERAL_OUT = re.compile(rb"\{(\d+)\}\r\n$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REPEAT = re.compile(r"\$\{repeat (\d+) ((?:[^{}]|\{[^{}]*\})*)\}")


class ScriptError(AssertionError):
    pass


def unescape(text):
    """Python-style escapes to bytes (latin-1 for characters below 256)."""
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            n = text[i + 1]
            simple = {"r": 13, "n": 10, "t": 9, "0": 0, "\\": 92, "'": 39, '"': 34}
            if n == "x" and i + 3 < len(text) + 1:
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
        out += ch.encode("utf-8") if ord(ch) > 255 else bytes([ord(ch)])
        i += 1
    return bytes(out)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def glob_to_regex(pattern):
    """Only '*' is special; a leading "* " is the untagged marker, literal."""
    head = ""
    if pattern.startswith("* "):
        head, pattern = re.escape("* "), pattern[2:]
    return head + "".join(".*" if c == "*" else re.escape(c) for c in pattern)


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def read_fixture(name):
    with open(os.path.join(MESSAGES, name), "rb") as f:
        return f.read()


def show(resp):
    """A response for a failure message: printable, long literals shortened."""
    s = resp if isinstance(resp, str) else resp.decode("latin-1")
    s = s.replace("\r", "\\r").replace("\n", "\\n")
    lim = 100000 if TRACE else 400
    return s if len(s) < lim else s[:300] + " ... (%d chars) ... " % len(s) + s[-80:]


class Conn:
    def __init__(self, name, sock):
        self.name = name
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.pending = []     # (lineno, kind, regex, text) unordered, unmatched
        self.forbidden = []   # (lineno, regex, text)
        self.tolerated = []   # (lineno, regex, text)
        self.pushed = []      # responses put back (a refused literal)

    def send(self, data):
        if TRACE:
            sys.stderr.write("%s C> %s\n" % (self.name, show(data)))
        self.sock.sendall(data)

    def _fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError, BrokenPipeError):
            chunk = b""
        except ssl.SSLError as e:
            if "EOF" in str(e) or "UNEXPECTED" in str(e).upper():
                chunk = b""
            else:
                raise
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_line(self, deadline):
        """One CRLF (or LF) line with its ending, or None at EOF."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            if not self._fill(deadline):
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line
                return None

    def read_bytes(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ScriptError("EOF inside a %d-byte literal" % n)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, deadline):
        """One response as text (latin-1), literals included, without the final CRLF;
        None at EOF."""
        if self.pushed:
            return self.pushed.pop(0)
        line = self.read_line(deadline)
        if line is None:
            return None
        out = line
        while True:
            m = _LITERAL_OUT.search(out)
            if not m:
                break
            out += self.read_bytes(int(m.group(1)), deadline)
            more = self.read_line(deadline)
            if more is None:
                break
            out += more
        if out.endswith(b"\r\n"):
            out = out[:-2]
        elif out.endswith(b"\n"):
            out = out[:-1]
        if TRACE:
            sys.stderr.write("%s S< %s\n" % (self.name, show(out)))
        return out.decode("latin-1")


class Script:
    """One parsed dialogue file."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.config = {}
        self.notes = []
        self.lines = []  # (lineno, conn, kind, arg)
        with open(path, encoding="utf-8") as f:
            body_started = False
            for no, raw in enumerate(f, 1):
                line = raw.rstrip("\r\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                line = _COMMENT.sub("", line).rstrip()
                if line.startswith("config "):
                    if body_started:
                        raise ScriptError("%s:%d: config only in the header" % (path, no))
                    k, eq, v = line[7:].partition("=")
                    if not eq:
                        raise ScriptError("%s:%d: config KEY = VALUE" % (path, no))
                    self.config[k.strip()] = v.strip()
                    continue
                if line.startswith("peer-note "):
                    self.notes.append(line[10:])
                    continue
                body_started = True
                conn = "c1"
                m = _CONN.match(line)
                if m:
                    conn, line = m.group(1), m.group(2)
                kind, arg = self._kind(line, path, no)
                self.lines.append((no, conn, kind, arg))

    @staticmethod
    def _kind(line, path, no):
        for k in ("Craw:", "Cx:", "C:", "S*~", "S!~", "S?~", "S:", "S~", "S=", "S*", "S!", "S?"):
            if line.startswith(k):
                rest = line[len(k):]
                if rest.startswith(" "):
                    rest = rest[1:]
                return k, rest
        word, _, rest = line.partition(" ")
        if word in ("connect", "tls", "login", "select", "examine", "close", "closed",
                    "timeout", "deliver", "drop", "set", "sync"):
            return word, rest.strip()
        raise ScriptError("%s:%d: unknown line %r" % (path, no, line))


class Runner:
    """Runs a Script against a peer (imappeer.PosternPeer or DovecotPeer)."""

    def __init__(self, script, peer, user, password, user2, password2, over_tls=False):
        self.s = script
        self.over_tls = over_tls  # every plain "connect" is made to the IMAPS port
        self.peer = peer
        self.conns = {}
        self.timeout = 10.0
        self.lineno = 0
        self.vars = {
            "USER": user, "PASS": password, "USER2": user2, "PASS2": password2,
            "P": peer.settings.get("imap_namespace", "INBOX."),
            "S": peer.settings.get("imap_separator", "."),
            "HOST": "localhost",
            "AUTHPLAIN": b64("\0%s\0%s" % (user, password)),
            "AUTHPLAIN_BAD": b64("\0%s\0wrong-%s" % (user, password)),
            "AUTHPLAIN_AUTHZ": b64("%s\0%s\0%s" % (user2, user, password)),
            "B64USER": b64(user), "B64PASS": b64(password),
            "LONG": "x" * 70000,
        }
        self.seq = 0

    # -- helpers --------------------------------------------------------------
    def fail(self, msg, received=()):
        out = "%s:%d: %s" % (os.path.relpath(self.s.path, TOP), self.lineno, msg)
        if received:
            out += "\n  received:\n" + "\n".join("    " + show(r) for r in received)
        else:
            out += "\n  received: nothing"
        for n in self.s.notes:
            out += "\n  note: " + n
        raise ScriptError(out)

    def subst(self, text, regex=False):
        def rep(m):
            if m.group(1) not in self.vars:
                self.fail("unknown variable ${%s}" % m.group(1))
            v = self.vars[m.group(1)]
            return re.escape(v) if regex else v
        text = _REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), text)
        return _VAR.sub(rep, text)

    def conn(self, name):
        if name not in self.conns:
            self.fail("connection %s is not open (connect first)" % name)
        return self.conns[name]

    def deadline(self):
        return time.monotonic() + self.timeout

    def tag(self, prefix):
        self.seq += 1
        return "z%s%d" % (prefix, self.seq)

    # -- running --------------------------------------------------------------
    def run(self):
        try:
            for no, cname, kind, arg in self.s.lines:
                self.lineno = no
                getattr(self, "do_" + kind.replace(":", "_c").replace("~", "_re")
                        .replace("=", "_eq").replace("*", "_any").replace("!", "_not")
                        .replace("?", "_opt"))(cname, arg)
            for c in self.conns.values():
                if c.pending:
                    self.lineno = c.pending[0][0]
                    self.fail("[%s] end of file: never received %s" % (c.name, c.pending[0][3]))
        finally:
            for c in self.conns.values():
                try:
                    c.sock.close()
                except OSError:
                    pass

    def do_connect(self, cname, arg):
        mode = arg or "plain"
        if self.over_tls and mode == "plain":
            mode = "tls"
        if cname in self.conns:
            self.conns[cname].sock.close()
        port = self.peer.imaps_port if mode == "tls" else self.peer.imap_port
        try:
            sock = socket.create_connection((self.peer.host, port), timeout=self.timeout,
                                            source_address=("127.0.0.1", 0))
        except OSError as e:
            self.fail("[%s] connect to %s:%d: %s" % (cname, self.peer.host, port, e))
        if mode == "tls":
            sock = self._wrap(sock, cname)
        c = Conn(cname, sock)
        self.conns[cname] = c
        if mode == "raw":
            return
        greet = self._read(c)
        if greet is None or not greet.startswith("* OK"):
            self.fail("[%s] expected a greeting '* OK ...'" % cname, [greet or "<EOF>"])
        self.vars["GREETING"] = greet
        if mode == "starttls":
            self._command(c, "STARTTLS")
            self.do_tls(cname, "")
        elif mode not in ("plain", "tls"):
            self.fail("connect plain|tls|starttls|raw, not %r" % mode)

    def _wrap(self, sock, cname):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            return ctx.wrap_socket(sock, server_hostname="localhost")
        except (ssl.SSLError, OSError) as e:
            self.fail("[%s] TLS handshake: %s" % (cname, e))

    def do_tls(self, cname, arg):
        c = self.conn(cname)
        if c.buf:
            self.fail("[%s] bytes after the STARTTLS reply, before the handshake" % cname, [c.buf])
        c.sock = self._wrap(c.sock, cname)

    def _read(self, c):
        try:
            return c.read_response(self.deadline())
        except socket.timeout:
            return None

    def _command(self, c, text):
        """A runner-made command: skip untagged responses, require its tagged OK."""
        tag = self.tag(text.split()[0][:1])
        c.send(("%s %s\r\n" % (tag, text)).encode("utf-8"))
        got = []
        deadline = self.deadline()
        while True:
            try:
                r = c.read_response(deadline)
            except socket.timeout:
                self.fail("[%s] timed out waiting for '%s OK' to %s" % (c.name, tag, text), got)
            if r is None:
                self.fail("[%s] EOF waiting for '%s OK' to %s" % (c.name, tag, text), got)
            got.append(r)
            if r.startswith(tag + " "):
                if not r.startswith(tag + " OK"):
                    self.fail("[%s] %s refused" % (c.name, text), got)
                return got

    def do_login(self, cname, arg):
        parts = self.subst(arg).split()
        user, pw = (parts + [None, None])[:2] if parts else (self.vars["USER"], self.vars["PASS"])
        self._command(self.conn(cname), 'LOGIN "%s" "%s"' % (user, pw))

    def do_select(self, cname, arg):
        self._command(self.conn(cname), "SELECT " + self.subst(arg))

    def do_examine(self, cname, arg):
        self._command(self.conn(cname), "EXAMINE " + self.subst(arg))

    def do_close(self, cname, arg):
        self.conn(cname).sock.close()
        del self.conns[cname]

    def do_closed(self, cname, arg):
        c = self.conn(cname)
        got = []
        deadline = self.deadline()
        while True:
            try:
                r = c.read_response(deadline)
            except socket.timeout:
                self.fail("[%s] the server did not close the connection within %gs" % (cname, self.timeout), got)
            if r is None:
                break
            got.append(r)
            if not r.startswith("* "):
                self.fail("[%s] expected the connection to close" % cname, got)
        c.sock.close()
        del self.conns[cname]

    def do_sync(self, cname, arg):
        """Read until every pending unordered line has its response."""
        c = self.conn(cname)
        got = []
        deadline = self.deadline()
        while c.pending:
            try:
                r = c.read_response(deadline)
            except socket.timeout:
                self.fail("[%s] timed out (%gs) waiting for %s" % (cname, self.timeout, c.pending[0][3]), got)
            if r is None:
                self.fail("[%s] EOF waiting for %s" % (cname, c.pending[0][3]), got)
            got.append(r)
            for no, frx, ftext in c.forbidden:
                if frx.fullmatch(r):
                    self.fail("[%s] forbidden response (line %d: %s)" % (cname, no, ftext), got)
            hit = next((p for p in c.pending if p[2].fullmatch(r)), None)
            if hit:
                for k, v in hit[2].fullmatch(r).groupdict().items():
                    if v is not None:
                        self.vars[k] = v
                c.pending.remove(hit)
            elif not (r.startswith("* ") or any(t[1].fullmatch(r) for t in c.tolerated)):
                self.fail("[%s] unexpected response while waiting for %s" % (cname, c.pending[0][3]), got)
        c.forbidden = []
        c.tolerated = []

    def do_timeout(self, cname, arg):
        self.timeout = float(arg)

    def do_set(self, cname, arg):
        k, _, v = arg.partition(" ")
        self.vars[k] = self.subst(v)

    def _user_files(self, arg):
        words = self.subst(arg).split()
        if words and not words[0].endswith((".eml", ".txt")):
            return words[0], words[1:]
        return self.vars["USER"], words

    def do_deliver(self, cname, arg):
        user, files = self._user_files(arg)
        for f in files:
            self.peer.deliver(user, read_fixture(f))

    def do_drop(self, cname, arg):
        user, files = self._user_files(arg)
        md = self.peer.maildir(user)
        for f in files:
            self.seq += 1
            name = "%d.M%08dP%d.dropped" % (time.time(), self.seq, os.getpid())
            tmp = os.path.join(md, "tmp", name)
            with open(tmp, "wb") as out:
                out.write(read_fixture(f))
            os.chown(tmp, self.peer.mail_uid, self.peer.mail_uid)
            os.rename(tmp, os.path.join(md, "new", name))

    # -- client lines ---------------------------------------------------------
    def do_C_c(self, cname, arg):
        self._send_line(cname, self.subst(arg), escapes=False, eol=True)

    def do_Cx_c(self, cname, arg):
        self._send_line(cname, self.subst(arg), escapes=True, eol=True)

    def do_Craw_c(self, cname, arg):
        self._send_line(cname, self.subst(arg), escapes=True, eol=False)

    def _send_line(self, cname, text, escapes, eol):
        c = self.conn(cname)
        enc = (lambda t: unescape(t)) if escapes else (lambda t: t.encode("utf-8"))
        pos = 0
        out = b""
        for m in _LITERAL_IN.finditer(text):
            out += enc(text[pos:m.start()])
            spec, plus = m.group(1), m.group(2)
            data = crlf(read_fixture(spec[1:])) if spec.startswith("@") else unescape(spec[1:-1])
            if plus:
                out += b"{%d+}\r\n" % len(data) + data
            else:
                c.send(out + b"{%d}\r\n" % len(data))
                out = b""
                r = self._read(c)
                while r is not None and r.startswith("* "):
                    c.pushed.append(r)  # untagged before the continuation: keep for S: lines
                    r = self._read(c)
                if r is None:
                    self.fail("[%s] no '+ ' continuation for a {%d} literal" % (cname, len(data)))
                if not r.startswith("+"):
                    c.pushed.append(r)  # refused: the rest of the command is not sent
                    return
                c.send(data)
            pos = m.end()
        out += enc(text[pos:])
        if eol:
            out += b"\r\n"
        try:
            c.send(out)
        except OSError as e:
            self.fail("[%s] send: %s" % (cname, e))

    # -- server lines ---------------------------------------------------------
    def _compile(self, kind, arg):
        if kind.endswith("~"):
            try:
                return re.compile(self.subst(arg, regex=True))
            except re.error as e:
                self.fail("bad regex %r: %s" % (arg, e))
        if kind == "S=":
            return re.compile(re.escape(self.subst(arg)))
        return re.compile(glob_to_regex(self.subst(arg)), re.S)

    def _expect_ordered(self, cname, kind, arg):
        c = self.conn(cname)
        rx = self._compile(kind, arg)
        got = []
        deadline = self.deadline()
        while True:
            try:
                r = c.read_response(deadline)
            except socket.timeout:
                self.fail("[%s] timed out (%gs) waiting for  %s %s" % (cname, self.timeout, kind, arg), got)
            if r is None:
                self.fail("[%s] EOF waiting for  %s %s" % (cname, kind, arg), got)
            got.append(r)
            for no, frx, ftext in c.forbidden:
                if frx.fullmatch(r):
                    self.fail("[%s] forbidden response (line %d: %s) while waiting for  %s %s"
                              % (cname, no, ftext, kind, arg), got)
            # a response an unordered line still waits for is taken by it first
            hit = None
            for p in c.pending:
                pm = p[2].fullmatch(r)
                if pm:
                    hit = p
                    for k, v in pm.groupdict().items():
                        if v is not None:
                            self.vars[k] = v
                    break
            if hit:
                c.pending.remove(hit)
                continue
            m = rx.fullmatch(r)
            if m:
                if c.pending:
                    self.fail("[%s] '%s' came before the unordered line %d: %s"
                              % (cname, show(r), c.pending[0][0], c.pending[0][3]), got)
                c.forbidden = []
                c.tolerated = []
                for k, v in m.groupdict().items():
                    if v is not None:
                        self.vars[k] = v
                return
            if r.startswith("* ") or any(t[1].fullmatch(r) for t in c.tolerated):
                continue
            self.fail("[%s] unexpected response while waiting for  %s %s" % (cname, kind, arg), got)

    def do_S_c(self, cname, arg):
        self._expect_ordered(cname, "S:", arg)

    def do_S_re(self, cname, arg):
        self._expect_ordered(cname, "S~", arg)

    def do_S_eq(self, cname, arg):
        self._expect_ordered(cname, "S=", arg)

    def do_S_any(self, cname, arg):
        c = self.conn(cname)
        c.pending.append((self.lineno, "S*", self._compile("S*", arg), "S* " + arg))

    def do_S_any_re(self, cname, arg):
        c = self.conn(cname)
        c.pending.append((self.lineno, "S*~", self._compile("S~", arg), "S*~ " + arg))

    def do_S_not(self, cname, arg):
        self.conn(cname).forbidden.append((self.lineno, self._compile("S!", arg), "S! " + arg))

    def do_S_opt(self, cname, arg):
        self.conn(cname).tolerated.append((self.lineno, self._compile("S?", arg), "S? " + arg))

    def do_S_opt_re(self, cname, arg):
        self.conn(cname).tolerated.append((self.lineno, self._compile("S~", arg), "S?~ " + arg))

    def do_S_not_re(self, cname, arg):
        self.conn(cname).forbidden.append((self.lineno, self._compile("S~", arg), "S!~ " + arg))


def tls_capable(script):
    """Whether a file can run with every plain connection made over implicit TLS:
    not the ones about STARTTLS, TLS or plaintext."""
    with open(script.path) as f:
        text = f.read().lower()
    return not any(w in text for w in ("starttls", "connect tls", "\ntls", "tls_", "connect raw"))


def scripts(directory=IMAP_DIR):
    return [Script(os.path.join(directory, n)) for n in sorted(os.listdir(directory)) if n.endswith(".imap")]


if __name__ == "__main__":
    # python3 imapscript.py FILE.imap...: run files against a fresh peer
    # (PTEST_IMAP_PEER picks it) with the transcript on stderr
    import imappeer
    TRACE = True
    for path in sys.argv[1:]:
        sc = Script(path)
        peer = imappeer.make_peer(sc.config)
        try:
            peer.add_user("ta", "pw-ta")
            peer.add_user("tb", "pw-tb")
            Runner(sc, peer, "ta", "pw-ta", "tb", "pw-tb").run()
            print("%s: ok" % path)
        except ScriptError as e:
            print(e)
        finally:
            peer.cleanup()
