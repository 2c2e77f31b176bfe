#!/usr/bin/env python3
"""POP3 idle-session load bench (issue 13 item 4): N concurrent logged-in idle
sessions on Postern, ramped at a fixed rate from many loopback source
addresses; every session must still answer NOOP after an idle period.

Not a timed test and not part of `make test`; run by hand as root after
`make all`, on a quiet machine:

    python3 bench/pop3_idle_load.py --sessions 10000 --rate 200 --idle-seconds 60

It reports sessions held, failures (login, NOOP), the server's processes,
private memory and PSS per session (smaps_rollup over the master's process
tree, minus the 0-session baseline), login latency p50/p99 during the ramp
(and per quarter of the ramp, to show growth) and NOOP latency after the idle
period.  --hup-halfway starts Postern with max_daemons just above half the
sessions and raises it with a SIGHUP halfway through the ramp.
"""

import argparse
import asyncio
import ipaddress
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import HOST, ROOT, BenchError, client, log, run_main                   # noqa: E402
from lib import pop3c                                                    # noqa: E402
from lib.data import setup_users                                        # noqa: E402
from lib.measure import wait_quiet                                      # noqa: E402
from lib.procfs import machine_busy                                     # noqa: E402
from lib.report import count_errors, fmt, fmt_names, git_commit, machine_info, pct  # noqa: E402
from lib.servers import Postern, port_in_use                            # noqa: E402
from lib import CLK_TCK                                                 # noqa: E402

LOGIN_TIMEOUT = 60.0
NOOP_TIMEOUT = 30.0
MARGIN = 50                 # max_daemons above the sessions (probe, stragglers)


def source_addr(i, per_ip):
    """Session i's source address: 127.0.0.2, ... with per_ip sessions each."""
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("127.0.0.2")) + i // per_ip))


