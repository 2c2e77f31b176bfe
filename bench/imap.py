#!/usr/bin/env python3
"""IMAP benchmark: Postern against Dovecot's and Courier's imapd on the same
machine, same run, interleaved round by round (P D C, C D P, ...).

`make bench-imap` runs this after building.  As root it:
  1. installs dovecot-core and dovecot-imapd with apt-get if they are missing
     (a system instance the package starts is stopped and disabled), and
     downloads Courier's packages, courier-imap among them, into
     build/bench-cache/courier: courier-imap conflicts with imap-server
     (dovecot-imapd), so, like courier-pop in bench/pop3.py, it is unpacked
     into the temp dir and run from there in a private mount namespace; no
     system courier-imapd is installed or started;
  2. builds private IMAP instances under one temp directory on free loopback
     ports, with the same users, the same $6$ password hashes and the same
     Maildir files; every server has the namespace "INBOX." with separator
     "." (Courier's; Dovecot's and Postern's are set to it);
  3. runs one asyncio client against all of them, alternating the servers:
     1) a folder of --messages (100,000) messages made on disk (cur/, names
        with ,S= and ,W=, 0.6-8 KiB each), hard-linked afresh into the
        server's Maildir for every repetition (the same files, no index):
        first SELECT (the index is built), warm SELECT (a new session,
        median of --warm), UID FETCH 1:* (UID FLAGS), UID COPY of --batch
        (10,000) to INBOX.Copy, UID MOVE of the next 10,000 to INBOX.Moved,
        UID STORE 1:10000 +FLAGS (\\Seen), UID STORE +FLAGS.SILENT (\\Deleted)
        of a third 10,000, EXPUNGE; each command timed from its send to its
        tagged OK, client side, with the server's CPU by process; --reps
        repetitions, medians reported;
     2) sessions per second at 8 and 32 clients on small mailboxes: LOGIN,
        APPEND (2 KiB), SELECT INBOX, FETCH 1:* (FLAGS), UID FETCH of one
        message BODY.PEEK[], STORE +FLAGS (\\Seen) and +FLAGS (\\Deleted) on
        the appended message, EXPUNGE, LOGOUT; server CPU per session (every
        process of the server, as in bench/pop3.py);
     3) private memory per idle logged-in session with INBOX selected: N
        sessions held open, Private (and Pss) from smaps_rollup summed over
        the server's processes, minus the 0-session baseline, divided by N;
  4. prints the table with the issue's targets beside Postern's numbers and
     (full run) prepends a dated section to docs/BENCHMARKS.md.

--quick: 2,000 messages, batches of 200, one repetition, 40 sessions per
concurrency, 10 idle sessions, no docs/BENCHMARKS.md (unless --doc).  A
command a server fails is reported with the server's reply; the bench does
not work around it.
"""

import argparse
import asyncio
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import CLK_TCK, HOST, ROOT, BenchError, client, log, run_main           # noqa: E402
from lib import imapc                                                           # noqa: E402
from lib.data import link_folder, make_folder, make_message, setup_users        # noqa: E402
from lib.measure import alternate, measure_idle, measured, merge, \
    run_load, wait_quiet                                                        # noqa: E402
from lib.report import clients, count_errors, fmt_names, foreign_procs, git_commit, \
    isnan, machine_info, num_row, table_md, table_text, text_row, write_doc, DOC_HEADER  # noqa: E402
from lib.servers import Courier, Dovecot, Postern, dpkg_version, free_port       # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
SMALL_MSGS, SMALL_SIZE = 20, 4 * 1024
APPEND_SIZE = 2 * 1024
CMD_TIMEOUT = 900.0         # one command of the folder scenario
TARGET_HEAD = "target (Postern)"

# The targets: step -> (limit, unit); checked on Postern's median.
TARGETS = {"select_cold": (300, "ms"), "select_warm": (2, "ms"), "fetch": (40, "ms"),
           "copy": (300, "ms"), "move": (300, "ms"), "store": (100, "ms"),
           "expunge": (150, "ms"), "idle": (250, "KiB")}
SESSIONS_VS_DOVECOT = 2.0

STEPS = ("select_cold", "select_warm", "fetch", "structs_cold", "structs_warm", "copy", "move",
         "store", "store_deleted", "expunge")


def names(servers):
    return [s.name for s in servers]


def letters(servers):
    return [s.letter for s in servers]


def each(servers, f, sep=", "):
    return sep.join(f"{s.name} {f(s)}" for s in servers)


def median(xs):
    xs = [x for x in xs if not isnan(x)]
    return statistics.median(xs) if xs else float("nan")


def step_labels(a):
    n, b = f"{a.messages:,}", f"{a.batch:,}"
    return {
        "select_cold": f"1) first SELECT of {n} messages, no index (ms)",
        "select_warm": f"1) warm SELECT, new session, median of {a.warm} (ms)",
        "fetch": f"1) UID FETCH 1:* (UID FLAGS) of {n} (ms)",
        "structs_cold": f"1) UID FETCH 1:{a.batch} (ENVELOPE BODYSTRUCTURE), first (ms)",
        "structs_warm": "1) the same again (ms)",
        "copy": f"1) UID COPY of {b} to another folder (ms)",
        "move": f"1) UID MOVE of {b} to another folder (ms)",
        "store": f"1) UID STORE 1:{a.batch} +FLAGS (\\Seen) (ms)",
        "store_deleted": f"1) UID STORE +FLAGS.SILENT (\\Deleted) of {b} (ms)",
        "expunge": f"1) EXPUNGE of {b} (ms)",
    }


