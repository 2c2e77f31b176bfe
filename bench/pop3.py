#!/usr/bin/env python3
"""POP3 benchmark: Postern against Dovecot's and Courier's pop3d on the same
machine, same run, interleaved round by round (P D C, C D P, ...).

`make bench` runs this after building.  As root it:
  1. installs dovecot-core and dovecot-pop3d with apt-get if they are missing,
     and downloads Courier's packages into build/bench-cache/courier (they
     conflict with dovecot-pop3d, so they are unpacked into the temp dir and
     run from there in a private mount namespace, see bench/lib/servers.py);
  2. builds private instances under one temp directory (loopback ports
     21110, 21111, 21112), with the same users, the same password hashes
     (SHA512-CRYPT, 5000 rounds, the same $6$ strings for Dovecot and
     Courier) and the same Maildir message files;
  3. runs the same asyncio client against all of them (TCP_QUICKACK set after
     connect and after every receive), alternating the servers round by round:
       a) full sessions: connect, USER/PASS, STAT, RETR every message, QUIT
          at 1, 8 and 32 concurrent clients: sessions/s, p50/p99 latency,
          server CPU time per session;
       b) K logged-in idle sessions: private memory and PSS per session, summed
          over every process of the server, minus the 0-session baseline;
       c) login only (connect, USER/PASS, QUIT): p50/p99 at 1 and 8 clients;
       d) TLS handshakes on the implicit-TLS (pop3s) ports 21995, 21996,
          21997, with an ECDSA P-256 and an RSA 2048 certificate made with
          openssl (the same files for every server): handshakes/s, p50/p99,
          server CPU per handshake; session resumption offered on the ECDSA
          certificate; a plaintext connect+greeting control;
  4. prints the tables and (full run) prepends a dated section to
     docs/BENCHMARKS.md, keeping older sections.

--quick is a short run for development (200 sessions, 20 idle sessions, 200
handshakes) and does not touch docs/BENCHMARKS.md unless --doc is also given.
--tls-only runs only d) (with --doc it writes a section with only the TLS
table); --no-tls skips d); --no-courier leaves Courier out (the tables then
have the two-server layout of older sections).
"""

import argparse
import asyncio
import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import HOST, ROOT, BenchError, client, log, run_main                   # noqa: E402
from lib import pop3c                                                    # noqa: E402
from lib.data import message_sizes, setup_users                         # noqa: E402
from lib.measure import alternate, measure_idle, measure_load, measured, merge, \
    wait_quiet                                                           # noqa: E402
from lib.report import clients, count_errors, fmt, fmt_detail, fmt_names, foreign_procs, \
    git_commit, machine_info, num_row, table_md, table_text, text_row, write_doc, \
    DOC_HEADER  # noqa: E402
from lib.servers import MAIL_UID, Courier, Dovecot, Postern, port_in_use  # noqa: E402
from lib.tlsbench import TLS_NAME, make_certs, run_handshakes, s_client_probe, \
    tls_context                                                          # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
SMALL_MSGS, SMALL_SIZE = 20, 4 * 1024
LARGE_MSGS, LARGE_SIZE = 2, 100 * 1024
SIZES = message_sizes(SMALL_MSGS, SMALL_SIZE, LARGE_MSGS, LARGE_SIZE)


def slash(servers, f):
    """'a / b / c' of f(server) in server order."""
    return " / ".join(f(s) for s in servers)


def each(servers, f, sep=", "):
    """'Postern x, Dovecot y, ...' of f(server)."""
    return sep.join(f"{s.name} {f(s)}" for s in servers)


def possessive(name):
    return name + "'s"


def pc_of(m, key):
    return f"{100 * m[key]:.0f}%"


def names(servers):
    return [s.name for s in servers]


def letters(servers):
    return [s.letter for s in servers]


# --------------------------------------------------------------------------
# Scenario steps

def pop_session(mode):
    return lambda server, user, pw: pop3c.session(server.port, user, pw, mode)


def probe(users):
    user, pw = users[0]

    def fn(server, port):
        ctx = tls_context(server.tls, verify=False) if server.tls else None
        return pop3c.probe_login(port, user, pw, ctx)
    return fn


