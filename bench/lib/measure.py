"""Load phases with CPU accounting, interleaved rounds and idle memory.

A phase runs a client workload against one server and takes the server's
CPU (utime+stime of every process of its tree, reaped children included),
the client's own CPU and the whole machine's before and after.
"""

import asyncio
import time

from . import CLK_TCK, log
from .client import SESSION_ERRORS
from .procfs import machine_busy
from .report import pct

SESSION_TIMEOUT = 60.0      # one session, seconds
PHASE_TIMEOUT = 1800.0      # one measurement phase
QUIET_BUSY = 0.15           # cores used by others below which the machine is quiet


def user_for(worker, k, conc, users):
    """Worker w only ever uses users w, w+conc, w+2*conc, ...: no two
    concurrent sessions share a maildrop (POP3 locks it, RFC 1939)."""
    per = max(1, len(users) // conc)
    return users[worker + conc * (k % per)]


async def run_load(session, users, n, conc, each_user_once=False):
    """n sessions by conc concurrent clients that take the next session as
    soon as they are free.  session(user, pw) is a coroutine returning
    (latency s, bytes, slowest step s).  each_user_once: one per user."""
    lats, errors, slow = [], [], []
    nbytes = 0
    next_i = 0

    async def worker(w):
        nonlocal next_i, nbytes
        k = 0
        while True:
            if each_user_once:
                if w + conc * k >= len(users):
                    break
                user, pw = users[w + conc * k]
            else:
                if next_i >= n:
                    break
                next_i += 1
                user, pw = user_for(w, k, conc, users)
            k += 1
            try:
                lat, got, slowest = await asyncio.wait_for(session(user, pw), SESSION_TIMEOUT)
                lats.append(lat)
                slow.append(slowest)
                nbytes += got
            except SESSION_ERRORS as e:
                errors.append(f"{type(e).__name__}: {e}")

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(conc))), PHASE_TIMEOUT)
    wall = time.perf_counter() - t0
    return {"lats": lats, "errors": errors, "wall": wall, "bytes": nbytes, "slow": slow}


def measured(server, fn, detail=False):
    """Run fn() (returns a result dict) against server and add server_cpu,
    client_cpu, other_cpu, machine_cpu, machine_busy, drained and, with
    detail, cpu_detail (seconds by process name)."""
    server.check_alive()
    server.wait_drained()
    cpu0 = server.cpu_ticks()
    det0 = server.cpu_detail() if detail else {}
    cl0 = time.process_time()
    busy0, total0 = machine_busy()
    res = fn()
    res["client_cpu"] = time.process_time() - cl0
    drained = server.wait_drained()
    busy1, total1 = machine_busy()
    res["server_cpu"] = (server.cpu_ticks() - cpu0) / CLK_TCK
    if detail:
        det1 = server.cpu_detail()
        res["cpu_detail"] = {k: (det1.get(k, 0) - det0.get(k, 0)) / CLK_TCK
                             for k in set(det0) | set(det1)}
    # CPU neither the client nor this server used: other processes, interrupts.
    res["other_cpu"] = max(0.0, (busy1 - busy0) - res["server_cpu"] - res["client_cpu"])
    res["machine_cpu"] = total1 - total0
    res["machine_busy"] = busy1 - busy0
    res["drained"] = drained
    server.check_alive()
    return res


def measure_load(server, session, users, n, conc, each_user_once=False):
    """n sessions of session(server, user, pw) at conc clients, measured."""
    return measured(server, lambda: asyncio.run(
        run_load(lambda u, p: session(server, u, p), users, n, conc, each_user_once)))


def merge(results):
    """Rounds of one server -> one summary (latencies in ms, rates, CPU per op)."""
    out = {"lats": [], "slow": [], "errors": [], "wall": 0.0, "bytes": 0, "client_cpu": 0.0,
           "server_cpu": 0.0, "rates": [], "other_cpu": 0.0, "machine_cpu": 0.0,
           "machine_busy": 0.0}
    for r in results:
        for k in ("lats", "slow", "errors"):
            out[k] += r[k]
        for k in ("wall", "bytes", "client_cpu", "server_cpu", "other_cpu", "machine_cpu",
                  "machine_busy"):
            out[k] += r.get(k, 0)
        out["rates"].append(len(r["lats"]) / r["wall"] if r["wall"] else 0)
    out["lats"].sort()
    out["slow"].sort()
    out["slow_p50"] = pct(out["slow"], 0.50) * 1000
    ok = len(out["lats"])
    out["ok"] = ok
    out["rate"] = ok / out["wall"] if out["wall"] else 0
    out["p50"] = pct(out["lats"], 0.50) * 1000
    out["p99"] = pct(out["lats"], 0.99) * 1000
    out["cpu_per"] = out["server_cpu"] * 1000 / ok if ok else float("nan")
    out["client_util"] = out["client_cpu"] / out["wall"] if out["wall"] else 0
    # Share of the machine's CPU capacity taken by others during the phase.
    out["other_share"] = out["other_cpu"] / out["machine_cpu"] if out["machine_cpu"] else 0
    out["busy_share"] = out["machine_busy"] / out["machine_cpu"] if out["machine_cpu"] else 0
    if any("cpu_detail" in r for r in results):
        det = {}
        for r in results:
            for k, v in r.get("cpu_detail", {}).items():
                det[k] = det.get(k, 0.0) + v
        out["cpu_detail_per"] = {k: v * 1000 / ok for k, v in det.items()} if ok else {}
    return out


def alternate(servers, rounds, fn):
    """Run fn(server) rounds times per server, interleaved: P D C, C D P, ...
    Returns {server name: [results]}."""
    res = {s.name: [] for s in servers}
    for r in range(rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for s in order:
            res[s.name].append(fn(s))
    return res


def wait_quiet(limit):
    """Wait up to limit seconds for the machine to be nearly idle (less than
    15% of one core busy over a second).  Returns the last busy figure."""
    deadline = time.monotonic() + limit
    while True:
        b0, _ = machine_busy()
        t0 = time.monotonic()
        time.sleep(1.0)
        b1, _ = machine_busy()
        busy = (b1 - b0) / (time.monotonic() - t0)
        if busy < QUIET_BUSY or time.monotonic() >= deadline:
            return busy
        log(f"machine busy ({busy:.2f} cores used by other processes), waiting "
            f"up to {deadline - time.monotonic():.0f}s more")


def measure_idle(server, open_idle, close_idle, k):
    """Memory of k idle sessions: open_idle(server, k) -> coroutine giving
    (conns, errors); close_idle(conns) -> coroutine.  Per-session figures are
    (loaded - baseline) / sessions opened."""
    server.check_alive()
    server.wait_drained()
    server.wait_stable()
    base = server.memory()
    loop = asyncio.new_event_loop()
    try:
        conns, errors = loop.run_until_complete(open_idle(server, k))
        server.wait_stable()
        server.check_alive()
        loaded = server.memory()
        loop.run_until_complete(close_idle(conns))
    finally:
        loop.close()
    server.wait_drained()
    n = len(conns)

    def per(key):
        return (loaded[key] - base[key]) / n if n else float("nan")
    return {"opened": n, "errors": errors, "base": base, "loaded": loaded,
            "private_per": per("private"), "pss_per": per("pss"), "rss_per": per("rss"),
            "procs_per": per("procs")}