# --------------------------------------------------------------------------
# 1) the large folder

class FolderRun:
    """One repetition on one server: times (ms), server CPU (ms by process)
    and counts per step, failures per step with the server's reply."""

    def __init__(self, server):
        self.server = server
        self.ms, self.cpu, self.count, self.errors = {}, {}, {}, {}
        self.warm = []
        self.checks = []

    async def step(self, key, coro, expect=None):
        """Run one timed command; a failure is recorded, not raised (the
        next commands still run if the session is alive)."""
        det0 = self.server.cpu_detail()
        try:
            r = await asyncio.wait_for(coro, CMD_TIMEOUT)
        except client.ProtoError as e:
            self.errors[key] = str(e)
            return None
        det1 = self.server.cpu_detail()
        cpu = {k: (det1.get(k, 0) - det0.get(k, 0)) * 1000 / CLK_TCK
               for k in set(det0) | set(det1)}
        reply = r[0] if isinstance(r, tuple) else r
        if key == "select_warm":
            self.warm.append(reply.ms)
            self.cpu.setdefault(key, []).append(cpu)
        else:
            self.ms[key] = reply.ms
            self.cpu[key] = cpu
        self.count[key] = reply.count
        if expect is not None and reply.count != expect:
            self.checks.append(f"{key}: {reply.count} untagged lines, expected {expect}")
        return r


async def status_messages(s, mailbox):
    r = await s.cmd(b"STATUS " + imapc.quote(mailbox) + b" (MESSAGES)")
    for u in r.untagged:
        i = u.find(b"MESSAGES ")
        if i >= 0:
            return int(u[i + 9:].split(b")")[0].split()[0])
    return None


async def folder_dialogue(server, a, user, pw):
    """Sessions A (first SELECT), B (warm SELECTs), C (the bulk commands),
    each on its own connection: a session the server ends (BYE, close) is
    recorded under its name and the next one still runs."""
    fr = FolderRun(server)
    n, b = a.messages, a.batch
    port = server.port

    async def session_a():
        s = await imapc.login(port, user, pw)
        r = await fr.step("select_cold", s.select())
        if r and r[1] != n:
            fr.checks.append(f"first SELECT: {r[1]} EXISTS, expected {n}")
        await s.logout()

    async def session_b():
        for _ in range(a.warm):
            s = await imapc.login(port, user, pw)
            await fr.step("select_warm", s.select())
            await s.logout()

    async def session_c():
        s = await imapc.login(port, user, pw)
        if not s.caps:
            await s.cmd(b"CAPABILITY")
        fr.caps = s.caps
        await s.select()
        await fr.step("fetch", s.bulk(b"UID FETCH 1:* (UID FLAGS)", token=b" FETCH ("), n)
        # what a client's first look at a folder asks for, then again (kept
        # in the index: Postern's stored, Dovecot's dovecot.index.cache)
        for k in ("structs_cold", "structs_warm"):
            await fr.step(k, s.bulk(b"UID FETCH 1:%d (ENVELOPE BODYSTRUCTURE)" % b,
                                    token=b" FETCH ("), b)
        await fr.step("copy", s.bulk(b"UID COPY 1:%d INBOX.Copy" % b))
        if "MOVE" in s.caps:
            await fr.step("move", s.bulk(b"UID MOVE %d:%d INBOX.Moved" % (b + 1, 2 * b),
                                          token=b" EXPUNGE\r\n"), b)
        else:
            fr.errors["move"] = "MOVE is not in the server's CAPABILITY (not sent)"
        await fr.step("store", s.bulk(b"UID STORE 1:%d +FLAGS (\\Seen)" % b, token=b" FETCH ("))
        await fr.step("store_deleted",
                      s.bulk(b"UID STORE %d:%d +FLAGS.SILENT (\\Deleted)" % (2 * b + 1, 3 * b)))
        await fr.step("expunge", s.bulk(b"EXPUNGE", token=b" EXPUNGE\r\n"), b)
        await s.cmd(b"CLOSE")
        moved = b if "move" in fr.ms else 0
        want = {"INBOX": n - moved - (b if "expunge" in fr.ms else 0),
                "INBOX.Copy": b if "copy" in fr.ms else 0, "INBOX.Moved": moved}
        for mbox, exp in want.items():
            got = await status_messages(s, mbox)
            if got != exp:
                fr.checks.append(f"afterwards STATUS {mbox} MESSAGES {got}, expected {exp}")
        await s.logout()

    for name, fn in (("session A (first SELECT)", session_a),
                     ("session B (warm SELECT)", session_b),
                     ("session C (FETCH, COPY, MOVE, STORE, EXPUNGE)", session_c)):
        if fn is session_b:
            # Dovecot rescans a directory whose mtime is within the last second
            # or so (it cannot trust it yet); a warm SELECT comes later than that.
            await asyncio.sleep(a.settle)
        done = set(fr.ms) | set(fr.errors)
        try:
            await fn()
        except client.SESSION_ERRORS as e:
            after = [k for k in list(fr.ms) + list(fr.errors) if k not in done]
            fr.errors[name] = (f"{type(e).__name__}: {e}"
                               f"{' (after ' + ', '.join(after) + ')' if after else ''}")
    return fr