def stall_probe(server, users, sessions=5):
    """Median over sessions of the slowest RETR, without and with quickack."""
    out = {}
    for qa in (False, True):
        worst = []
        for k in range(sessions):
            user, pw = users[k % len(users)]
            try:
                worst.append(max(pop3c.retr_probe(server.port, user, pw, qa)))
            except (OSError, client.ProtoError, ValueError) as e:
                log(f"   {server.name} RETR probe failed: {e}")
        worst.sort()
        out[qa] = worst[(len(worst) - 1) // 2] if worst else float("nan")
    server.wait_drained()
    return out


async def open_idle(server, users, k, conc=8):
    """k sessions logged in (USER, PASS, STAT) and left open."""
    conns, errors = [], []
    sem = asyncio.Semaphore(conc)

    async def one(user, pw):
        async with sem:
            try:
                reader, writer = await pop3c.login(server.port, user, pw)
                await pop3c.cmd(reader, writer, b"STAT\r\n")
                conns.append((reader, writer))
            except client.SESSION_ERRORS as e:
                errors.append(f"{user}: {type(e).__name__}: {e}")

    await asyncio.wait_for(asyncio.gather(*(one(u, p) for u, p in users[:k])), 300)
    return conns, errors


def measure_tls(server, n, conc, resume=False, plain=False):
    """Handshakes against server's TLS port (plain: its plaintext port,
    without TLS), measured, with the server's CPU by process."""
    return measured(server, lambda: run_handshakes(
        server.port if plain else server.tls_port, None if plain else server.tls,
        n, conc, resume), detail=True)


def merge_tls(results):
    out = merge(results)
    out["reused"] = sum(r["reused"] for r in results)
    return out


def restart_with(servers, tls, users):
    """Stop every server, rewrite its config (tls: a case or None), start."""
    for s in servers:
        s.stop()
        s.write_conf(tls)
    for s in servers:
        s.start(probe(users))
        log(f"{s.name} up on {HOST}:{s.tls_port if tls else s.port}"
            f"{' (implicit TLS, ' + tls['label'] + ')' if tls else ''} (master pid {s.proc.pid})")


# --------------------------------------------------------------------------
# Phases

def log_load(name, m, unit):
    log(f"   {name:8} {m['rate']:8.1f} {unit}/s  p50 {m['p50']:7.2f} ms  "
        f"p99 {m['p99']:7.2f} ms  cpu {m['cpu_per']:.2f} ms/{unit[:-1]}  "
        f"slowest step p50 {m['slow_p50']:.1f} ms  client {100 * m['client_util']:.0f}% of a "
        f"core  others {100 * m['other_share']:.0f}% of machine  "
        f"errors {len(m['errors'])}  rounds {[round(x) for x in m['rates']]}")


def load_phase(servers, users, a, mode, n, conc):
    """n sessions of mode per server at conc clients in a.rounds interleaved
    rounds: {server name: merged results}."""
    per_round = max(1, n // a.rounds)
    what = "a) full sessions" if mode == "full" else "c) logins"
    log(f"{what}, {clients(conc)}, {per_round} x {a.rounds} rounds per server")
    res = alternate(servers, a.rounds,
                    lambda s: measure_load(s, pop_session(mode), users, per_round, conc))
    out = {k: merge(v) for k, v in res.items()}
    for k, m in out.items():
        log_load(k, m, "sessions" if mode == "full" else "logins")
    return out


def run_plain_phase(R, servers, users, a, notes):
    """a) full sessions, c) logins, b) idle memory; fills R and notes."""
    if a.wait_quiet > 0:
        busy = wait_quiet(a.wait_quiet)
        if busy >= 0.15:
            notes.append(f"The machine was not idle when measuring started: other "
                         f"processes used {busy:.2f} cores (waited {a.wait_quiet:.0f}s).")
    # Warm-up: one full session per user and server.
    sizes = {}
    for s in servers:
        r = measure_load(s, pop_session("full"), users, len(users), 8, each_user_once=True)
        if r["errors"]:
            raise BenchError(f"{s.name} warm-up: {len(r['errors'])} failed sessions, "
                             f"first: {r['errors'][0]}")
        sizes[s.name] = r["bytes"] / len(users)
        log(f"warm-up {s.name}: {len(users)} sessions, {sizes[s.name]:.0f} bytes "
            f"received per session")
    if len(set(sizes.values())) > 1:
        notes.append(f"The servers sent different amounts per session: "
                     f"{each(servers, lambda s: f'{sizes[s.name]:.0f} bytes')}.")
    else:
        notes.append(f"{'Both' if len(servers) == 2 else 'All'} servers sent exactly "
                     f"{sizes[servers[0].name]:.0f} bytes of RETR data per full session "
                     f"(CRLF line ends, dot-stuffed).")

    for conc in R["concs"]:
        R["full"][conc] = load_phase(servers, users, a, "full",
                                     a.single if conc == 1 else a.sessions, conc)
        if conc == 1:
            # Is a slow RETR the server working, or waiting for the client's ACK?
            R["probe"] = {}
            for s in servers:
                R["probe"][s.name] = pr = stall_probe(s, users)
                log(f"   {s.name:8} slowest RETR per session, blocking client: "
                    f"{pr[False]:.1f} ms, with TCP_QUICKACK {pr[True]:.1f} ms")

    for conc in R["login_concs"]:
        R["login"][conc] = load_phase(servers, users, a, "login", a.logins, conc)

    log(f"b) {a.idle} idle sessions per server")
    R["idle"] = {}
    for s in servers:
        m = measure_idle(s, lambda srv, k: open_idle(srv, users, k), pop3c.quit_all, a.idle)
        R["idle"][s.name] = m
        log(f"   {s.name:8} opened {m['opened']}  private {m['private_per']:.1f} KiB/session"
            f"  pss {m['pss_per']:.1f} KiB/session  procs/session {m['procs_per']:.2f}"
            f"  base {m['base']['names']}  loaded {m['loaded']['names']}")
        if m["errors"]:
            notes.append(f"{s.name}: {len(m['errors'])} of {a.idle} idle sessions could "
                         f"not be opened; first: {m['errors'][0]}")
    plain_notes(R, servers, notes)


def plain_notes(R, servers, notes):
    concs, login_concs = R["concs"], R["login_concs"]
    for conc in concs:
        for k, m in R["full"][conc].items():
            if m["errors"]:
                notes.append(f"{k}, {clients(conc)}: {len(m['errors'])} failed sessions "
                             f"({count_errors(m['errors'])}).")
    for conc in login_concs:
        for k, m in R["login"][conc].items():
            if m["errors"]:
                notes.append(f"{k}, logins at {clients(conc)}: {len(m['errors'])} "
                             f"failed; first: {m['errors'][0]}")
    cu = ", ".join(f"{clients(conc)}: " + slash(
        servers, lambda s: f"{100 * R['full'][conc][s.name]['client_util']:.0f}% ({s.name})")
        for conc in concs)
    notes.append(f"The machine has {R['machine']['cores']} cores shared by client and "
                 f"server. The Python client used this much of one core during the full "
                 f"sessions: {cu}. Where that nears 100% the client, not the server, "
                 f"limits sessions/s and compresses the ratio; server CPU per session is "
                 f"the client-independent figure.")
    oth = [R["full"][c][s.name]["other_share"] for c in concs for s in servers]
    oth += [R["login"][c][s.name]["other_share"] for c in login_concs for s in servers]
    notes.append(f"CPU used by neither the client nor the measured server during the "
                 f"load phases (other processes on the machine, interrupts, the idle "
                 f"other servers): {100 * min(oth):.0f}% to {100 * max(oth):.0f}% of the "
                 f"machine's {R['machine']['cores']} cores per phase. Above a few "
                 f"percent, the machine was not quiet and absolute numbers are noisy; "
                 f"the alternating rounds spread that noise over the servers.")
    P = R["probe"]
    notes.append(f"RETR probe (a plain blocking client, 5 sessions, median of the "
                 f"slowest RETR per session): "
                 f"{each(servers, lambda s: f'{P[s.name][False]:.1f} ms')}; the same with "
                 f"TCP_QUICKACK set before every read (the client never delays its ACKs): "
                 f"{each(servers, lambda s: f'{P[s.name][True]:.1f} ms')}.")
    for nm, pr in P.items():
        if pr[False] > 20 and pr[True] < pr[False] / 4:
            notes.append(f"**{nm} stalls on large RETRs** when the client delays its ACKs: "
                         f"about {pr[False]:.0f} ms per {LARGE_SIZE // 1024} KiB message "
                         f"in the probe without TCP_QUICKACK, gone with it. That is the "
                         f"Nagle / delayed-ACK interaction: the server writes a response "
                         f"in several chunks without TCP_NODELAY or TCP_CORK, the kernel "
                         f"holds the last partial segment until the previous ones are "
                         f"ACKed, and a normal client delays that ACK (~40 ms on Linux). "
                         f"The load client of a)-c) sets TCP_QUICKACK"
                         f"{'' if client.QUICKACK else ' (not in this run: --no-quickack)'}, "
                         f"so its rows measure the server, not the stall.")
    rr = "; ".join(f"{clients(conc)}: " + each(
        servers, lambda s: f"{[round(x) for x in R['full'][conc][s.name]['rates']]}")
        for conc in concs)
    notes.append(f"Sessions/s per round (spread between rounds): {rr}.")
    base_daemons = ", ".join(sorted(R["idle"]["Postern"]["base"]["names"]))
    text = ("Postern forks and execs two processes per logged-in session by "
            "design (privilege separation: a `postern-pop3d` protocol worker for "
            "the connection under its own uid and seccomp, plus a "
            "`postern-stored` per user holding the maildrop under the mail uid), "
            f"beside its long-running daemons ({base_daemons}). Dovecot with its defaults also "
            "forks+execs two per session (a `pop3-login` that exits after the "
            "login, then a `pop3` mail process), so an idle logged-in session "
            "costs Postern two processes and Dovecot one.")
    if "Courier" in R["idle"]:
        text += (" Courier's couriertcpd forks and execs `courierpop3login` per connection, "
                 "which asks authdaemond over its socket and then execs `courierpop3d` "
                 "under the user's uid in the same process: one process per session.")
    notes.append(text)
    notes.append("Baseline private memory includes the text of each long-running "
                 "Postern daemon: the binaries are static, and a binary run by one "
                 "process only is private to it. Dovecot's daemons share "
                 "libdovecot.so, which counts as shared.")
    parts = []
    for s in servers:
        i = R["idle"][s.name]
        parts.append(f"{s.name} with {i['opened']} sessions had {i['loaded']['procs']} "
                     f"processes ({fmt_names(i['loaded']['names'])}), baseline "
                     f"{i['base']['procs']} ({fmt_names(i['base']['names'])})")
    notes.append(f"Idle memory detail: {'; '.join(parts)}. RSS per session: "
                 + each(servers, lambda s: "%.0f KiB" % R["idle"][s.name]["rss_per"]) + ".")


def run_tls_phase(R, servers, users, a, notes):
    """d) for every certificate: restart with TLS, warm up, 1 client,
    a.tls_conc clients; resumption and the plaintext control on the first."""
    R["tls"] = {"cases": [], "conc": a.tls_conc}
    if a.wait_quiet > 0:
        busy = wait_quiet(a.wait_quiet)
        if busy >= 0.15:
            notes.append(f"The machine was not idle when the TLS measurements started: other "
                         f"processes used {busy:.2f} cores (waited {a.wait_quiet:.0f}s).")
    certs = make_certs(R["work"])
    for ci, case in enumerate(certs):
        restart_with(servers, case, users)
        C = {"case": case, "probe": {}}
        for s in servers:
            r = measure_tls(s, 50, a.tls_conc)
            if r["errors"]:
                raise BenchError(f"{s.name} TLS warm-up ({case['label']}): {len(r['errors'])} "
                                 f"failed handshakes, first: {r['errors'][0]}")
            C["probe"][s.name] = pr = s_client_probe(s.tls_port, case)
            log(f"d) {case['label']}: {s.name} warm-up ok; openssl s_client: {pr}")
        per_round = max(1, a.tls_single // 2)
        log(f"d) {case['label']}, 1 client, {per_round} x 2 rounds per server")
        res = alternate(servers, 2, lambda s: measure_tls(s, per_round, 1))
        C["single"] = {k: merge_tls(v) for k, v in res.items()}
        per_round = max(1, a.handshakes // a.rounds)
        log(f"d) {case['label']}, {clients(a.tls_conc)}, {per_round} x {a.rounds} rounds "
            f"per server")
        res = alternate(servers, a.rounds, lambda s: measure_tls(s, per_round, a.tls_conc))
        C["full"] = {k: merge_tls(v) for k, v in res.items()}
        if ci == 0:
            log(f"d) {case['label']}, session resumption, {clients(a.tls_conc)}, "
                f"{per_round} x {a.rounds} rounds per server")
            res = alternate(servers, a.rounds,
                            lambda s: measure_tls(s, per_round, a.tls_conc, resume=True))
            C["resume"] = {k: merge_tls(v) for k, v in res.items()}
            # The same connections without TLS: what the process per connection
            # costs by itself (plaintext ports of the same server instances).
            log(f"d) control without TLS (plaintext port, connect + greeting + close), "
                f"{clients(a.tls_conc)}, {per_round} x {a.rounds} rounds per server")
            res = alternate(servers, a.rounds,
                            lambda s: measure_tls(s, per_round, a.tls_conc, plain=True))
            C["plain"] = {k: merge_tls(v) for k, v in res.items()}
        for part in ("single", "full", "resume", "plain"):
            for k, m in C.get(part, {}).items():
                log(f"   {part:6} {k:8} {m['rate']:8.1f} handshakes/s  p50 {m['p50']:7.2f} ms  "
                    f"p99 {m['p99']:7.2f} ms  cpu {m['cpu_per']:.2f} ms/handshake  "
                    f"resumed {m['reused']}/{m['ok']}  client {100 * m['client_util']:.0f}% "
                    f"of a core  others {100 * m['other_share']:.0f}%  "
                    f"errors {len(m['errors'])}  by process "
                    f"{ {p: round(v, 3) for p, v in sorted(m['cpu_detail_per'].items())} }")
        R["tls"]["cases"].append(C)
    # Back to the plaintext configs (nothing measures after this).
    for s in servers:
        s.stop()
        s.write_conf(None)


# --------------------------------------------------------------------------
# Tables

def build_rows(R, servers):
    rows = []

    def row(metric, part, key, nd=2, better="lower"):
        rows.append(num_row(metric, [part[s.name][key] for s in servers], nd, better))

    def errs(metric, part):
        rows.append(text_row(metric, [str(len(part[s.name]["errors"])) for s in servers],
                             "lower"))

    for conc in R["concs"]:
        F = R["full"][conc]
        if conc == 1:
            row("a) session latency p50, 1 client (ms)", F, "p50")
            row("a) session latency p99, 1 client (ms)", F, "p99")
            row("a) slowest RETR in a session p50, 1 client (ms)", F, "slow_p50")
            row("a) server CPU per session, 1 client (ms)", F, "cpu_per")
            errs("a) failed sessions, 1 client", F)
            continue
        row(f"a) sessions/s, {conc} clients", F, "rate", 1, "higher")
        row(f"a) session latency p50, {conc} clients (ms)", F, "p50")
        row(f"a) session latency p99, {conc} clients (ms)", F, "p99")
        row(f"a) server CPU per session, {conc} clients (ms)", F, "cpu_per")
        errs(f"a) failed sessions, {conc} clients", F)
    for conc in R["login_concs"]:
        L, c = R["login"][conc], clients(conc)
        row(f"c) login latency p50, {c} (ms)", L, "p50")
        row(f"c) login latency p99, {c} (ms)", L, "p99")
        row(f"c) logins/s, {c}", L, "rate", 1, "higher")
        row(f"c) server CPU per login, {c} (ms)", L, "cpu_per")
    idle, k = R["idle"], R["args"].idle
    row(f"b) private memory per idle session, K={k} (KiB)", idle, "private_per", 1)
    row(f"b) PSS per idle session, K={k} (KiB)", idle, "pss_per", 1)
    row("b) processes per idle session", idle, "procs_per", 2)
    base = [idle[s.name]["base"] for s in servers]
    rows.append(text_row("b) baseline, 0 sessions: private KiB (processes)",
                         [f"{b['private']:,} ({b['procs']})" for b in base], "lower",
                         num_row("", [b["private"] for b in base])[2]))
    return rows


def tls_rows(R, servers):
    T = R["tls"]
    conc = T["conc"]
    rows = []

    def add(name, part, key, nd=2):
        rows.append(num_row(name, [part[s.name][key] for s in servers], nd))

    for C in T["cases"]:
        lb, F, S = C["case"]["label"], C["full"], C["single"]
        add(f"{lb}: handshakes/s, {clients(conc)}", F, "rate", 1)
        add(f"{lb}: handshake latency p50, {clients(conc)} (ms)", F, "p50")
        add(f"{lb}: handshake latency p99, {clients(conc)} (ms)", F, "p99")
        add(f"{lb}: server CPU per handshake, {clients(conc)} (ms)", F, "cpu_per")
        add(f"{lb}: handshake latency p50, 1 client (ms)", S, "p50")
        add(f"{lb}: handshake latency p99, 1 client (ms)", S, "p99")
        add(f"{lb}: server CPU per handshake, 1 client (ms)", S, "cpu_per")
        nerr = [sum(len(C[x][s.name]["errors"]) for x in ("single", "full", "resume") if x in C)
                for s in servers]
        rows.append(text_row(f"{lb}: failed handshakes", [str(n) for n in nerr]))
        if "resume" in C:
            Rs = C["resume"]
            add(f"{lb}, resumption offered: handshakes/s, {clients(conc)}", Rs, "rate", 1)
            add(f"{lb}, resumption offered: latency p50, {clients(conc)} (ms)", Rs, "p50")
            add(f"{lb}, resumption offered: latency p99, {clients(conc)} (ms)", Rs, "p99")
            add(f"{lb}, resumption offered: server CPU per handshake (ms)", Rs, "cpu_per")
            pr = [100 * Rs[s.name]["reused"] / Rs[s.name]["ok"] if Rs[s.name]["ok"]
                  else float("nan") for s in servers]
            rows.append(text_row(f"{lb}, resumption offered: handshakes resumed (%)",
                                 [fmt(x, 1) for x in pr]))
    for C in T["cases"]:
        if "plain" in C:
            P = C["plain"]
            add(f"no TLS (control): connections/s, {clients(conc)}", P, "rate", 1)
            add(f"no TLS (control): latency p50, {clients(conc)} (ms)", P, "p50")
            add(f"no TLS (control): latency p99, {clients(conc)} (ms)", P, "p99")
            add("no TLS (control): server CPU per connection (ms)", P, "cpu_per")
            rows.append(text_row("no TLS (control): failed connections",
                                 [str(len(P[s.name]["errors"])) for s in servers]))
    return rows


# --------------------------------------------------------------------------
# The docs/BENCHMARKS.md section

def tls_notes(R, servers):
    T = R["tls"]
    conc = T["conc"]
    N = T["notes"] = []
    for C in T["cases"]:
        case = C["case"]

        def saw(s):
            p = C["probe"][s.name]
            return (f"{p.get('cipher', '?')}, key exchange {p.get('group', '?')}, server "
                    f"signature {p.get('sigtype', '?')} {p.get('digest', '?')}")
        N.append(f"{case['label']} ({case['desc']}), client suite {case['suite']}: openssl "
                 f"s_client saw " + "; ".join(f"on {s.name}: {saw(s)}" for s in servers) + ".")
    for C in T["cases"]:
        lb = C["case"]["label"]
        for part, what in (("full", f"{clients(conc)}"),
                           ("resume", f"{clients(conc)}, resumption offered"),
                           ("plain", f"{clients(conc)}, no TLS (control)")):
            if part not in C:
                continue
            M = C[part]
            unit = "connection" if part == "plain" else "handshake"
            N.append(f"{lb}, {what}: server CPU per {unit} by process (ms): "
                     + "; ".join(f"{s.name} {fmt_detail(M[s.name]['cpu_detail_per'])}"
                                 for s in servers)
                     + f". Client (Python) "
                     f"{slash(servers, lambda s: pc_of(M[s.name], 'client_util'))} of "
                     f"one core; the whole machine "
                     f"{slash(servers, lambda s: pc_of(M[s.name], 'busy_share'))} busy, "
                     f"of which other processes "
                     f"{slash(servers, lambda s: pc_of(M[s.name], 'other_share'))} "
                     f"({slash(servers, lambda s: s.name)} phases). {unit.capitalize()}s/s "
                     f"per round: "
                     + each(servers, lambda s: f"{[round(x) for x in M[s.name]['rates']]}")
                     + ".")
    ctl = [C for C in T["cases"] if "plain" in C]
    if ctl:
        pc = ctl[0]["plain"]
        inc = "; ".join(f"{C['case']['label']}: " + each(
            servers, lambda s: f"{C['full'][s.name]['cpu_per'] - pc[s.name]['cpu_per']:.2f}")
            for C in T["cases"])
        N.append(f"What TLS itself adds: server CPU per handshake at {clients(conc)} minus "
                 f"server CPU per plaintext connection (the no-TLS control: connect, "
                 f"greeting, close on the plaintext port of the same running servers, "
                 f"{each(servers, lambda s: '%.2f ms' % pc[s.name]['cpu_per'])}), in ms: "
                 f"{inc}. The rest of each handshake's cost is the process per connection.")
    for C in T["cases"]:
        for part in ("single", "full", "resume", "plain"):
            for k, m in C.get(part, {}).items():
                if m["errors"]:
                    N.append(f"**{k}, {C['case']['label']} {part}: {len(m['errors'])} failed "
                             f"handshakes** ({count_errors(m['errors'])}).")
    res = [C for C in T["cases"] if "resume" in C]
    if res:
        C = res[0]
        Rs = C["resume"]
        text = (f"Resumption ({C['case']['label']}): every client thread offered the "
                f"session of its previous connection (`SSLContext.wrap_bio(session=...)`, "
                f"session tickets allowed). "
                + each(servers, lambda s: f"{Rs[s.name]['reused']} of {Rs[s.name]['ok']}",
                       sep=", ").replace("Postern ", "Postern resumed ", 1)
                + ". Postern's session cache lives in keyd, shared by every worker process "
                  "(session IDs; BearSSL has no tickets).")
        if "Dovecot" in Rs and Rs["Dovecot"]["reused"] == 0:
            text += (" Dovecot's OpenSSL session cache and ticket keys live in each "
                     "pop3-login process, and with the default `service_count = 1` every "
                     "connection gets a new one, so nothing can be resumed there: its row "
                     "is a second run of full handshakes.")
        if "Courier" in Rs and Rs["Courier"]["reused"] == 0:
            text += (" Courier's couriertls is a new process per connection and no "
                     "`TLS_CACHEFILE` is set, so it resumes nothing either.")
        N.append(text)


def tls_section_md(R, servers, trows):
    a, v, T = R["args"], R["versions"], R["tls"]
    conc = T["conc"]
    L = ["### d) TLS handshakes on the implicit-TLS port (pop3s)\n",
         table_md(trows, names(servers), letters(servers), better=False), "",
         f"Ratio is Postern / {servers[1].name if len(servers) == 2 else 'the other server'}"
         f": above 1 is better for Postern in the handshakes/s rows, worse in the latency "
         f"and CPU rows.\n", "#### Setup\n"]
    certs = "; ".join(f"{C['case']['label']}: {C['case']['desc']}, client suite "
                      f"`{C['case']['suite']}`" for C in T["cases"])
    by_name = {s.name: s for s in servers}
    L.append(f"- Certificates made with `openssl req -x509 -newkey ... -sha256` at the start "
             f"of the run, CN and subjectAltName `{TLS_NAME}` (plus IP {HOST}), key without "
             f"a passphrase: {certs}. The same certificate and key files for every server; "
             f"one server configuration per certificate (the servers restarted in between), "
             f"so each server has exactly one certificate loaded.")
    text = (f"- Postern: `pop3s_listen = {HOST}:{by_name['Postern'].tls_port}`, "
            f"`tls_cert_file = <cert>`, `tls_key_file = <key>`, `pop3_tls_required = yes`; "
            f"`tls_session_cache` (10000), `tls_min_version` (TLS 1.2) and the suites "
            f"(ECDHE with AES-GCM or ChaCha20-Poly1305 only, server order) at their "
            f"defaults; otherwise the config of a)-c).")
    if "Dovecot" in by_name:
        text += (f" Dovecot: `ssl = required`, `ssl_cert = <cert`, `ssl_key = <key`, "
                 f"`ssl_min_protocol = TLSv1.2`, `inet_listener pop3s {{ address = {HOST}, "
                 f"port = {by_name['Dovecot'].tls_port}, ssl = yes }}`; `ssl_cipher_list`, "
                 f"`ssl_curve_list`, `ssl_prefer_server_ciphers` and the rest at Dovecot's "
                 f"defaults.")
    if "Dovecot HP" in by_name:
        text += (f" Dovecot HP: the same on {HOST}:{by_name['Dovecot HP'].tls_port}, with "
                 f"the high-performance `service pop3-login` of a)-c).")
    if "Courier" in by_name:
        text += (f" Courier: a second `couriertcpd` on {HOST}:{by_name['Courier'].tls_port} "
                 f"running `couriertls -server -tcpd courierpop3login courierpop3d Maildir` "
                 f"with `POP3_TLS=1`, `TLS_CERTFILE=<key and cert in one file>`, "
                 f"`TLS_VERIFYPEER=NONE`, the way Courier's `pop3d-ssl` script starts it "
                 f"(without `-user=courier`: there is no courier user here); `TLS_PRIORITY`, "
                 f"`TLS_PROTOCOL` and the rest at couriertls's (GnuTLS) defaults, no "
                 f"`TLS_CACHEFILE`.")
    L.append(text)
    L.append(f"- Client: Python {v['python']} `ssl` ({v['py_openssl']}), an `SSLObject` "
             f"over memory BIOs on a plain socket (so that TCP_QUICKACK can be set after "
             f"connect and after every receive, the handshake included), "
             f"`SSLContext(PROTOCOL_TLS_CLIENT)` with minimum and maximum version TLS 1.2 "
             f"(BearSSL has no TLS 1.3, and `set_ciphers` cannot restrict OpenSSL's TLS 1.3 "
             f"suites), `set_ciphers(<the one suite>)`, `OP_NO_TICKET`, the certificate "
             f"verified (itself as the trust anchor) with host name and SNI `{TLS_NAME}`. "
             f"Key-exchange groups and signature algorithms offered are the OpenSSL client "
             f"defaults; which ones were used is in the notes.")
    L.append(f"- One handshake = TCP connect + full TLS handshake + read the `+OK` greeting + "
             f"close (no QUIT, no close_notify); latency from before connect() until the "
             f"greeting is in. Every handshake is checked: TLS 1.2, the expected suite, "
             f"not resumed (a fresh session each time, no ticket). {a.handshakes} handshakes "
             f"per server and certificate with {conc} client threads, in {a.rounds} rounds "
             f"that alternate the servers ({slash(servers, lambda s: s.letter).replace(' / ', ' ')}"
             f", then reversed, ...), after 50 warm-up handshakes; "
             f"{a.tls_single} with 1 client in 2 rounds. The resumption rows: "
             f"{a.handshakes} more at {conc} threads with the first certificate, each thread "
             f"offering the session of its previous connection.")
    L.append(f"- Server CPU = utime+stime of every server process (Postern: master, "
             f"pop3d workers reaped by it, keyd, authd; Dovecot: master, pop3-login "
             f"processes reaped by it, config/log/anvil/auth/stats"
             f"{'; Courier: couriertcpd, the couriertls and courierpop3login processes it reaped, authdaemond' if 'Courier' in by_name else ''}"
             f"), divided by the handshakes. The machine's {R['machine']['cores']} cores are "
             f"shared by the client threads and the server under test: the Python client's "
             f"CPU share is in the notes; where it is large, it, not the server, limits "
             f"handshakes/s, so server CPU per handshake is the client-independent figure.")
    L.append("")
    L.append("#### Notes on d)\n")
    L.append("- keyd round trips: a Postern worker holds no private key. Per full handshake "
             "it makes two request/reply round trips to keyd over its socketpair: the "
             "certificate chains at the start (`MSG_KEYD_CHAINS_REQ`), and the signature "
             "over the ServerKeyExchange (`MSG_KEYD_SIGN`: ECDSA, or RSA PKCS#1 v1.5), "
             "plus a one-way `MSG_KEYD_CACHE_SAVE` of the new session; a resumed handshake "
             "makes the chain round trip and a `MSG_KEYD_CACHE_LOAD` instead of the "
             "signature. keyd is one single-threaded process for all workers, so signatures "
             "are made one at a time; its CPU per handshake is listed as `postern-keyd` in "
             "the by-process notes. Dovecot's pop3-login process has the key in its own "
             "memory and signs in-process.")
    courier_tls = (f"; Courier's couriertls uses GnuTLS {v['gnutls']} (Debian libgnutls30, "
                   f"with nettle)" if "Courier" in by_name else "")
    L.append(f"- BearSSL vs OpenSSL: Postern's worker (ECDHE, record layer) and keyd "
             f"(signatures) use BearSSL {v['bearssl']} (Debian libbearssl: constant-time C, "
             f"64-bit multiplications for RSA and elliptic curves, AES-NI/PCLMUL intrinsics "
             f"for AES-GCM, no hand-written assembly); Dovecot's pop3-login uses OpenSSL "
             f"{v['openssl']} (Debian libssl3: hand-written x86-64 assembly for P-256, "
             f"X25519, RSA's bignum arithmetic and AES-GCM)"
             f"{courier_tls}"
             f". The BearSSL server implements TLS 1.2 and "
             f"signs with RSA PKCS#1 v1.5 only, OpenSSL prefers RSA-PSS when the client "
             f"offers it (see the notes).")
    text = ("- Process per connection in every server: Postern's master forks and execs a "
            "`postern-pop3d` per connection (own uid, sandbox, seccomp) which runs the "
            "handshake; Dovecot's master forks and execs a `pop3-login` per connection "
            "(default `service_count = 1`), which runs the handshake")
    if "Courier" in by_name:
        text += ("; Courier's couriertcpd forks and execs `couriertls`, which runs the "
                 "handshake and forks and execs `courierpop3login` behind a pipe (two "
                 "processes per connection)")
    L.append(text + ". So every handshake figure includes a fork+exec and process start, "
             "and no server keeps a session cache in the process that handshakes "
             "(Postern's is in keyd).")
    for n in T.get("notes", []):
        L.append(f"- {n}")
    L.append("")
    return "\n".join(L)


def workload_md(R, servers):
    a = R["args"]
    by_name = {s.name: s for s in servers}
    per_user_kib = sum(SIZES) / 1024
    others = [s.name for s in servers[1:]]
    L = ["### Workload of a)-c)\n"]
    L.append(f"- {a.users} users (`user1`..`user{a.users}`), each with the same "
             f"{SMALL_MSGS + LARGE_MSGS} messages: {SMALL_MSGS} x {SMALL_SIZE} bytes and "
             f"{LARGE_MSGS} x {LARGE_SIZE} bytes ({per_user_kib:.0f} KiB per mailbox, "
             f"LF line ends, one line in 40 starts with a dot). Delivered with "
             f"`posternctl deliver`, then the same files copied into "
             f"{' and '.join(possessive(o) for o in others)} Maildirs "
             f"(owner uid/gid {MAIL_UID}). One warm-up session per user and server (RETR "
             f"of everything) before measuring, so every server has built its indexes and "
             f"moved mail from `new/` to `cur/`.")
    text = ("- Passwords: SHA512-CRYPT (`$6$`, default 5000 rounds) everywhere: "
            "`posternctl user add -s sha512`, and `doveadm pw -s SHA512-CRYPT` in "
            "Dovecot's passwd-file")
    if "Courier" in by_name:
        text += (" and, the very same `$6$` strings, as `systempw` in Courier's userdb "
                 "(authlib checks them with crypt(3))")
    L.append(text + ". Postern's default scheme is yescrypt, which was not used here.")
    L.append(f"- a) full session = connect, greeting, USER, PASS, STAT, RETR 1..22, QUIT "
             f"(latency: connect until the QUIT reply). {a.single} sessions per server "
             f"at 1 client, {a.sessions} at 8 and at 32 clients, each split into {a.rounds} "
             f"rounds that alternate the servers (P D, D P, ... with two servers; "
             f"P D C, C D P, ... with three). A client never runs two sessions on one "
             f"mailbox at once. The client sets TCP_QUICKACK after connect and after every "
             f"receive{'' if client.QUICKACK else ' (not in this run: --no-quickack)'}. "
             f"Server CPU = utime+stime of every server process, including reaped "
             f"children, divided by the sessions. After the 1-client phase, a RETR probe: "
             f"5 sessions per server with a plain blocking client, timing every RETR, "
             f"once normally and once with TCP_QUICKACK set before every read.")
    L.append(f"- b) {a.idle} sessions logged in (USER, PASS, STAT) and left idle; "
             f"memory = sum of Private_Clean+Private_Dirty (and Pss) from "
             f"`/proc/PID/smaps_rollup` over every process of the server (Postern: the "
             f"master's process tree, exe in the copy of build/bin; Dovecot: the `dovecot` "
             f"master's process tree"
             f"{'; Courier: the couriertcpd process tree, authdaemond included' if 'Courier' in by_name else ''}"
             f"), minus the same sum with 0 sessions just before, divided by the sessions.")
    L.append(f"- c) login only = connect, greeting, USER, PASS, QUIT; {a.logins} logins "
             f"per server per concurrency level, alternating rounds as in a).")
    text = (f"- Postern config: `pop3_tls_required = no`, `auth_fail_delay_ms = 0`, "
            f"`max_daemons = 1000`, `max_per_ip = 1000`, private state_dir/userdb/"
            f"mail_root/empty_root, listener on {HOST}:{by_name['Postern'].port}, everything "
            f"else default. No TLS on any server in a)-c).")
    if "Dovecot" in by_name:
        text += (f" Dovecot config: `protocols = pop3`, `ssl = no`, `disable_plaintext_auth "
                 f"= no`, passwd-file passdb/userdb, `mail_location = maildir:...`, "
                 f"`first_valid_uid = 1000`, `default_login_user = dovenull`, "
                 f"`default_internal_user = dovecot`, private base_dir/state_dir/log_path, "
                 f"listener on {HOST}:{by_name['Dovecot'].port}; everything else Dovecot's "
                 f"default, in particular `service pop3-login {{ service_count = 1 }}` (a new "
                 f"login process per connection, \"high-security mode\") and `service pop3 "
                 f"{{ service_count = 1, client_limit = 1 }}` (one mail process per session).")
    if "Dovecot HP" in by_name:
        text += (f" Dovecot HP: the same Dovecot config with the login processes in "
                 f"\"high-performance mode\": `service pop3-login {{ service_count = 0, "
                 f"process_min_avail = {len(os.sched_getaffinity(0))}, client_limit = 4000 }}` "
                 f"(one login process serves many connections; TLS handshakes run there), "
                 f"listener on {HOST}:{by_name['Dovecot HP'].port}; the mail processes are "
                 f"unchanged (one per session).")
    if "Courier" in by_name:
        text += (f" Courier ({R['versions']['courier']}, Debian courier-pop, courier-base, "
                 f"courier-authlib, courier-authlib-userdb, courier-authdaemon and their "
                 f"libraries, fetched with `apt-get download` and unpacked with `dpkg-deb -x` "
                 f"into the temp dir, since courier-pop conflicts with dovecot-pop3d): "
                 f"authlib has /etc/courier, /run/courier/authdaemon and "
                 f"/usr/lib/courier-authlib compiled in, so it runs in a private mount "
                 f"namespace (`unshare -m`) with overlays that put the unpacked /usr in "
                 f"front of the real one and private upper directories over /etc and /run; "
                 f"`authdaemond` with `authmodulelist=\"authuserdb\"` (no PAM) and a userdb "
                 f"made by `makeuserdb`; `couriertcpd -address={HOST} -maxprocs=1000 "
                 f"-maxperip=1000 -nodnslookup -noidentlookup {by_name['Courier'].port} "
                 f"courierpop3login courierpop3d Maildir` (the command of Courier's `pop3d` "
                 f"script, run in the foreground without courierlogger: it logs to a file), "
                 f"`POP3AUTH` empty (USER/PASS only); everything else Courier's default.")
    L.append(text)
    L.append("")
    return "\n".join(L)


HEADER = DOC_HEADER


def section_md(R, servers, rows, trows):
    a, mi, v = R["args"], R["machine"], R["versions"]
    L = [f"## Run {R['date']}{' (quick)' if a.quick else ''}"
         f"{' (TLS only)' if a.tls_only else ''}\n",
         f"- Machine: {mi['cpu']}, {mi['cores']} cores ({mi['usable']} usable by the "
         f"benchmark), {mi['ram']} RAM, Linux {mi['kernel']}"]
    text = (f"- Postern {v['postern']}; static PIE binaries from {v['bin']}, copied to the "
            f"temp dir at the start of the run. Dovecot {v['dovecot']} (Debian dovecot-core + "
            f"dovecot-pop3d)")
    if "courier" in v:
        text += f"; Courier {v['courier']} (Debian courier-pop, unpacked, see below)"
    L.append(text + f"; client Python {v['python']}: asyncio, single process for a)-c), "
             f"threads with the ssl module (SSLObject over memory BIOs) for d); "
             f"TCP_QUICKACK {'on' if client.QUICKACK else 'off'} in both")
    L.append(f"- Duration: {R['duration']:.0f} s for the whole run, "
             f"{'both' if len(servers) == 2 else 'all'} servers\n")
    if rows:
        L.append(table_md(rows, names(servers), letters(servers)))
        L.append("")
        other = servers[1].name if len(servers) == 2 else "the other server"
        L.append(f"Ratio is Postern / {other}; the *better* column says which "
                 f"direction favours a server (ratio > 1 in a *higher* row means Postern is "
                 f"better, in a *lower* row it means {other} is better).\n")
    if trows:
        L.append(tls_section_md(R, servers, trows))
    if rows:
        L.append(workload_md(R, servers))
    L.append("### Notes\n")
    for n in R["notes"]:
        L.append(f"- {n}")
    L.append("")
    return "\n".join(L)


# --------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="short run: 200 sessions, 20 idle sessions, 100 logins; "
                         "does not write docs/BENCHMARKS.md unless --doc")
    ap.add_argument("--doc", action="store_true", help="write docs/BENCHMARKS.md even with --quick")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/BENCHMARKS.md")
    ap.add_argument("--doc-file", type=Path, metavar="PATH",
                    help="write (prepend to) PATH instead of docs/BENCHMARKS.md")
    ap.add_argument("--sessions", type=int, help="full sessions per server at 8 and 32 clients")
    ap.add_argument("--single", type=int, help="full sessions per server at 1 client")
    ap.add_argument("--logins", type=int, help="login-only sessions per server and concurrency")
    ap.add_argument("--idle", type=int, help="idle sessions K for the memory test")
    ap.add_argument("--users", type=int, help="number of users (>= idle and >= 32)")
    ap.add_argument("--rounds", type=int, default=4, help="alternating rounds per measurement")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    ap.add_argument("--wait-quiet", type=float, default=60, metavar="SECONDS",
                    help="before measuring, wait up to this long for the machine to be "
                         "idle (default 60, 0: do not wait)")
    ap.add_argument("--tls-only", action="store_true",
                    help="only d), the TLS handshake benchmark")
    ap.add_argument("--no-tls", action="store_true", help="skip d), the TLS handshakes")
    ap.add_argument("--no-courier", action="store_true",
                    help="leave Courier out (Postern and Dovecot only)")
    ap.add_argument("--dovecot-hp", action="store_true",
                    help="add a second Dovecot in high-performance login mode (service "
                         "pop3-login: service_count = 0, process_min_avail = CPUs, "
                         "client_limit = 4000)")
    ap.add_argument("--no-quickack", action="store_true",
                    help="do not set TCP_QUICKACK in the load client (shows Nagle stalls)")
    ap.add_argument("--handshakes", type=int,
                    help="TLS handshakes per server and certificate at --tls-conc clients "
                         "(default 1000, --quick 200)")
    ap.add_argument("--tls-single", type=int,
                    help="TLS handshakes per server and certificate at 1 client "
                         "(default 200, --quick 40)")
    ap.add_argument("--tls-conc", type=int, default=8,
                    help="concurrent TLS client threads (default 8)")
    ap.add_argument("--bin", type=Path, metavar="DIR",
                    help="take the Postern binaries from DIR instead of build/bin (e.g. a "
                         "clean build of a commit while the work tree is being edited)")
    ap.add_argument("--postern-version", metavar="TEXT",
                    help="what to call the Postern binaries in the report (default: "
                         "git HEAD of this tree, marked if it has uncommitted changes)")
    a = ap.parse_args()
    if a.tls_only and a.no_tls:
        raise BenchError("--tls-only and --no-tls exclude each other")
    a.handshakes = a.handshakes or (200 if a.quick else 1000)
    a.tls_single = a.tls_single or (40 if a.quick else 200)
    if a.quick:
        a.sessions = a.sessions or 200
        a.single = a.single or 40
        a.logins = a.logins or 100
        a.idle = a.idle or 20
        a.rounds = min(a.rounds, 2)
    else:
        a.sessions = a.sessions or 2000
        a.single = a.single or 200
        a.logins = a.logins or 1000
        a.idle = a.idle or 100
    return a


def versions(a, servers, bin_dir):
    from lib.servers import dpkg_version
    import platform
    import ssl
    commit = a.postern_version or (f"binaries from {a.bin}" if a.bin else git_commit())
    v = {"postern": commit, "dovecot": dpkg_version("dovecot-pop3d") or "?",
         "python": platform.python_version(), "py_openssl": ssl.OPENSSL_VERSION,
         "bearssl": dpkg_version("libbearssl-dev") or "?",
         "openssl": dpkg_version("libssl3") or "?", "bin": str(bin_dir)}
    for s in servers:
        if s.name == "Courier":
            v["courier"] = s.version()
            v["gnutls"] = dpkg_version("libgnutls30") or "?"
    return v


def main():
    a = parse_args()
    client.QUICKACK = not a.no_quickack
    doc = a.doc_file or DOC
    bin_dir = a.bin.resolve() if a.bin else ROOT / "build" / "bin"
    write = (not a.quick or a.doc) and not a.no_doc
    concs, login_concs = [1, 8, 32], [1, 8]
    a.users = a.users or max(a.idle, max(concs) * 4 if a.quick else 128)
    a.users = max(a.users, a.idle, max(concs))

    if os.geteuid() != 0:
        raise BenchError("must run as root (private servers drop to uids 7001/7002/7100)")
    work = Path(tempfile.mkdtemp(prefix="pop3bench-"))
    os.chmod(work, 0o755)      # the mail uid must traverse it
    servers = [Postern(work, bin_dir=bin_dir), Dovecot(work)]
    if a.dovecot_hp:
        servers.append(Dovecot(work, port=21113, tls_port=21998, fast=True))
    if not a.no_courier:
        servers.append(Courier(work))
    servers[0].check_binaries()
    Dovecot.ensure_installed()
    for s in servers:
        for port in (s.port, s.tls_port):
            if port_in_use(port):
                raise BenchError(f"port {HOST}:{port} already in use")

    started = time.time()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes = []
    others = foreign_procs()
    R = {"args": a, "concs": concs, "login_concs": login_concs, "date": date,
         "machine": machine_info(), "full": {}, "login": {}, "work": work}
    ok = False
    try:
        log(f"setup: {a.users} users, {SMALL_MSGS}x{SMALL_SIZE // 1024} KiB + "
            f"{LARGE_MSGS}x{LARGE_SIZE // 1024} KiB messages each, in {work}")
        users = setup_users(a.users, servers[0], servers[1:], SIZES)
        R["versions"] = versions(a, servers, bin_dir)
        for s in servers:
            s.start(probe(users))
            log(f"{s.name} up on {HOST}:{s.port} (master pid {s.proc.pid})")
        if not a.tls_only:
            run_plain_phase(R, servers, users, a, notes)
        if not a.no_tls:
            run_tls_phase(R, servers, users, a, notes)
            tls_notes(R, servers)
        for s in servers:
            counts, samples = s.log_problems()
            if counts:
                notes.append(f"{s.name} log warnings/errors: {counts}; first lines: "
                             + " / ".join(f"`{x[:200]}`" for x in samples[:3]))
            else:
                notes.append(f"{s.name} logged no warnings or errors during the run.")
        if others:
            kinds = sorted({os.path.basename(o) for o in others})
            notes.append(f"{len(others)} other mail-server processes (not this "
                         f"benchmark's: {', '.join(kinds)}) were running on the machine "
                         f"when the benchmark started.")
        if a.quick:
            notes.append("This was a --quick run (small counts): indicative only.")
        R["notes"] = notes
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

    rows = build_rows(R, servers) if not a.tls_only else []
    trows = tls_rows(R, servers) if not a.no_tls else []
    print()
    for t in (rows, [(m, v, r, "") for m, v, r, _ in trows]):
        if t:
            print(table_text(t, names(servers), letters(servers)))
            print()
    for n in notes:
        print(f"- {n}")
    if write:
        write_doc(doc, HEADER, section_md(R, servers, rows, trows))
        log(f"\nwrote {doc}")
    return 0


if __name__ == "__main__":
    run_main(main, "pop3")
