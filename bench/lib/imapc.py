"""The IMAP client dialogue (RFC 3501 / 9051) on top of client: tagged
commands with their untagged data, literals in both directions, and a bulk
mode for the large responses of the folder scenario.

Every command is timed from the write of its line to the end of its tagged
reply, client side.  A tagged reply other than the expected status (OK by
default) raises ProtoError naming the command and the server's line, so a
server that fails a command is reported, never worked around.
"""

import asyncio
import re
import socket
import time

from . import HOST
from .client import ProtoError, close, connect, readline

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_EXISTS = re.compile(rb"^\* (\d+) EXISTS\r\n$", re.M)


def quote(s):
    """An IMAP quoted string of s (str)."""
    return b'"' + s.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class Reply:
    """One command's outcome: untagged lines (each with any literal it
    carried, joined), the tagged line, seconds from send to tagged reply,
    and the bytes received."""
    __slots__ = ("untagged", "tagged", "secs", "nbytes", "count", "data")

    def __init__(self, untagged, tagged, secs, nbytes, count=None, data=b""):
        self.untagged = untagged
        self.tagged = tagged
        self.secs = secs
        self.nbytes = nbytes
        self.count = len(untagged) if count is None else count
        self.data = data

    @property
    def ms(self):
        return self.secs * 1000

    def status_text(self):
        return self.tagged.decode(errors="replace").strip()

    def code(self, name):
        """The response code [NAME ...] of the tagged line, as text, or None."""
        m = re.search(rb"\[" + name.encode() + rb"( [^\]]*)?\]", self.tagged)
        return m.group(1).decode().strip() if m and m.group(1) else (name if m else None)


def _check(tag, what, tagged, expect):
    parts = tagged.rstrip(b"\r\n").split(b" ", 2)
    if len(parts) < 2 or parts[0] != tag or parts[1].upper() != expect:
        raise ProtoError(f"{what}: {tagged.decode(errors='replace').strip()[:300]}")


class Session:
    """One connection.  Tags are A1, A2, ...; caps is the CAPABILITY list
    (from the greeting's or LOGIN's response code, else asked for)."""

    def __init__(self, reader, writer, greeting):
        self.reader = reader
        self.writer = writer
        self.greeting = greeting
        self.n = 0
        self.caps = set()
        self._caps_from(greeting)

    def _caps_from(self, line):
        m = re.search(rb"\[CAPABILITY ([^\]]*)\]", line) or \
            re.match(rb"\* CAPABILITY (.*)\r\n", line)
        if m:
            self.caps = {c.upper() for c in m.group(1).decode(errors="replace").split()}

    def tag(self):
        self.n += 1
        return b"A%d" % self.n

    async def _read_response_line(self):
        """One response line with its literals: (line, bytes read)."""
        line = await readline(self.reader)
        parts, n = [line], len(line)
        while True:
            m = _LITERAL.search(line)
            if not m:
                break
            lit = await self.reader.readexactly(int(m.group(1)))
            line = await readline(self.reader)
            parts += [lit, line]
            n += len(lit) + len(line)
        return b"".join(parts), n

    async def cmd(self, text, expect=b"OK", literal=None):
        """Send 'TAG text' (bytes, no CRLF) and read to the tagged reply.
        literal: bytes sent as a synchronizing literal after the line (the
        line must end in {N}); the server's '+' is awaited first."""
        tag = self.tag()
        what = text.split(b" ", 1)[0].decode(errors="replace")
        if what.upper() == "UID":
            what = " ".join(x.decode(errors="replace") for x in text.split(b" ", 2)[:2])
        untagged, nbytes = [], 0
        t0 = time.perf_counter()
        self.writer.write(tag + b" " + text + b"\r\n")
        if literal is not None:
            while True:
                line, n = await self._read_response_line()
                nbytes += n
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    raise ProtoError(f"{what}: {line.decode(errors='replace').strip()[:300]}")
                untagged.append(line)
            self.writer.write(literal + b"\r\n")
        while True:
            line, n = await self._read_response_line()
            nbytes += n
            if line.startswith(tag + b" "):
                secs = time.perf_counter() - t0
                break
            if line.startswith(b"* BYE") and not text.upper().startswith(b"LOGOUT"):
                raise ProtoError(f"{what}: {line.decode(errors='replace').strip()[:300]}")
            untagged.append(line)
        _check(tag, what, line, expect)
        for u in untagged:
            if u.startswith(b"* CAPABILITY"):
                self._caps_from(u)
        self._caps_from(line)
        return Reply(untagged, line, secs, nbytes)

    async def bulk(self, text, expect=b"OK", keep=False, token=None):
        """Like cmd for a command whose reply carries no literals (FETCH
        FLAGS, STORE, COPY, MOVE, EXPUNGE of thousands): the reply is read in
        large chunks and only scanned for the tagged line, so the client's
        Python does not become what is measured.  Reply.count is the number
        of untagged lines, or with token (b" EXPUNGE\\r\\n") the number of times
        it occurs in them; Reply.data the raw untagged bytes if keep."""
        tag = self.tag()
        what = " ".join(x.decode(errors="replace") for x in text.split(b" ", 2)[:2])
        needle = b"\r\n" + tag + b" "
        chunks, tail, nbytes = [], b"\r\n", 0
        t0 = time.perf_counter()
        self.writer.write(tag + b" " + text + b"\r\n")
        while True:
            chunk = await self.reader.read(1 << 18)
            if not chunk:
                raise ProtoError(f"{what}: connection closed before the tagged reply")
            nbytes += len(chunk)
            chunks.append(chunk)
            window = tail + chunk
            i = window.find(needle)
            if i >= 0:
                # The tagged line has started: read to its end.
                rest = window[i + 2:]
                while not rest.endswith(b"\r\n"):
                    more = await self.reader.read(1 << 16)
                    if not more:
                        raise ProtoError(f"{what}: connection closed in the tagged reply")
                    nbytes += len(more)
                    chunks.append(more)
                    rest += more
                secs = time.perf_counter() - t0
                break
            tail = window[-(len(needle) + 2):]
        data = b"".join(chunks)
        j = data.rfind(b"\r\n" + tag + b" ")
        tagged = data[j + 2:] if j >= 0 else data
        body = data[:j + 2] if j >= 0 else b""
        _check(tag, what, tagged, expect)
        count = body.count(b"\r\n* ") + (1 if body.startswith(b"* ") else 0)
        if body.count(b"\r\n") != count:
            raise ProtoError(f"{what}: the reply has continuation or literal lines, which "
                             f"the bulk reader does not parse")
        if token is not None:
            count = body.count(token)
        return Reply([], tagged, secs, nbytes, count, body if keep else b"")

    async def login(self, user, pw):
        return await self.cmd(b"LOGIN " + quote(user) + b" " + quote(pw))

    async def select(self, mailbox="INBOX"):
        """SELECT: (Reply, EXISTS)."""
        r = await self.cmd(b"SELECT " + quote(mailbox))
        exists = None
        for u in r.untagged:
            m = _EXISTS.match(u)
            if m:
                exists = int(m.group(1))
        if exists is None:
            raise ProtoError(f"SELECT {mailbox}: no EXISTS in the reply")
        return r, exists

    async def logout(self):
        try:
            await self.cmd(b"LOGOUT")
        finally:
            await close(self.writer)


