#!/usr/bin/env python3
"""Reliability soak (issue 13 item 5): a bounded run of mixed sessions on one
private Postern, then a check that nothing leaked and nothing died.

Not a timed test and not part of `make test`; run by hand as root after
`make all`:

    python3 bench/soak.py --minutes 30 --rate 20

For --minutes at a fixed rate (--rate new sessions per second), from many
loopback source addresses, the whole time, in a fixed repeating mix:
  good logins    POP3 and IMAP, plaintext and implicit TLS (pop3s/imaps, an
                 ECDSA P-256 and an RSA 2048 certificate, alternately):
                 POP3 STAT + RETR of the two small messages + QUIT, IMAP
                 SELECT + FETCH of the two small messages + LOGOUT
  failed logins  a wrong password, an unknown user (POP3 and IMAP)
  killed         the client closes the socket in the middle of a command:
                 a RETR or FETCH of the 1 MiB message after the first bytes,
                 an APPEND after half of its literal, a TLS handshake after
                 the ClientHello or after the server's first flight
Every minute it samples the fds (/proc/PID/fd, by type) and the private
memory (smaps_rollup Private_Clean + Private_Dirty) of the master, authd and
keyd, and their pids.  At the end, once the load has stopped and the
sessions have drained, the verdict: fd counts back to the baseline, memory
within a tolerance (see MEM_* below), no long-running process died or
changed pid, no `child_died`, `fatal` or `ipc_violation` in the log, no
worker or stored left, every good session succeeded, every failed login got
the protocol's authentication failure (refusals counted apart), and the
per-minute login latency did not grow.  --write-doc puts the report into
docs/BENCHMARKS.md as a dated section.
"""

import argparse
import asyncio
import datetime
import ipaddress
import math
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import HOST, ROOT, BenchError, client, log, run_main            # noqa: E402
from lib import imapc, pop3c, tlsbench                                   # noqa: E402
from lib.client import SESSION_ERRORS, ProtoError, readline              # noqa: E402
from lib.data import setup_users                                         # noqa: E402
from lib.procfs import machine_busy, proc_exe, smaps_rollup, start_time   # noqa: E402
from lib.report import DOC_HEADER, count_errors, fmt, git_commit, machine_info, pct, \
    write_doc                                                            # noqa: E402
from lib.servers import Postern, port_in_use                             # noqa: E402

SESSION_TIMEOUT = 30.0      # one whole session, client side
SMALL = (2048, 8192)        # messages 1 and 2: fetched whole by the good sessions
LARGE = 1 << 20             # message 3: the one a killed RETR/FETCH is reading
KILL_AFTER = 16 * 1024      # bytes of the large message read before the kill
APPEND_SIZE = 64 * 1024     # the killed APPEND's literal; half of it is sent
SOURCES = 200               # source addresses 127.0.0.2 .. 127.0.0.201
BROKERS = ("master", "authd", "keyd")
# Memory tolerances, per process (KiB).  After the drain, private memory may
# stay above the idle baseline by MEM_DRAINED: the allocator keeps freed pages
# it may reuse, and authd keeps bounded tables that fill under load (failure
# records, trusted (user, address) pairs).  keyd may keep its TLS session
# cache on top: tls_session_cache entries of about CACHE_ENTRY bytes (the
# figure docs/CONFIG.md gives), calloc'd at start, so its pages become
# private as handshakes land in them, which takes many thousand handshakes.
# None of that depends on how long the run was.  A leak does: between the
# middle sample and the last one under load (half the run, thousands of
# sessions) memory may grow by MEM_SECOND_HALF at most, which is under 30
# bytes per session of a 30-minute run at 20/s.  keyd's cache may still be
# making pages private after the middle sample: with n full handshakes before
# it, each landing on one of the cache's P pages at random, about
# exp(-n / P) of them are untouched, and that much of the cache is added to
# keyd's tolerance (nothing, to the KiB, once n is over 8 P: 3,300 handshakes).
MEM_DRAINED = 2048
MEM_SECOND_HALF = 512
CACHE_ENTRY = 170
TLS_SESSION_CACHE = 10000   # Postern's default; the soak does not change it
CACHE_KIB = TLS_SESSION_CACHE * CACHE_ENTRY // 1024
# Latency: the last third of the minutes against the first third, p50 and
# p99 of the good logins (plain and TLS apart): "grew" is more than
# LAT_FACTOR times and more than LAT_SLACK_MS above.  The machine is shared,
# so single minutes are noisy: each third is the median of its minutes.
LAT_FACTOR = 1.5
LAT_SLACK_MS = 5.0

