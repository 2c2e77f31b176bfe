"""The POP3 client dialogue (RFC 1939) on top of client: what every POP3
scenario sends, with replies checked."""

import asyncio
import socket
import time

from . import HOST
from .client import SESSION_ERRORS, ProtoError, close, connect, quickack, readline


async def cmd(reader, writer, line):
    """Send one command line (bytes with CRLF); the +OK reply or ProtoError."""
    writer.write(line)
    resp = await readline(reader)
    if not resp.startswith(b"+OK"):
        raise ProtoError(f"{line.split()[0].decode()}: {resp.decode(errors='replace').strip()}")
    return resp


async def login(port, user, pw, source=None):
    """connect, greeting, USER, PASS: (reader, writer); closed on failure."""
    reader, writer = await connect(port, source=source)
    try:
        greet = await readline(reader)
        if not greet.startswith(b"+OK"):
            raise ProtoError(f"greeting: {greet.decode(errors='replace').strip()}")
        await cmd(reader, writer, b"USER %s\r\n" % user.encode())
        await cmd(reader, writer, b"PASS %s\r\n" % pw.encode())
    except BaseException:
        await close(writer)
        raise
    return reader, writer


async def session(port, user, pw, mode):
    """mode 'full': STAT + RETR all + QUIT; 'login': QUIT right after PASS.
    Returns (latency seconds, bytes received, slowest RETR seconds)."""
    t0 = time.perf_counter()
    reader, writer = await login(port, user, pw)
    got = 0
    slowest = 0.0
    try:
        if mode == "full":
            st = await cmd(reader, writer, b"STAT\r\n")
            count = int(st.split()[1])
            for i in range(1, count + 1):
                t1 = time.perf_counter()
                await cmd(reader, writer, b"RETR %d\r\n" % i)
                # Our messages are never empty, so the body ends in CRLF.CRLF.
                body = await reader.readuntil(b"\r\n.\r\n")
                slowest = max(slowest, time.perf_counter() - t1)
                got += len(body)
        await cmd(reader, writer, b"QUIT\r\n")
        lat = time.perf_counter() - t0
    finally:
        await close(writer)
    return lat, got, slowest


async def quit_all(conns, conc=200):
    """QUIT (reply awaited up to 10 s) and close every (reader, writer),
    conc at a time; errors are ignored: the sessions end either way."""
    sem = asyncio.Semaphore(conc)

    async def one(reader, writer):
        async with sem:
            try:
                writer.write(b"QUIT\r\n")
                await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)
            except SESSION_ERRORS:
                pass
            writer.close()
    await asyncio.gather(*(one(r, w) for r, w in conns))


def probe_login(port, user, pw, tls_ctx=None, server_name="localhost"):
    """A blocking POP3 login on port (over implicit TLS with tls_ctx): (ok, detail)."""
    try:
        with socket.create_connection((HOST, port), timeout=3) as raw:
            s = tls_ctx.wrap_socket(raw, server_hostname=server_name) if tls_ctx else raw
            f = s.makefile("rwb")
            if not f.readline().startswith(b"+OK"):
                return False, "no greeting"
            for c in (f"USER {user}", f"PASS {pw}"):
                f.write(c.encode() + b"\r\n")
                f.flush()
                r = f.readline()
                if not r.startswith(b"+OK"):
                    return False, r.decode(errors="replace").strip()
            f.write(b"QUIT\r\n")
            f.flush()
            f.readline()
            return True, "ok"
    except OSError as e:      # ssl.SSLError included
        return False, str(e)


def retr_probe(port, user, pw, use_quickack):
    """One session with a plain blocking client: the time of every RETR, in ms.
    use_quickack: TCP_QUICKACK before every read, so the client never delays
    its ACKs (tells a server-side Nagle / delayed-ACK stall from real work)."""
    with socket.create_connection((HOST, port), timeout=10) as s:
        f = s.makefile("rb")

        def line():
            if use_quickack:
                quickack(s)
            return f.readline()

        def c(text):
            s.sendall(text)
            r = line()
            if not r.startswith(b"+OK"):
                raise ProtoError(f"{text.split()[0].decode()}: "
                                 f"{r.decode(errors='replace').strip()}")
            return r

        line()
        c(f"USER {user}\r\n".encode())
        c(f"PASS {pw}\r\n".encode())
        n = int(c(b"STAT\r\n").split()[1])
        times = []
        for i in range(1, n + 1):
            t0 = time.perf_counter()
            c(b"RETR %d\r\n" % i)
            while line() not in (b".\r\n", b""):
                pass
            times.append((time.perf_counter() - t0) * 1000)
        c(b"QUIT\r\n")
    return times