def folder_round(server, a, src, user, pw):
    server.check_alive()
    server.wait_drained()
    t0 = time.monotonic()
    link_folder(src, server.maildir(user))
    log(f"   {server.name}: fresh folder linked in {time.monotonic() - t0:.1f}s")
    fr = asyncio.run(folder_dialogue(server, a, user, pw))
    fr.ms["select_warm"] = median(fr.warm)
    server.wait_drained()
    server.check_alive()
    line = "  ".join(f"{k} {fr.ms[k]:.1f}" for k in STEPS if k in fr.ms)
    log(f"   {server.name:8} {line}")
    for k, e in fr.errors.items():
        log(f"   {server.name:8} FAILED {k}: {e}")
    for c in fr.checks:
        log(f"   {server.name:8} check: {c}")
    return fr


def run_folder(R, servers, a, src, user, pw):
    log(f"1) folder of {a.messages:,} messages, batches of {a.batch:,}, {a.reps} "
        f"repetition(s) per server, interleaved")
    res = alternate(servers, a.reps, lambda s: folder_round(s, a, src, user, pw))
    out = {}
    for nm, runs in res.items():
        m = {"ms": {k: median([fr.ms.get(k, float("nan")) for fr in runs]) for k in STEPS},
             "all": {k: [fr.ms[k] for fr in runs if k in fr.ms] for k in STEPS},
             "errors": {}, "checks": [], "cpu": {}, "count": dict(runs[0].count)}
        for fr in runs:
            for k, e in fr.errors.items():
                m["errors"].setdefault(k, e)
            m["checks"] += fr.checks
        for k in STEPS:
            per = []
            for fr in runs:
                c = fr.cpu.get(k)
                if isinstance(c, list):       # warm SELECTs: each one
                    per += c
                elif c is not None:
                    per.append(c)
            procs = {p for c in per for p in c}
            m["cpu"][k] = {p: median([c.get(p, 0.0) for c in per]) for p in procs}
        out[nm] = m
    R["folder"] = out


# --------------------------------------------------------------------------
# 2) sessions per second

def append_message(user):
    import random
    return make_message(user, 0, APPEND_SIZE, random.Random(f"append-{user}")).replace(
        b"\n", b"\r\n")


async def mix_session(server, user, pw, k):
    """One session of the mix; (latency s, bytes received, slowest step s)."""
    t0 = time.perf_counter()
    s = await imapc.login(server.port, user, pw)
    got, slow = 0, 0.0
    try:
        msg = server.append_msgs[user]
        steps = [await s.cmd(b"APPEND INBOX {%d}" % len(msg), literal=msg)]
        r, exists = await s.select()
        steps.append(r)
        r = await s.cmd(b"FETCH 1:* (FLAGS)")
        if sum(1 for u in r.untagged if b" FETCH " in u) != exists:
            raise client.ProtoError(f"FETCH 1:* (FLAGS): {len(r.untagged)} untagged "
                                    f"lines for {exists} messages")
        steps.append(r)
        uids = server.uids[user]
        r = await s.cmd(b"UID FETCH %d BODY.PEEK[]" % uids[k % len(uids)])
        if len(r.untagged) != 1 or len(r.untagged[0]) < SMALL_SIZE:
            raise client.ProtoError(f"UID FETCH BODY.PEEK[]: {len(r.untagged)} untagged, "
                                    f"{sum(map(len, r.untagged))} bytes")
        steps.append(r)
        steps.append(await s.cmd(b"STORE %d +FLAGS (\\Seen)" % exists))
        steps.append(await s.cmd(b"STORE %d +FLAGS (\\Deleted)" % exists))
        r = await s.cmd(b"EXPUNGE")
        if sum(1 for u in r.untagged if u.endswith(b" EXPUNGE\r\n")) != 1:
            raise client.ProtoError(f"EXPUNGE: {b''.join(r.untagged)[:200]!r}, expected "
                                    f"one EXPUNGE")
        steps.append(r)
        r = await s.cmd(b"LOGOUT")
        steps.append(r)
        lat = time.perf_counter() - t0
        got = sum(x.nbytes for x in steps)
        slow = max(x.secs for x in steps)
    finally:
        await client.close(s.writer)
    return lat, got, slow


def measure_sessions(server, users, n, conc):
    counter = {"k": 0}

    async def session(user, pw):
        counter["k"] += 1
        return await mix_session(server, user, pw, counter["k"])
    return measured(server, lambda: asyncio.run(run_load(session, users, n, conc)),
                    detail=True)