# The mix: one cycle of kinds, repeated for the whole run (20 per cycle, so
# at 20/s one cycle a second).  Each kind is (name, protocol, TLS, what).
MIX = (
    [("pop3 good", "pop3", False, "good")] * 3 +
    [("pop3s good", "pop3", True, "good")] * 2 +
    [("imap good", "imap", False, "good")] * 3 +
    [("imaps good", "imap", True, "good")] * 2 +
    [("pop3 wrong password", "pop3", False, "badpass"),
     ("imap wrong password", "imap", False, "badpass"),
     ("pop3s unknown user", "pop3", True, "nouser"),
     ("imap unknown user", "imap", False, "nouser"),
     ("pop3 killed in RETR", "pop3", False, "kill_retr"),
     ("imaps killed in FETCH", "imap", True, "kill_fetch"),
     ("imap killed in FETCH", "imap", False, "kill_fetch"),
     ("imap killed in APPEND literal", "imap", False, "kill_append"),
     ("pop3s killed in TLS handshake", "pop3", True, "kill_tls"),
     ("imaps killed in TLS handshake", "imap", True, "kill_tls")]
)
# A reorder so that the kinds are spread over the cycle, not in blocks.
MIX = [MIX[(i * 7) % len(MIX)] for i in range(len(MIX))]


class Refused(Exception):
    """The server refused for now (a [SYS/TEMP] or [UNAVAILABLE] answer, a busy greeting)."""


class AuthFailed(Exception):
    """The protocol's authentication failure."""


def source_addr(i):
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("127.0.0.2")) + i % SOURCES))


def classify(e):
    """A ProtoError text -> Refused / AuthFailed / the error itself."""
    t = str(e)
    if "[SYS/TEMP]" in t or "[UNAVAILABLE]" in t or "too many" in t or "busy" in t:
        return Refused(t)
    if "[AUTH]" in t or "AUTHENTICATIONFAILED" in t:
        return AuthFailed(t)
    return e


# -- connections ----------------------------------------------------------------

async def open_conn(port, ctx, source):
    """(reader, writer) on port, over TLS with ctx (implicit TLS) if given."""
    if ctx is None:
        return await client.connect(port, source=source)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=client.STREAM_LIMIT, loop=loop)
    transport, protocol = await loop.create_connection(
        lambda: client._QuickAckProtocol(reader, loop=loop), HOST, port,
        local_addr=(source, 0), ssl=ctx, server_hostname=tlsbench.TLS_NAME,
        ssl_handshake_timeout=SESSION_TIMEOUT)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