async def open_session(port, source=None):
    """connect and read the greeting (* OK); closed on failure."""
    reader, writer = await connect(port, source=source)
    try:
        greet = await readline(reader)
        if not greet.startswith(b"* OK"):
            raise ProtoError(f"greeting: {greet.decode(errors='replace').strip()}")
    except BaseException:
        await close(writer)
        raise
    return Session(reader, writer, greet)


async def login(port, user, pw, source=None):
    s = await open_session(port, source)
    try:
        await s.login(user, pw)
    except BaseException:
        await close(s.writer)
        raise
    return s


async def logout_all(sessions, conc=200):
    """LOGOUT (reply awaited up to 10 s) and close every Session, conc at a
    time; errors are ignored: the sessions end either way."""
    from .client import SESSION_ERRORS
    sem = asyncio.Semaphore(conc)

    async def one(s):
        async with sem:
            try:
                await asyncio.wait_for(s.cmd(b"LOGOUT"), 10)
            except SESSION_ERRORS:
                pass
            s.writer.close()
    await asyncio.gather(*(one(s) for s in sessions))


def probe_login(port, user, pw):
    """A blocking IMAP LOGIN + LOGOUT on port: (ok, detail)."""
    try:
        with socket.create_connection((HOST, port), timeout=3) as s:
            f = s.makefile("rwb")
            g = f.readline()
            if not g.startswith(b"* OK"):
                return False, f"greeting {g[:80]!r}"
            f.write(b"p1 LOGIN " + quote(user) + b" " + quote(pw) + b"\r\n")
            f.flush()
            while True:
                r = f.readline()
                if not r:
                    return False, "closed"
                if r.startswith(b"p1 "):
                    break
            if not r.startswith(b"p1 OK"):
                return False, r.decode(errors="replace").strip()
            f.write(b"p2 LOGOUT\r\n")
            f.flush()
            while True:
                r = f.readline()
                if not r or r.startswith(b"p2 "):
                    break
            return True, "ok"
    except OSError as e:
        return False, str(e)