def run_sessions(R, servers, users, a):
    R["sessions"] = {}
    for conc in (8, 32):
        per_round = max(1, a.sessions // a.rounds)
        log(f"2) session mix, {clients(conc)}, {per_round} x {a.rounds} rounds per server")
        res = alternate(servers, a.rounds, lambda s: measure_sessions(s, users, per_round, conc))
        out = {k: merge(v) for k, v in res.items()}
        for k, m in out.items():
            log(f"   {k:8} {m['rate']:8.1f} sessions/s  p50 {m['p50']:7.2f} ms  "
                f"p99 {m['p99']:7.2f} ms  cpu {m['cpu_per']:.2f} ms/session  "
                f"slowest step p50 {m['slow_p50']:.1f} ms  client "
                f"{100 * m['client_util']:.0f}% of a core  others "
                f"{100 * m['other_share']:.0f}% of machine  errors {len(m['errors'])}"
                f"{' (' + count_errors(m['errors'], 1) + ')' if m['errors'] else ''}  "
                f"rounds {[round(x) for x in m['rates']]}")
        R["sessions"][conc] = out


async def warm_up(server, users):
    """One session per user: LOGIN, SELECT, UID FETCH 1:* (UID); records the
    UIDs (for the UID FETCH of the mix) and moves new/ to cur/ everywhere."""
    server.uids, server.append_msgs = {}, {}
    errors = []
    for user, pw in users:
        try:
            s = await imapc.login(server.port, user, pw)
            await s.select()
            r = await s.cmd(b"UID FETCH 1:* (UID)")
            uids = []
            for u in r.untagged:
                i = u.find(b"UID ")
                if i >= 0:
                    uids.append(int(u[i + 4:].split(b")")[0].split()[0]))
            await s.logout()
            if len(uids) != SMALL_MSGS:
                errors.append(f"{user}: {len(uids)} UIDs, expected {SMALL_MSGS}")
            server.uids[user] = uids or [1]
            server.append_msgs[user] = append_message(user)
        except client.SESSION_ERRORS as e:
            errors.append(f"{user}: {type(e).__name__}: {e}")
            server.uids[user] = [1]
            server.append_msgs[user] = append_message(user)
    return errors


# --------------------------------------------------------------------------
# 3) idle sessions

async def open_idle(server, users, k, conc=8):
    conns, errors = [], []
    sem = asyncio.Semaphore(conc)

    async def one(user, pw):
        async with sem:
            try:
                s = await imapc.login(server.port, user, pw)
                await s.select()
                conns.append(s)
            except client.SESSION_ERRORS as e:
                errors.append(f"{user}: {type(e).__name__}: {e}")

    await asyncio.wait_for(asyncio.gather(*(one(u, p) for u, p in users[:k])), 300)
    return conns, errors


def run_idle(R, servers, users, a):
    log(f"3) {a.idle} idle sessions (LOGIN, SELECT INBOX) per server")
    R["idle"] = {}
    for s in servers:
        m = measure_idle(s, lambda srv, k: open_idle(srv, users, k), imapc.logout_all, a.idle)
        R["idle"][s.name] = m
        log(f"   {s.name:8} opened {m['opened']}  private {m['private_per']:.1f} KiB/session"
            f"  pss {m['pss_per']:.1f} KiB/session  procs/session {m['procs_per']:.2f}"
            f"  base {m['base']['names']}  loaded {m['loaded']['names']}")


# --------------------------------------------------------------------------
# Rows and targets

def target_text(value, limit, unit, lower=True):
    if isnan(value):
        return f"{'≤' if lower else '≥'} {limit:g} {unit}: n/a"
    ok = value <= limit if lower else value >= limit
    return f"{'≤' if lower else '≥'} {limit:g} {unit}: {'met' if ok else '**missed**'}"


def build_rows(R, servers, a):
    rows = []
    first = servers[0].name
    has_targets = first == "Postern"
    labels = step_labels(a)
    F = R.get("folder")
    if F:
        for k in STEPS:
            vals = [F[s.name]["ms"][k] for s in servers]
            row = num_row(labels[k], vals, 1 if k != "select_warm" else 2, "lower")
            tgt = ""
            if has_targets and k in TARGETS:
                lim, unit = TARGETS[k]
                if (a.messages, a.batch) == (100000, 10000):
                    tgt = target_text(vals[0], lim, unit)
                else:       # the targets are for these sizes only
                    tgt = f"≤ {lim:g} {unit} at 100,000 / 10,000: not checked"
            rows.append(row + (tgt,))
        rows.append(text_row("1) failed commands", [
            str(len(F[s.name]["errors"])) for s in servers], "lower") + ("",))
    S = R.get("sessions")
    if S:
        for conc, M in S.items():
            vals = [M[s.name]["rate"] for s in servers]
            tgt = ""
            if has_targets and "Dovecot" in M:
                d = M["Dovecot"]["rate"]
                x = vals[0] / d if d else float("nan")
                tgt = (f"≥ {SESSIONS_VS_DOVECOT:g}x Dovecot: "
                       f"{'met' if x >= SESSIONS_VS_DOVECOT else '**missed**'} ({x:.2f}x)")
            rows.append(num_row(f"2) sessions/s, {clients(conc)}", vals, 1, "higher") + (tgt,))
            rows.append(num_row(f"2) session latency p50, {clients(conc)} (ms)",
                                [M[s.name]["p50"] for s in servers], 2, "lower"))
            rows.append(num_row(f"2) session latency p99, {clients(conc)} (ms)",
                                [M[s.name]["p99"] for s in servers], 2, "lower"))
            rows.append(num_row(f"2) server CPU per session, {clients(conc)} (ms)",
                                [M[s.name]["cpu_per"] for s in servers], 2, "lower"))
            rows.append(text_row(f"2) failed sessions, {clients(conc)}",
                                 [str(len(M[s.name]["errors"])) for s in servers], "lower"))
    I = R.get("idle")
    if I:
        vals = [I[s.name]["private_per"] for s in servers]
        tgt = target_text(vals[0], *TARGETS["idle"]) if has_targets else ""
        rows.append(num_row(f"3) private memory per idle session, N={a.idle} (KiB)", vals, 1,
                            "lower") + (tgt,))
        rows.append(num_row(f"3) PSS per idle session, N={a.idle} (KiB)",
                            [I[s.name]["pss_per"] for s in servers], 1, "lower"))
        rows.append(num_row("3) processes per idle session",
                            [I[s.name]["procs_per"] for s in servers], 2, "lower"))
        base = [I[s.name]["base"] for s in servers]
        rows.append(text_row("3) baseline, 0 sessions: private KiB (processes)",
                             [f"{b['private']:,} ({b['procs']})" for b in base], "lower",
                             num_row("", [b["private"] for b in base])[2]))
    return rows


def fmt_cpu(det):
    items = sorted(((k, v) for k, v in det.items() if v >= 0.05), key=lambda x: -x[1])
    return ", ".join(f"{k} {v:.0f}" for k, v in items) or "below the 10 ms tick"


def make_notes(R, servers, a):
    notes = list(R["notes"])
    F = R.get("folder")
    labels = step_labels(a)
    if F:
        for s in servers:
            m = F[s.name]
            for k, e in m["errors"].items():
                notes.append(f"**{s.name} failed {k}**: `{e[:300]}`")
            for c in sorted(set(m["checks"])):
                notes.append(f"{s.name} check failed: {c}.")
        parts = []
        for k in STEPS:
            parts.append(f"{labels[k][3:].rsplit(' (ms)', 1)[0]}: " + "; ".join(
                f"{s.name} {fmt_cpu(F[s.name]['cpu'][k])}" for s in servers))
        notes.append("1) untagged replies counted (first repetition): " + "; ".join(
            f"{k}: " + each(servers, lambda s: str(F[s.name]["count"].get(k, "-")))
            for k in ("fetch", "store", "move", "expunge")) + " (FETCH and STORE: untagged "
            "FETCH lines; MOVE and EXPUNGE: untagged EXPUNGE lines).")
        notes.append("1) server CPU per command by process (ms, median over the "
                     "repetitions; /proc ticks are 10 ms): " + " | ".join(parts) + ".")
        if a.reps > 1:
            notes.append("1) every repetition (ms): " + " | ".join(
                f"{k}: " + each(servers, lambda s: "/".join(
                    f"{x:.0f}" if x >= 10 else f"{x:.1f}" for x in F[s.name]['all'][k]))
                for k in STEPS) + ".")
    S = R.get("sessions")
    if S:
        for conc, M in S.items():
            for s in servers:
                m = M[s.name]
                if m["errors"]:
                    notes.append(f"**{s.name}, {clients(conc)}: {len(m['errors'])} failed "
                                 f"sessions** ({count_errors(m['errors'])}).")
            notes.append(f"2) {clients(conc)}: server CPU per session by process (ms): "
                         + "; ".join(f"{s.name} " + ", ".join(
                             f"{k} {v:.2f}" for k, v in sorted(
                                 M[s.name].get("cpu_detail_per", {}).items(),
                                 key=lambda x: -x[1]) if v >= 0.005)
                             for s in servers)
                         + ". Client (Python) " + " / ".join(
                             f"{100 * M[s.name]['client_util']:.0f}%" for s in servers)
                         + " of a core; other processes " + " / ".join(
                             f"{100 * M[s.name]['other_share']:.0f}%" for s in servers)
                         + " of the machine; sessions/s per round: " + each(
                             servers, lambda s: str([round(x) for x in M[s.name]['rates']]))
                         + ".")
        sz = {s.name: S[8][s.name]["bytes"] / S[8][s.name]["ok"] if S[8][s.name]["ok"]
              else float("nan") for s in servers}
        notes.append("2) bytes received per session: " + each(
            servers, lambda s: f"{sz[s.name]:.0f}") + " (greetings, capability lists and "
            "response texts differ; the FETCH BODY.PEEK[] literal is the same "
            f"{SMALL_SIZE}-byte message).")
    I = R.get("idle")
    if I:
        parts = []
        for s in servers:
            i = I[s.name]
            parts.append(f"{s.name} with {i['opened']} sessions had {i['loaded']['procs']} "
                         f"processes ({fmt_names(i['loaded']['names'])}), baseline "
                         f"{i['base']['procs']} ({fmt_names(i['base']['names'])})")
            if i["errors"]:
                notes.append(f"**{s.name}: {len(i['errors'])} of {a.idle} idle sessions "
                             f"could not be opened**; first: {i['errors'][0]}")
        notes.append(f"3) idle memory detail: {'; '.join(parts)}. RSS per session: "
                     + each(servers, lambda s: "%.0f KiB" % I[s.name]["rss_per"]) + ".")
        parts = []
        for s in servers:
            i = I[s.name]
            bl, bb = i["loaded"].get("by_name", {}), i["base"].get("by_name", {})
            n = i["opened"] or 1
            per = []
            for nm, v in sorted(bl.items(), key=lambda x: -x[1]["private"]):
                d = {k: v[k] - bb.get(nm, {}).get(k, 0) for k in v}
                if abs(d["private"]) / n >= 1:
                    per.append(f"{nm} {d['private'] / n:.0f} (dirty {d['dirty'] / n:.0f}, "
                               f"pss {d['pss'] / n:.0f})")
            parts.append(f"{s.name}: {', '.join(per) or 'none'}")
        notes.append("3) private KiB per idle session by process name (loaded minus "
                     "baseline, divided by the sessions): " + "; ".join(parts) + ".")
    return notes


# --------------------------------------------------------------------------
# The docs/BENCHMARKS.md section

def section_md(R, servers, rows, notes):
    a, mi, v = R["args"], R["machine"], R["versions"]
    by = {s.name: s for s in servers}
    L = [f"## Run {R['date']} — IMAP{' (quick)' if a.quick else ''}\n",
         f"- Machine: {mi['cpu']}, {mi['cores']} cores ({mi['usable']} usable by the "
         f"benchmark), {mi['ram']} RAM, Linux {mi['kernel']}",
         "- The machine was shared during this run: other engineers were compiling and "
         "testing on the same 2 cores (the foreign-CPU share per phase is in the notes); "
         "absolute numbers are noisy, the ratios within a phase less so."]
    text = "- `bench/imap.py` (`make bench-imap`). "
    if "Postern" in by:
        text += (f"Postern {v['postern']}; static PIE binaries from {v['bin']}, copied to "
                 f"the temp dir at the start. ")
    if "Dovecot" in by:
        text += f"Dovecot {v['dovecot']} (Debian dovecot-core + dovecot-imapd). "
    if "Courier" in by:
        text += (f"Courier-IMAP {v['courier']} (Debian courier-imap with courier-base and "
                 f"courier-authlib, unpacked, see below). ")
    L.append(text + f"Client: Python {v['python']}, asyncio, one process; TCP_QUICKACK on.")
    L.append(f"- Duration: {R['duration']:.0f} s for the whole run\n")
    L.append(table_md(rows, names(servers), letters(servers), target=TARGET_HEAD
                      if servers[0].name == "Postern" else None))
    L.append("")
    other = servers[1].name if len(servers) == 2 else "the other server"
    L.append(f"Ratio is {servers[0].name} / {other}; *better* says which direction "
             f"favours a server. The target column holds the issue's targets, checked on "
             f"Postern's median.\n")
    L.append("### Workload\n")
    L.append(f"- 1) One user's INBOX of {a.messages:,} messages made on disk once "
             f"(`bench/lib/data.py` make_folder): files in `cur/` named "
             f"`<time>.M<n>P7100Q1.bench,S=<size>,W=<CRLF size>:2,<flags>`, 0.6-8 KiB "
             f"(median about 3 KiB), plain-text RFC 5322 with unique headers, LF line ends; "
             f"a quarter `S`, one in 50 `FS`, the rest unseen, spread evenly over the "
             f"folder; plus empty folders `.Copy` and `.Moved` (INBOX.Copy, INBOX.Moved). "
             f"Before every repetition on every server the user's Maildir is removed "
             f"(index files with it: Postern's `postern-index/`, Dovecot's `dovecot.index*` "
             f"and `dovecot-uidlist`, Courier's `courierimapuiddb`) and made afresh with "
             f"every message file hard-linked from the pristine copy (the same inodes for "
             f"every server; a server's renames and unlinks touch its own links only). "
             f"So the first SELECT builds the index from a `readdir` of names that carry "
             f"sizes and flags, with the files in the page cache. Dialogue: session A: "
             f"LOGIN, SELECT INBOX (*first SELECT*), LOGOUT; a pause of {a.settle:g} s (no "
             f"directory mtime within the last second: Dovecot rescans such a directory "
             f"on every SELECT); {a.warm} sessions B: LOGIN, "
             f"SELECT (*warm SELECT*, the median of these), LOGOUT; session C: LOGIN, "
             f"SELECT, `UID FETCH 1:* (UID FLAGS)`, `UID COPY 1:{a.batch} INBOX.Copy`, "
             f"`UID MOVE {a.batch + 1}:{2 * a.batch} INBOX.Moved`, `UID STORE "
             f"1:{a.batch} +FLAGS (\\Seen)` (non-silent: one untagged FETCH per message "
             f"comes back), `UID STORE {2 * a.batch + 1}:{3 * a.batch} +FLAGS.SILENT "
             f"(\\Deleted)`, `EXPUNGE`, CLOSE, then STATUS of the three folders checked. "
             f"Each command is timed from the write of its line to the end of its tagged "
             f"OK, client side; large replies are read in 256 KiB chunks and scanned for "
             f"the tag only, and their untagged lines counted (FETCH must give "
             f"{a.messages:,}, MOVE and EXPUNGE {a.batch:,}). {a.reps} repetition(s) per "
             f"server, interleaved (P D C, C D P, ...), medians in the table.")
    L.append(f"- 2) {a.users} users with {SMALL_MSGS} messages of {SMALL_SIZE} bytes each "
             f"(delivered with `posternctl deliver`, the same files copied to the others), "
             f"one warm-up session per user and server. A session: connect, greeting, "
             f"LOGIN, `APPEND INBOX {{{APPEND_SIZE}}}` (synchronizing literal), SELECT "
             f"INBOX, `FETCH 1:* (FLAGS)`, `UID FETCH <uid> BODY.PEEK[]` of one of the "
             f"{SMALL_MSGS} messages (in turn), `STORE <n> +FLAGS (\\Seen)` and `STORE <n> "
             f"+FLAGS (\\Deleted)` on the appended message, EXPUNGE (which removes it), "
             f"LOGOUT; latency from connect to the LOGOUT reply. {a.sessions} sessions per "
             f"server at 8 and at 32 clients, in {a.rounds} alternating rounds; a client "
             f"never runs two sessions on one mailbox at once. Server CPU = utime+stime of "
             f"every process of the server, reaped children included, per session.")
    L.append(f"- 3) {a.idle} sessions: LOGIN, SELECT INBOX, left open; memory = "
             f"Private_Clean+Private_Dirty (and Pss) from `/proc/PID/smaps_rollup` summed "
             f"over every process of the server (Postern: worker `postern-imapd` + its "
             f"`postern-stored` per session; Dovecot: the `imap` process (the `imap-login` "
             f"exits after handing over a plaintext connection); Courier: its `imapd`, "
             f"which `imaplogin` became), minus the same sum with 0 sessions just before, "
             f"divided by the sessions.")
    text = "- Configs: "
    if "Postern" in by:
        text += (f"Postern `imap_listen = {HOST}:<port>`, `imap_tls_required = no`, "
                 f"`imap_namespace = INBOX.`, `imap_separator = .`, `pop3_listen` empty, "
                 f"`auth_fail_delay_ms = 0`, `max_daemons = 1000`, `max_per_ip = 1000`, "
                 f"private state_dir/userdb/mail_root, the rest default. ")
    if "Dovecot" in by:
        text += ("Dovecot `protocols = imap`, `ssl = no`, `disable_plaintext_auth = no`, "
                 "`namespace inbox { inbox = yes, prefix = INBOX., separator = . }`, "
                 "passwd-file passdb/userdb, `mail_location = maildir:...` (indexes in the "
                 "Maildir), the rest Dovecot's defaults (`service imap-login` with "
                 "`service_count = 1`, one `imap` process per session, `mail_fsync = "
                 "optimized`). ")
    if "Courier" in by:
        text += ("Courier: `couriertcpd -address=127.0.0.1 -maxprocs=1000 -maxperip=1000 "
                 "-nodnslookup -noidentlookup <port> imaplogin /usr/bin/imapd Maildir`, "
                 "the command of Debian's `/usr/lib/courier/imapd` start script with "
                 "Debian's `/etc/courier/imapd` as the environment (IMAP_CAPABILITY "
                 "without MOVE, IMAP_KEYWORDS=1, IMAP_USELOCKS=1, IMAP_ULIMITD=131072, "
                 "IMAP_EMPTYTRASH=Trash:7 ...), `IMAP_STARTTLS=NO`"
                 f"{''.join(', `' + x + '`' for x in a.courier_env)}, no courierlogger and "
                 "no access file; authdaemond with authuserdb and the same `$6$` hashes; "
                 "the packages come from `apt-get download` and run unpacked in a private "
                 "mount namespace, as for POP3 (courier-imap conflicts with dovecot-imapd "
                 "as packages). Courier's folder locks and change watching go through "
                 "FAM: gamin's `gam_server` (a dependency of Debian's courier-imap, "
                 "unpacked with it; the mail uid has a passwd entry in the instance's "
                 "private /etc, since gamin names its socket after the user); without "
                 "it every login and every locked command (SELECT, COPY, EXPUNGE) waited "
                 "about 1.2 s for libgamin's connect retries. gam_server daemonizes out of "
                 "the process tree; it is counted as Courier's (CPU, memory) as every "
                 "process of the instance's mount namespace is. All users share the mail "
                 "uid here, so one gam_server serves all sessions; it exits some seconds "
                 "after its last client. ")
    L.append(text + "Passwords SHA512-CRYPT (the same `$6$` strings) everywhere.")
    L.append("")
    L.append("### Notes\n")
    for n in notes:
        L.append(f"- {n}")
    L.append("")
    return "\n".join(L)


# --------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="2,000 messages, batches of 200, 1 repetition, 40 sessions, "
                         "10 idle sessions; no docs/BENCHMARKS.md unless --doc")
    ap.add_argument("--doc", action="store_true", help="write docs/BENCHMARKS.md even with --quick")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/BENCHMARKS.md")
    ap.add_argument("--doc-file", type=Path, metavar="PATH",
                    help="write (prepend to) PATH instead of docs/BENCHMARKS.md")
    ap.add_argument("--messages", type=int, help="messages in the big folder (100000)")
    ap.add_argument("--batch", type=int, help="messages per COPY/MOVE/STORE/EXPUNGE (10000)")
    ap.add_argument("--reps", type=int, help="repetitions of the folder scenario (3)")
    ap.add_argument("--warm", type=int, default=5, help="warm SELECT sessions per repetition")
    ap.add_argument("--settle", type=float, default=2.0, metavar="SECONDS",
                    help="pause between the first SELECT and the warm ones (2)")
    ap.add_argument("--sessions", type=int, help="mix sessions per server and concurrency (1200)")
    ap.add_argument("--rounds", type=int, help="alternating rounds of the session mix (4)")
    ap.add_argument("--idle", type=int, help="idle sessions N (50)")
    ap.add_argument("--users", type=int, help="users with small mailboxes (>= 32 and N)")
    ap.add_argument("--only", default="folder,sessions,idle",
                    help="comma-separated scenarios to run: folder, sessions, idle")
    ap.add_argument("--no-courier", action="store_true", help="leave Courier out")
    ap.add_argument("--no-dovecot", action="store_true", help="leave Dovecot out")
    ap.add_argument("--no-postern", action="store_true",
                    help="leave Postern out (developing the bench against the peers)")
    ap.add_argument("--courier-env", action="append", default=[], metavar="NAME=VALUE",
                    help="a Courier imapd setting over Debian's /etc/courier/imapd "
                         "(e.g. IMAP_USELOCKS=0)")
    ap.add_argument("--postern-conf", action="append", default=[], metavar="KEY=VALUE",
                    help="a postern.conf key over the bench's (experiments)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    ap.add_argument("--wait-quiet", type=float, default=30, metavar="SECONDS",
                    help="before measuring, wait up to this long for an idle machine")
    ap.add_argument("--bin", type=Path, metavar="DIR", help="Postern binaries (build/bin)")
    ap.add_argument("--postern-version", metavar="TEXT", help="what to call the binaries")
    a = ap.parse_args()
    q = a.quick
    a.messages = a.messages or (2000 if q else 100000)
    a.batch = a.batch or (200 if q else 10000)
    a.reps = a.reps or (1 if q else 3)
    a.sessions = a.sessions or (40 if q else 1200)
    a.rounds = a.rounds or (1 if q else 4)
    a.idle = a.idle or (10 if q else 50)
    a.users = max(a.users or (32 if q else 64), a.idle, 32)
    a.only = {x.strip() for x in a.only.split(",") if x.strip()}
    if a.only - {"folder", "sessions", "idle"}:
        raise BenchError(f"--only: unknown scenario(s) {sorted(a.only)}")
    if 3 * a.batch > a.messages:
        raise BenchError("--batch: three batches must fit in --messages")
    return a