def kill(writer, rep):
    """Drop the connection (rep: the cycle's number): every other time an
    abort (RST), else a close (FIN; with unread data the kernel sends a RST)."""
    if (rep // 4) % 2:
        writer.transport.abort()
    else:
        writer.close()


async def pop3_session(port, ctx, src, user, pw, what, rep):
    """One POP3 session; returns the login latency (s) of a good one."""
    t0 = time.perf_counter()
    reader, writer = await open_conn(port, ctx, src)
    try:
        greet = await readline(reader)
        if not greet.startswith(b"+OK"):
            raise classify(ProtoError(f"greeting: {greet.decode(errors='replace').strip()}"))
        try:
            await pop3c.cmd(reader, writer, b"USER %s\r\n" % user.encode())
            await pop3c.cmd(reader, writer, b"PASS %s\r\n" % pw.encode())
        except ProtoError as e:
            raise classify(e)
        lat = time.perf_counter() - t0
        if what in ("badpass", "nouser"):
            raise ProtoError("login succeeded with a wrong password or an unknown user")
        st = await pop3c.cmd(reader, writer, b"STAT\r\n")
        if int(st.split()[1]) != 3:
            raise ProtoError(f"STAT: {st!r}, expected 3 messages")
        if what == "kill_retr":
            await pop3c.cmd(reader, writer, b"RETR 3\r\n")
            await reader.readexactly(KILL_AFTER)
            kill(writer, rep)
            return None
        for n, size in enumerate(SMALL, 1):
            await pop3c.cmd(reader, writer, b"RETR %d\r\n" % n)
            body = await reader.readuntil(b"\r\n.\r\n")
            if len(body) < size:
                raise ProtoError(f"RETR {n}: {len(body)} bytes, message is {size}")
        await pop3c.cmd(reader, writer, b"QUIT\r\n")
        return lat
    finally:
        writer.close()


async def imap_session(port, ctx, src, user, pw, what, rep):
    t0 = time.perf_counter()
    reader, writer = await open_conn(port, ctx, src)
    try:
        greet = await readline(reader)
        if not greet.startswith(b"* OK"):
            raise classify(ProtoError(f"greeting: {greet.decode(errors='replace').strip()}"))
        s = imapc.Session(reader, writer, greet)
        try:
            await s.login(user, pw)
        except ProtoError as e:
            raise classify(e)
        lat = time.perf_counter() - t0
        if what in ("badpass", "nouser"):
            raise ProtoError("login succeeded with a wrong password or an unknown user")
        _r, exists = await s.select("INBOX")
        if exists != 3:
            raise ProtoError(f"SELECT: {exists} messages, expected 3")
        if what == "kill_fetch":
            writer.write(s.tag() + b" FETCH 3 (BODY.PEEK[])\r\n")
            await reader.readexactly(KILL_AFTER)
            kill(writer, rep)
            return None
        if what == "kill_append":
            tag = s.tag()
            writer.write(tag + b" APPEND INBOX {%d}\r\n" % APPEND_SIZE)
            line = await readline(reader)
            if not line.startswith(b"+"):
                raise ProtoError(f"APPEND: {line.decode(errors='replace').strip()}")
            writer.write(b"x" * (APPEND_SIZE // 2))
            await writer.drain()
            kill(writer, rep)
            return None
        r = await s.cmd(b"FETCH 1:2 (BODY.PEEK[])")
        if len(r.untagged) != 2 or r.nbytes < sum(SMALL):
            raise ProtoError(f"FETCH 1:2: {len(r.untagged)} responses, {r.nbytes} bytes")
        await s.cmd(b"LOGOUT")
        return lat
    finally:
        writer.close()


async def tls_kill(port, ctx, src, rep):
    """Connect, send the ClientHello, then (every other time) read the
    server's first flight (ServerHello .. ServerHelloDone, so keyd has signed),
    and close without answering.  rep: the cycle's number."""
    reader, writer = await client.connect(port, source=src)
    try:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname=tlsbench.TLS_NAME)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        writer.write(outgoing.read())
        await writer.drain()
        if (rep // 2) % 2:
            while True:
                data = await reader.read(65536)
                if not data:
                    raise ProtoError("TLS: closed by the server before its first flight")
                incoming.write(data)
                try:
                    obj.do_handshake()
                except ssl.SSLWantReadError:
                    if outgoing.pending:
                        break       # the client's second flight: the server waits for it
                    continue
                raise ProtoError("TLS: handshake finished, expected to be cut first")
        kill(writer, rep)
    finally:
        writer.close()


# -- the load -----------------------------------------------------------------------

class Load:
    def __init__(self, a, ports, users, cases):
        self.a, self.ports, self.users, self.cases = a, ports, users, cases
        self.ctxs = [tlsbench.tls_context(c) for c in cases]
        self.results = []       # (t since start, kind name, outcome, login latency or None)
        self.errors = []        # (kind name, text)
        self.late = 0.0
        self.n = 0

    async def one(self, i, t_rel):
        name, proto, tls, what = MIX[i % len(MIX)]
        rep = i // len(MIX)
        ctx = self.ctxs[rep % len(self.ctxs)] if tls else None
        port = self.ports[(proto, tls)]
        src = source_addr(i)
        user, pw = self.users[i % len(self.users)]
        if what == "badpass":
            pw = pw + "-wrong"
        elif what == "nouser":
            user, pw = f"nobody{i % 1000}", "whatever"
        lat, outcome = None, None
        try:
            if what == "kill_tls":
                await asyncio.wait_for(tls_kill(port, ctx, src, rep), SESSION_TIMEOUT)
                outcome = "killed"
            elif proto == "pop3":
                lat = await asyncio.wait_for(
                    pop3_session(port, ctx, src, user, pw, what, rep), SESSION_TIMEOUT)
            else:
                lat = await asyncio.wait_for(
                    imap_session(port, ctx, src, user, pw, what, rep), SESSION_TIMEOUT)
            if outcome is None:
                outcome = "ok" if what == "good" else "killed"
        except AuthFailed as e:
            outcome = "auth failed" if what in ("badpass", "nouser") else "error"
            if outcome == "error":
                self.errors.append((name, f"AuthFailed: {e}"))
        except Refused as e:
            outcome = "refused"
            self.errors.append((name, f"refused: {e}"))
        except SESSION_ERRORS as e:
            outcome = "error"
            self.errors.append((name, f"{type(e).__name__}: {e}"))
        self.results.append((t_rel, name, outcome, lat, tls))

    async def run(self, sampler):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        self.t0 = t0
        end = self.a.minutes * 60.0
        tasks = set()
        next_sample = 60.0
        i = 0
        while True:
            t_next = i / self.a.rate
            if t_next >= end:
                break
            if t_next >= next_sample:
                sampler(int(next_sample // 60), len(tasks))
                next_sample += 60.0
            delay = t0 + t_next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.late = max(self.late, -delay)
            task = asyncio.create_task(self.one(i, t_next))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        self.n = i
        self.load_wall = loop.time() - t0
        sampler(int(end // 60), len(tasks))
        if tasks:
            await asyncio.gather(*tasks)
        self.wall = loop.time() - t0


# -- samples --------------------------------------------------------------------------

def fd_types(pid):
    """{type: count} of /proc/PID/fd: socket, pipe, anon_inode:[...], memfd, file."""
    out = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in names:
        try:
            t = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if t.startswith("socket:"):
            k = "socket"
        elif t.startswith("pipe:"):
            k = "pipe"
        elif t.startswith("anon_inode:"):
            k = t
        elif t.startswith("/memfd:"):
            k = "memfd"
        else:
            k = "file " + t
        out[k] = out.get(k, 0) + 1
    return out


def brokers(server):
    """{name: [pid]} of the master and its authd and keyd processes."""
    out = {"master": [server.proc.pid], "authd": [], "keyd": []}
    for pid in server.pids():
        b = os.path.basename(proc_exe(pid))
        if b == "postern-authd":
            out["authd"].append(pid)
        elif b == "postern-keyd":
            out["keyd"].append(pid)
    return out


def sample(server, label, inflight=0):
    s = {"label": label, "t": time.monotonic(), "inflight": inflight, "procs": {}}
    for name, pids in brokers(server).items():
        for pid in pids:
            types = fd_types(pid) or {}
            v = smaps_rollup(pid) or {}
            s["procs"].setdefault(name, []).append({
                "pid": pid, "start": start_time(pid), "fds": sum(types.values()),
                "types": types,
                "private": v.get("Private_Clean", 0) + v.get("Private_Dirty", 0)})
    s["sessions"] = len(server.session_procs())
    s["busy"] = machine_busy()[0]
    return s


def one(s, name):
    """The single process of that name in sample s (None if there is not exactly one)."""
    p = s["procs"].get(name, [])
    return p[0] if len(p) == 1 else None


# -- report ---------------------------------------------------------------------------

def minute_latencies(results, minutes):
    """[(minute, n, plain p50, plain p99, tls p50, tls p99)] of good logins, ms."""
    rows = []
    for m in range(minutes):
        plain = sorted(x[3] * 1000 for x in results
                       if x[2] == "ok" and not x[4] and m * 60 <= x[0] < (m + 1) * 60)
        tls = sorted(x[3] * 1000 for x in results
                     if x[2] == "ok" and x[4] and m * 60 <= x[0] < (m + 1) * 60)
        rows.append((m + 1, len(plain) + len(tls), pct(plain, 0.5), pct(plain, 0.99),
                     pct(tls, 0.5), pct(tls, 0.99)))
    return rows


def median(v):
    v = sorted(x for x in v if x == x)
    return v[len(v) // 2] if v else float("nan")


def latency_verdict(rows):
    """[(what, first third, last third, grew?)] for plain/TLS p50/p99."""
    k = max(1, len(rows) // 3)
    out = []
    for col, what in ((2, "plain p50"), (3, "plain p99"), (4, "TLS p50"), (5, "TLS p99")):
        first = median(r[col] for r in rows[:k])
        last = median(r[col] for r in rows[-k:])
        grew = last > first * LAT_FACTOR and last > first + LAT_SLACK_MS
        out.append((what, first, last, grew))
    return out


def verdict(R):
    """[(check, ok, detail)]"""
    base, mid, last, end = R["base"], R["mid"], R["last"], R["end"]
    checks = []
    for name in BROKERS:
        b, e = one(base, name), one(end, name)
        if b is None or e is None:
            checks.append((f"{name}: one process at start and end", False,
                           f"start {base['procs'].get(name)}, end {end['procs'].get(name)}"))
            continue
        same = b["pid"] == e["pid"] and b["start"] == e["start"]
        changed = [s["label"] for s in R["samples"]
                   if one(s, name) is None or one(s, name)["pid"] != b["pid"]]
        checks.append((f"{name}: same pid the whole run", same and not changed,
                       f"pid {b['pid']} -> {e['pid']}" + (f"; other pids at {changed}"
                                                          if changed else "")))
        diff = {k: e["types"].get(k, 0) - b["types"].get(k, 0)
                for k in set(b["types"]) | set(e["types"])
                if e["types"].get(k, 0) != b["types"].get(k, 0)}
        checks.append((f"{name}: fds back to baseline", e["fds"] == b["fds"],
                       f"{b['fds']} -> {e['fds']}" + (f" ({diff})" if diff else "")))
        grow = e["private"] - b["private"]
        tol = MEM_DRAINED + (CACHE_KIB if name == "keyd" else 0)
        checks.append((f"{name}: private memory after drain within {tol:,} KiB of baseline",
                       grow <= tol, f"{b['private']:,} -> {e['private']:,} KiB "
                                    f"({grow:+,})"))
        m, la = one(mid, name), one(last, name)
        if m and la:
            g2 = la["private"] - m["private"]
            tol2, why = MEM_SECOND_HALF, ""
            if name == "keyd":
                n = R["handshakes_before_mid"]
                left = int(CACHE_KIB * math.exp(-n / (CACHE_KIB / 4)))
                tol2 += left
                why = (f" (+ {left:,} KiB of session cache possibly untouched after "
                       f"{n:,} full handshakes)")
            checks.append((f"{name}: growth under load, middle to last sample, "
                           f"at most {tol2:,} KiB{why}", g2 <= tol2,
                           f"{m['private']:,} -> {la['private']:,} KiB ({g2:+,})"))
    checks.append(("no worker or stored left after the drain", end["sessions"] == 0,
                   f"{end['sessions']} left"))
    if R["seccomp"] is not None:
        checks.append(("no seccomp kill of our binaries in the kernel log (type=1326)",
                       not R["seccomp"], "; ".join(R["seccomp"][:3]) or "none"))
    ev = R["events"]
    checks.append(("no child_died, fatal, ipc_violation, sandbox_kill in the log", not ev,
                   ", ".join(f"{k} x{v}" for k, v in ev.items()) or "none"))
    by = R["by_kind"]
    good = sum(v.get("ok", 0) for k, v in by.items() if "good" in k)
    good_all = sum(sum(v.values()) for k, v in by.items() if "good" in k)
    checks.append(("every good session succeeded", good == good_all,
                   f"{good:,} of {good_all:,}"))
    bad_ok = sum(v.get("auth failed", 0) for k, v in by.items()
                 if "wrong" in k or "unknown" in k)
    bad_all = sum(sum(v.values()) for k, v in by.items() if "wrong" in k or "unknown" in k)
    checks.append(("every failed login got the authentication failure", bad_ok == bad_all,
                   f"{bad_ok:,} of {bad_all:,}"))
    counts = R["log_problems"][0]
    want = {"warn auth_failed": bad_all,
            "warn tls_failed": sum(sum(v.values()) for k, v in by.items() if "handshake" in k)}
    other = {k: v for k, v in counts.items() if k not in want}
    checks.append(("the log's warnings are the expected ones: auth_failed = failed logins, "
                   "tls_failed = killed handshakes, nothing else",
                   not other and all(counts.get(k, 0) == v for k, v in want.items()),
                   ", ".join(f"{k} {counts.get(k, 0):,} (expected {v:,})"
                             for k, v in want.items()) +
                   (f"; other: {other}" if other else "")))
    killed = sum(v.get("killed", 0) for k, v in by.items() if "killed" in k)
    killed_all = sum(sum(v.values()) for k, v in by.items() if "killed" in k)
    checks.append(("every killed session reached its kill point", killed == killed_all,
                   f"{killed:,} of {killed_all:,}"))
    for what, first, last, grew in R["lat_verdict"]:
        checks.append((f"login latency {what} did not grow (last third of the minutes "
                       f"against the first)", not grew,
                       f"{fmt(first, 2)} -> {fmt(last, 2)} ms"))
    return checks


def broker_table(R):
    cols = [("start (idle)", R["base"]), ("middle (load)", R["mid"]),
            ("last under load", R["last"]), ("after drain", R["end"])]
    head = "| process | " + " | ".join(c for c, _ in cols) + " |"
    rule = "|---|" + "---:|" * len(cols)
    rows = [head, rule]
    for name in BROKERS:
        cells = []
        for _, s in cols:
            p = one(s, name)
            cells.append(f"pid {p['pid']}, {p['fds']} fds, {p['private']:,} KiB" if p else "?")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def minute_table(R):
    rows = ["| minute | good logins | plain p50 / p99 (ms) | TLS p50 / p99 (ms) | "
            "master fds / KiB | authd fds / KiB | keyd fds / KiB | sessions open | "
            "machine busy (cores) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    samples = {s["label"]: s for s in R["samples"]}
    prev = R["base"]
    for m, n, p50, p99, t50, t99 in R["minutes"]:
        s = samples.get(f"minute {m}")
        cells = []
        for name in BROKERS:
            p = one(s, name) if s else None
            cells.append(f"{p['fds']} / {p['private']:,}" if p else "?")
        busy = (f"{(s['busy'] - prev['busy']) / (s['t'] - prev['t']):.2f}"
                if s and s["t"] > prev["t"] else "?")
        if s:
            prev = s
        rows.append(f"| {m} | {n:,} | {fmt(p50, 2)} / {fmt(p99, 2)} | {fmt(t50, 2)} / "
                    f"{fmt(t99, 2)} | " + " | ".join(cells) +
                    f" | {s['sessions'] if s else '?'} | {busy} |")
    return "\n".join(rows)


def kinds_table(R):
    rows = ["| kind | sessions | ok | auth failed (expected) | killed (as planned) | "
            "refused | error |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in dict.fromkeys(k[0] for k in sorted(MIX, key=lambda k: k[0])):
        v = R["by_kind"].get(name, {})
        rows.append(f"| {name} | {sum(v.values()):,} | {v.get('ok', 0):,} | "
                    f"{v.get('auth failed', 0):,} | {v.get('killed', 0):,} | "
                    f"{v.get('refused', 0):,} | {v.get('error', 0):,} |")
    return "\n".join(rows)


def report(R, a):
    L = R["load"]
    checks = R["checks"]
    ok = all(c[1] for c in checks)
    mi = R["machine"]
    totals = {}
    for v in R["by_kind"].values():
        for k, n in v.items():
            totals[k] = totals.get(k, 0) + n
    lines = [
        f"machine: {mi['cpu']}, {mi['cores']} cores, {mi['ram']} RAM, Linux {mi['kernel']}",
        f"Postern {R['commit']}; {a.minutes:g} minutes at {a.rate:g} sessions/s "
        f"(achieved {L.n / L.load_wall:.2f}/s, worst lag behind the schedule "
        f"{L.late:.2f} s), {L.n:,} sessions, drained {L.wall - L.load_wall:.1f} s after "
        f"the load stopped; from {SOURCES} source addresses; {len(R['users'])} users with "
        f"3 messages ({SMALL[0]}, {SMALL[1]}, {LARGE} bytes); TLS: "
        f"{', '.join(c['label'] for c in R['cases'])} alternately",
        f"config: max_daemons {R['conf']['max_daemons']}, max_per_ip "
        f"{R['conf']['max_per_ip']}, auth_fail_delay_ms 0, auth_fail_ip_max / "
        f"auth_fail_user_max {R['conf']['auth_fail_ip_max']}",
        "totals: " + ", ".join(f"{k} {n:,}" for k, n in sorted(totals.items())),
    ]
    out = ["\n".join(lines), "", "Sessions by kind:", "", kinds_table(R), "",
           "master, authd and keyd (fds, private memory = Private_Clean + Private_Dirty):", "",
           broker_table(R), "", "Per minute (login latency of the good sessions, connect "
           "to the login's OK, TLS handshake included; fds and memory sampled at the "
           "end of the minute):", "", minute_table(R), "", "Verdict:", ""]
    for c, good, detail in checks:
        out.append(f"- {'ok  ' if good else 'FAIL'} {c}: {detail}")
    if L.errors:
        out += ["", "Errors: " + count_errors([f"{k}: {e}" for k, e in L.errors], 6)]
    counts, samples = R["log_problems"]
    out += ["", ("Postern log warnings/errors: " + ", ".join(
        f"{k} x{v}" for k, v in sorted(counts.items())) + "; first: " + " | ".join(samples[:3]))
        if counts else "Postern logged no warnings or errors."]
    out += ["", f"**Verdict: {'PASS' if ok else 'FAIL'}** "
            f"({sum(1 for c in checks if c[1])} of {len(checks)} checks)."]
    text = "\n".join(out)
    print()
    print(f"Soak, Postern {R['commit']}, {R['date']}")
    print(text)
    if a.write_doc:
        section = (f"## Run {R['date']} — soak, {a.minutes:g} minutes (issue 13)\n\n"
                   f"`python3 bench/soak.py --minutes {a.minutes:g} --rate {a.rate:g}` "
                   f"(as root; the machine shared with other work, see the busy column).\n\n"
                   + text + "\n")
        write_doc(ROOT / "docs" / "BENCHMARKS.md", DOC_HEADER, section)
        log("wrote docs/BENCHMARKS.md")
    return 0 if ok else 2


# -- main -----------------------------------------------------------------------------

def log_events(server):
    """{event: count} of the deaths and violations in the master's log."""
    counts = {}
    pat = re.compile(r"event=(child_died|fatal|ipc_violation|sandbox_kill)\b")
    try:
        with open(server.log_path(), errors="replace") as f:
            for line in f:
                m = pat.search(line)
                if m:
                    k = m.group(1)
                    counts[k] = counts.get(k, 0) + 1
    except OSError:
        pass
    return counts


def seccomp_kills(bin_dir):
    """type=1326 (seccomp) lines of the kernel log naming a binary of this
    run's private copy, or None if the kernel log cannot be read."""
    try:
        r = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    out = []
    for line in r.stdout.splitlines():
        if "type=1326" in line and f'exe="{bin_dir}/' in line:
            m = re.search(r'exe="([^"]+)".*syscall=(\d+)', line)
            out.append(f"{os.path.basename(m.group(1))} syscall {m.group(2)}" if m else line)
    return out


def wait_log(server, needle, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        with open(server.log_path(), "rb") as f:
            if needle in f.read():
                return True
        time.sleep(0.1)
    raise BenchError(f"no {needle!r} in {server.log_path()} within {timeout:.0f}s")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="length of the load (30)")
    ap.add_argument("--rate", type=float, default=20.0, help="new sessions per second (20)")
    ap.add_argument("--users", type=int, default=100, help="users (100)")
    ap.add_argument("--port", type=int, default=21140,
                    help="first of four ports: pop3, pop3s, imap, imaps (21140)")
    ap.add_argument("--write-doc", action="store_true",
                    help="put the report into docs/BENCHMARKS.md")
    ap.add_argument("--bin", type=Path, metavar="DIR", help="Postern binaries (build/bin)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    a = ap.parse_args()
    if a.minutes <= 0 or a.rate <= 0 or a.users < 1:
        raise BenchError("--minutes, --rate and --users must be positive")
    return a


def main():
    a = parse_args()
    if os.geteuid() != 0:
        raise BenchError("must run as root (Postern drops to its own uids)")
    ports = {("pop3", False): a.port, ("pop3", True): a.port + 1,
             ("imap", False): a.port + 2, ("imap", True): a.port + 3}
    for p in ports.values():
        if port_in_use(p):
            raise BenchError(f"port {HOST}:{p} already in use")
    R = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "machine": machine_info(), "commit": git_commit()}
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    os.chmod(work, 0o755)
    cases = tlsbench.make_certs(work)
    R["cases"] = cases
    conf = {"max_daemons": "1000", "max_per_ip": "1000",
            # failed logins are part of the load: no delay, no throttle
            "auth_fail_ip_max": "1000000", "auth_fail_user_max": "1000000",
            "imap_listen": f"{HOST}:{ports[('imap', False)]}", "imap_tls_required": "no",
            "pop3s_listen": f"{HOST}:{ports[('pop3', True)]}",
            "imaps_listen": f"{HOST}:{ports[('imap', True)]}",
            "smtp_listen": "",
            "tls_cert_file": ",".join(str(c["cert"]) for c in cases),
            "tls_key_file": ",".join(str(c["key"]) for c in cases)}
    R["conf"] = conf
    bin_dir = a.bin.resolve() if a.bin else ROOT / "build" / "bin"
    server = Postern(work, port=ports[("pop3", False)], tls_port=0, bin_dir=bin_dir,
                     overrides=conf)
    server.check_binaries()
    if not os.access(bin_dir / "postern-imapd", os.X_OK):
        raise BenchError(f"{bin_dir}/postern-imapd missing: run `make` first")
    ok = False
    try:
        log(f"setup: {a.users} users with 3 messages each in {work}")
        sizes = [SMALL[0], SMALL[1], LARGE]
        users = setup_users(a.users, server, [], sizes, seed="soak")
        R["users"] = users
        user, pw = users[0]
        server.start(lambda s, port: pop3c.probe_login(port, user, pw))
        wait_log(server, b"event=tls_ready")
        for c in cases:
            okp, det = pop3c.probe_login(ports[("pop3", True)], user, pw,
                                         tlsbench.tls_context(c))
            if not okp:
                raise BenchError(f"pop3s probe ({c['label']}): {det}")
        okp, det = imapc.probe_login(ports[("imap", False)], user, pw)
        if not okp:
            raise BenchError(f"imap probe: {det}")
        log(f"Postern up (master pid {server.proc.pid}); ports {sorted(ports.values())}")
        server.wait_drained()
        server.wait_stable()
        R["base"] = sample(server, "start")
        R["samples"] = []
        log("baseline: " + "; ".join(
            f"{n} pid {p['pid']} {p['fds']} fds {p['private']:,} KiB"
            for n in BROKERS for p in R["base"]["procs"].get(n, [])))
        load = Load(a, ports, users, cases)

        def sampler(minute, inflight):
            s = sample(server, f"minute {minute}", inflight)
            R["samples"].append(s)
            server.check_alive()
            done = len(load.results)
            errs = len(load.errors)
            log(f"minute {minute}: {done:,} sessions done, {errs} errors, "
                f"{s['sessions']} session processes; " + "; ".join(
                    f"{n} {p['fds']} fds {p['private']:,} KiB"
                    for n in BROKERS for p in s["procs"].get(n, [])))

        log(f"load: {a.minutes:g} minutes at {a.rate:g}/s, mix of {len(MIX)} kinds per cycle")
        asyncio.run(load.run(sampler))
        R["load"] = load
        R["last"] = R["samples"][-1]
        R["mid"] = R["samples"][max(0, len(R["samples"]) // 2 - 1)]
        mid_t = (max(0, len(R["samples"]) // 2 - 1) + 1) * 60.0
        R["handshakes_before_mid"] = sum(
            1 for t, name, outcome, _lat, tls in load.results
            if tls and "handshake" not in name and outcome != "error" and t < mid_t)
        if not server.wait_drained(timeout=60):
            log("warning: session processes still there 60 s after the load")
        server.wait_stable()
        R["end"] = sample(server, "after drain")
        R["samples"].append(R["end"])
        R["events"] = log_events(server)
        R["seccomp"] = seccomp_kills(server.bin)
        R["log_problems"] = server.log_problems()
        by = {}
        for _t, name, outcome, _lat, _tls in load.results:
            d = by.setdefault(name, {})
            d[outcome] = d.get(outcome, 0) + 1
        R["by_kind"] = by
        R["minutes"] = minute_latencies(load.results, int(a.minutes + 0.999))
        R["lat_verdict"] = latency_verdict(R["minutes"])
        R["checks"] = verdict(R)
        ok = True
    finally:
        server.stop()
        if ok and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work directory kept: {work}")
    return report(R, a)


if __name__ == "__main__":
    run_main(main, "soak")