def raise_nofile(need):
    """Soft RLIMIT_NOFILE up to the hard limit (and the hard limit up, as root)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, need)
    if want > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def system_limits():
    def rd(p):
        try:
            return Path(p).read_text().strip()
        except OSError:
            return "?"
    return {"pid_max": rd("/proc/sys/kernel/pid_max"),
            "threads_max": rd("/proc/sys/kernel/threads-max"),
            "port_range": rd("/proc/sys/net/ipv4/ip_local_port_range").replace("\t", "-"),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}


class Ramp:
    """Opens the sessions at a fixed rate and keeps them."""

    def __init__(self, port, users, a, on_half=None):
        self.port, self.users, self.a = port, users, a
        self.on_half = on_half
        self.conns = {}             # i -> (reader, writer)
        self.lats = []              # (i, login latency s)
        self.errors = []
        self.late = 0.0             # worst lag behind the schedule, s

    async def one(self, i):
        user, pw = self.users[i]
        src = source_addr(i, self.a.per_ip)
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(
                pop3c.login(self.port, user, pw, source=src), LOGIN_TIMEOUT)
            await asyncio.wait_for(pop3c.cmd(reader, writer, b"STAT\r\n"), LOGIN_TIMEOUT)
            self.lats.append((i, time.perf_counter() - t0))
            self.conns[i] = (reader, writer)
        except client.SESSION_ERRORS as e:
            self.errors.append(f"login: {type(e).__name__}: {e}")

    async def run(self):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        tasks = []
        for i in range(self.a.sessions):
            if self.on_half and i == self.a.sessions // 2:
                self.on_half()
            delay = t0 + i / self.a.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.late = max(self.late, -delay)
            tasks.append(asyncio.create_task(self.one(i)))
        self.ramp_wall = loop.time() - t0
        await asyncio.gather(*tasks)
        self.wall = loop.time() - t0

    async def noop_all(self, conc=8):
        """NOOP on every held session, conc at a time (so the latency is the
        server's answer, not a queue): [latency s], errors appended."""
        sem = asyncio.Semaphore(conc)
        lats = []

        async def one(i, reader, writer):
            async with sem:
                t0 = time.perf_counter()
                try:
                    await asyncio.wait_for(pop3c.cmd(reader, writer, b"NOOP\r\n"), NOOP_TIMEOUT)
                    lats.append(time.perf_counter() - t0)
                except client.SESSION_ERRORS as e:
                    self.errors.append(f"NOOP after idle: {type(e).__name__}: {e}")
        await asyncio.gather(*(one(i, r, w) for i, (r, w) in self.conns.items()))
        return sorted(lats)


def idle_wait(server, seconds):
    """Sleep seconds, checking that the master lives."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        server.check_alive()
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))


async def load(server, users, a, R):
    def hup():
        server.overrides["max_daemons"] = str(a.sessions + MARGIN)
        server.write_conf(None)
        os.kill(server.proc.pid, signal.SIGHUP)
        R["hup_at"] = time.monotonic()
        log(f"ramp halfway: max_daemons raised to {a.sessions + MARGIN}, SIGHUP sent")

    ramp = Ramp(server.port, users, a, on_half=hup if a.hup_halfway else None)
    cpu0, busy0 = server.cpu_ticks(), machine_busy()[0]
    await ramp.run()
    R["ramp_cpu"] = (server.cpu_ticks() - cpu0) / CLK_TCK
    R["ramp_busy"] = machine_busy()[0] - busy0
    R["ramp"] = ramp
    log(f"ramp done: {len(ramp.conns)} held, {len(ramp.errors)} failed, "
        f"{ramp.wall:.1f}s (schedule {a.sessions / a.rate:.1f}s, worst lag {ramp.late:.2f}s)")
    server.wait_stable(timeout=60)
    R["loaded"] = server.memory()
    log(f"server with {len(ramp.conns)} sessions: {R['loaded']['procs']} processes, "
        f"private {R['loaded']['private']:,} KiB")
    log(f"idle for {a.idle_seconds:.0f}s")
    await asyncio.sleep(0)
    t_idle = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, idle_wait, server, a.idle_seconds)
    R["idle_actual"] = time.monotonic() - t_idle
    R["after_idle"] = server.memory()
    R["noop"] = await ramp.noop_all()
    R["answered"] = len(R["noop"])
    log(f"NOOP after idle: {R['answered']} of {len(ramp.conns)} answered")
    await pop3c.quit_all(list(ramp.conns.values()))


def report(R, a):
    ramp, base, loaded = R["ramp"], R["base"], R["loaded"]
    held = len(ramp.conns)
    lat = sorted(x for _, x in ramp.lats)
    per = (lambda k: (loaded[k] - base[k]) / held) if held else (lambda k: float("nan"))
    q = []
    for k in range(4):
        lo, hi = k * a.sessions // 4, (k + 1) * a.sessions // 4
        part = sorted(x for i, x in ramp.lats if lo <= i < hi)
        q.append(f"{fmt(pct(part, 0.5) * 1000, 1)}/{fmt(pct(part, 0.99) * 1000, 1)}")
    mi, lim = R["machine"], R["limits"]
    rows = [
        ("sessions requested", f"{a.sessions}"),
        ("ramp rate (sessions/s), schedule / achieved",
         f"{a.rate:g} / {fmt(a.sessions / ramp.ramp_wall if ramp.ramp_wall else 0, 1)}"),
        ("source addresses (sessions per address)",
         f"{(a.sessions + a.per_ip - 1) // a.per_ip} ({a.per_ip}), "
         f"{source_addr(0, a.per_ip)}..{source_addr(a.sessions - 1, a.per_ip)}"),
        ("sessions held after the ramp", f"{held}"),
        (f"sessions answering NOOP after {R['idle_actual']:.0f} s idle", f"{R['answered']}"),
        ("failed (login + NOOP)", f"{len(ramp.errors)}"),
        ("login latency p50 / p99 during the ramp (ms)",
         f"{fmt(pct(lat, 0.5) * 1000, 2)} / {fmt(pct(lat, 0.99) * 1000, 2)}"),
        ("login latency p50/p99 by quarter of the ramp (ms)", "  ".join(q)),
        ("NOOP latency p50 / p99 after idle (ms)",
         f"{fmt(pct(R['noop'], 0.5) * 1000, 2)} / {fmt(pct(R['noop'], 0.99) * 1000, 2)}"),
        ("server processes: baseline / loaded / per session",
         f"{base['procs']} / {loaded['procs']} / {fmt(per('procs'), 2)}"),
        ("private memory per idle session (KiB)", fmt(per("private"), 1)),
        ("PSS per idle session (KiB)", fmt(per("pss"), 1)),
        ("private memory after the idle period, per session (KiB)",
         fmt((R["after_idle"]["private"] - base["private"]) / held if held else float("nan"), 1)),
        ("server CPU during the ramp, per session (ms)",
         fmt(R["ramp_cpu"] * 1000 / held if held else float("nan"), 2)),
        ("machine busy during the ramp (cores)",
         fmt(R["ramp_busy"] / ramp.wall if ramp.wall else 0, 2)),
    ]
    w = max(len(r[0]) for r in rows)
    print()
    print(f"POP3 idle load, Postern {R['commit']}, {R['date']}")
    print(f"machine: {mi['cpu']}, {mi['cores']} cores, {mi['ram']} RAM, Linux {mi['kernel']}; "
          f"pid_max {lim['pid_max']}, threads-max {lim['threads_max']}, local ports "
          f"{lim['port_range']}, client RLIMIT_NOFILE {lim['nofile']}")
    print(f"config: max_daemons {R['max_daemons']}, max_per_ip {a.per_ip}"
          f"{' (max_daemons raised to ' + str(a.sessions + MARGIN) + ' by SIGHUP halfway)' if a.hup_halfway else ''}"
          f", TCP_QUICKACK {'on' if client.QUICKACK else 'off'}")
    print()
    for m, v in rows:
        print(f"{m:<{w}}  {v}")
    print()
    print(f"processes with sessions: {fmt_names(loaded['names'])}")
    if ramp.errors:
        print(f"failures: {count_errors(ramp.errors, 5)}")
    counts, samples = R["log_problems"]
    if counts:
        print(f"Postern log warnings/errors: {counts}; first: {samples[:3]}")
    else:
        print("Postern logged no warnings or errors.")
    return 0 if not ramp.errors and R["answered"] == a.sessions else 2


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=1000, help="idle sessions to hold (1000)")
    ap.add_argument("--rate", type=float, default=100.0, help="new sessions per second (100)")
    ap.add_argument("--idle-seconds", type=float, default=60.0,
                    help="idle period before every session must answer NOOP (60)")
    ap.add_argument("--per-ip", type=int, default=100,
                    help="sessions per loopback source address, = Postern's max_per_ip (100)")
    ap.add_argument("--hup-halfway", action="store_true",
                    help="start with max_daemons just above half the sessions and raise it "
                         "by SIGHUP halfway through the ramp")
    ap.add_argument("--port", type=int, default=21120, help="Postern's POP3 port (21120)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="wait up to this long for an idle machine first (default 0)")
    ap.add_argument("--no-quickack", action="store_true", help="no TCP_QUICKACK in the client")
    ap.add_argument("--bin", type=Path, metavar="DIR", help="Postern binaries (build/bin)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    a = ap.parse_args()
    if a.sessions < 1 or a.rate <= 0 or a.per_ip < 1 or a.idle_seconds < 0:
        raise BenchError("--sessions, --rate and --per-ip must be positive")
    return a


def main():
    a = parse_args()
    client.QUICKACK = not a.no_quickack
    if os.geteuid() != 0:
        raise BenchError("must run as root (Postern drops to its own uids)")
    if port_in_use(a.port):
        raise BenchError(f"port {HOST}:{a.port} already in use")
    # The client holds one socket per session; the master inherits this
    # limit and holds one per session too.
    raise_nofile(a.sessions * 2 + 1024)
    try:
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        pid_max = 0
    if pid_max and 2 * a.sessions + 2000 > pid_max:
        log(f"warning: {a.sessions} sessions need about {2 * a.sessions} processes "
            f"(pop3d + stored each); kernel.pid_max is {pid_max}")
    import datetime
    R = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
         "machine": machine_info(), "limits": system_limits(), "commit": git_commit()}
    R["max_daemons"] = (a.sessions // 2 + MARGIN) if a.hup_halfway else (a.sessions + MARGIN)
    work = Path(tempfile.mkdtemp(prefix="pop3idle-"))
    os.chmod(work, 0o755)
    bin_dir = a.bin.resolve() if a.bin else ROOT / "build" / "bin"
    server = Postern(work, port=a.port, tls_port=0, bin_dir=bin_dir,
                     overrides={"max_daemons": str(R["max_daemons"]),
                                "max_per_ip": str(a.per_ip)})
    server.check_binaries()
    ok = False
    try:
        log(f"setup: {a.sessions} users with one 2 KiB message each in {work}")
        users = setup_users(a.sessions, server, [], [2048], seed="pop3idle")
        user, pw = users[0]
        server.start(lambda s, port: pop3c.probe_login(port, user, pw))
        log(f"Postern up on {HOST}:{a.port} (master pid {server.proc.pid}), "
            f"max_daemons {R['max_daemons']}, max_per_ip {a.per_ip}")
        if a.wait_quiet > 0:
            wait_quiet(a.wait_quiet)
        server.wait_drained()
        server.wait_stable()
        R["base"] = server.memory()
        log(f"ramp: {a.sessions} sessions at {a.rate:g}/s from "
            f"{(a.sessions + a.per_ip - 1) // a.per_ip} source addresses")
        asyncio.run(load(server, users, a, R))
        server.wait_drained(timeout=60)
        R["log_problems"] = server.log_problems()
        ok = True
    finally:
        server.stop()
        if ok and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work directory kept: {work}")
    return report(R, a)


if __name__ == "__main__":
    run_main(main, "pop3_idle_load")