def versions(a, servers, bin_dir):
    import platform
    v = {"postern": a.postern_version or (f"binaries from {a.bin}" if a.bin else git_commit()),
         "dovecot": dpkg_version("dovecot-imapd") or "?", "python": platform.python_version(),
         "bin": str(bin_dir)}
    for s in servers:
        if s.name == "Courier":
            v["courier"] = s.version()
    return v


def probe(user, pw):
    return lambda server, port: imapc.probe_login(port, user, pw)


def main():
    a = parse_args()
    doc = a.doc_file or DOC
    bin_dir = a.bin.resolve() if a.bin else ROOT / "build" / "bin"
    write = (not a.quick or a.doc) and not a.no_doc
    if os.geteuid() != 0:
        raise BenchError("must run as root (private servers drop to their uids)")
    work = Path(tempfile.mkdtemp(prefix="imapbench-"))
    os.chmod(work, 0o755)
    postern = Postern(work, port=free_port(), tls_port=0, bin_dir=bin_dir, proto="imap",
                      overrides=dict(x.split("=", 1) for x in a.postern_conf))
    servers = [] if a.no_postern else [postern]
    if not a.no_dovecot:
        servers.append(Dovecot(work, port=free_port(), tls_port=0, proto="imap"))
    if not a.no_courier:
        servers.append(Courier(work, port=free_port(), tls_port=0, proto="imap",
                               imap_env=dict(x.split("=", 1) for x in a.courier_env)))
    if not servers:
        raise BenchError("no server left to measure")
    postern.check_binaries()
    Dovecot.ensure_installed()      # doveadm makes the $6$ hashes for the others

    started = time.time()
    R = {"args": a, "date": datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"), "machine": machine_info(), "notes": []}
    others = foreign_procs()
    ok = False
    try:
        log(f"setup: {a.users} users with {SMALL_MSGS}x{SMALL_SIZE} bytes, one user with "
            f"a folder of {a.messages:,} messages, in {work}")
        every = setup_users(a.users + 1, postern, [s for s in servers if s is not postern],
                            [SMALL_SIZE] * SMALL_MSGS, seed="imapbench")
        users, (big, big_pw) = every[:-1], every[-1]
        t0 = time.monotonic()
        src = work / "folder"
        total = make_folder(src, a.messages)
        log(f"setup: folder of {a.messages:,} messages ({total / 2**20:.0f} MiB) in "
            f"{time.monotonic() - t0:.1f}s")
        R["versions"] = versions(a, servers, bin_dir)
        for s in servers:
            s.start(probe(*users[0]))
            log(f"{s.name} up on {HOST}:{s.port} (master pid {s.proc.pid})")
        for s in servers:
            errs = asyncio.run(warm_up(s, users))
            if errs:
                R["notes"].append(f"**{s.name} warm-up: {len(errs)} of {len(users)} sessions "
                                  f"failed**; first: {errs[0]}")
                log(f"warm-up {s.name}: {len(errs)} failed, first: {errs[0]}")
            else:
                log(f"warm-up {s.name}: {len(users)} sessions")
        if a.wait_quiet > 0:
            busy = wait_quiet(a.wait_quiet)
            if busy >= 0.15:
                R["notes"].append(f"The machine was not idle when measuring started: other "
                                  f"processes used {busy:.2f} cores (waited "
                                  f"{a.wait_quiet:.0f}s).")
        if "folder" in a.only:
            run_folder(R, servers, a, src, big, big_pw)
        if "sessions" in a.only:
            run_sessions(R, servers, users, a)
        if "idle" in a.only:
            run_idle(R, servers, users, a)
        for s in servers:
            counts, samples = s.log_problems()
            if counts:
                R["notes"].append(f"{s.name} log warnings/errors: {counts}; first lines: "
                                  + " / ".join(f"`{x[:200]}`" for x in samples[:3]))
            else:
                R["notes"].append(f"{s.name} logged no warnings or errors during the run.")
        if others:
            kinds = sorted({os.path.basename(o) for o in others})
            R["notes"].append(f"{len(others)} other mail-server processes (not this "
                              f"benchmark's: {', '.join(kinds)}) were running on the "
                              f"machine when the benchmark started.")
        if a.quick:
            R["notes"].append("This was a --quick run (small counts): indicative only.")
        R["duration"] = time.time() - started
        ok = True
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as e:      # keep stopping the others
                log(f"stopping {s.name}: {e}")
        if ok and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work directory kept: {work}")

    rows = build_rows(R, servers, a)
    notes = make_notes(R, servers, a)
    print()
    print(table_text(rows, names(servers), letters(servers),
                     target=TARGET_HEAD if servers[0].name == "Postern" else None))
    print()
    for n in notes:
        print(f"- {n}")
    if write:
        write_doc(doc, DOC_HEADER, section_md(R, servers, rows, notes))
        log(f"\nwrote {doc}")
    return 0


if __name__ == "__main__":
    run_main(main, "imap")
