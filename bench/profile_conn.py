#!/usr/bin/env python3
"""Where one connection's CPU goes: a private Postern (bench/lib) driven by
one kind of work at a time, so that a profiler sees only that work.

  plain   connect, greeting, QUIT (the cost of a fresh jailed pop3d)
  login   USER, PASS, STAT, RETR 1..N, QUIT (pop3d + a stored)
  tls     one full TLS handshake on pop3s (ECDSA P-256), then QUIT
  idle    -n sessions logged in (USER, PASS, STAT) and held: private memory
          per session (Private_Clean+Private_Dirty of the tree, less the
          same with none), as bench/pop3.py's b) counts it

--wrap "valgrind --tool=callgrind --trace-children=yes ..." runs the master
under that command (its children inherit it); without --wrap the script
prints server CPU per unit from /proc (utime+stime of the tree, reaped
children included), which is noisy on a shared machine: the instruction
counts of callgrind are the stable figure.
"""

import argparse
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import CLK_TCK, HOST, log, run_main                       # noqa: E402
from lib import servers, tlsbench                                  # noqa: E402
from lib.client import quickack                                    # noqa: E402

PW = "bench-pass-1"
# Logins rotate over this many users: stored releases a mailbox's lock
# when it exits, a moment after the client has read QUIT's +OK, so an
# immediate next login on the same mailbox may find it [IN-USE].
NUSERS = 8


def readline(f):
    line = f.readline()
    if not line:
        raise RuntimeError("connection closed")
    return line


def pop3_cmd(s, f, line):
    s.sendall(line.encode() + b"\r\n")
    return readline(f)


def plain(port, _args):
    with socket.create_connection((HOST, port)) as s:
        quickack(s)
        f = s.makefile("rb")
        if not readline(f).startswith(b"+OK"):
            raise RuntimeError("no greeting")
        pop3_cmd(s, f, "QUIT")


def retr_body(f):
    while readline(f) != b".\r\n":
        pass


def login(port, args):
    args.nlogin = getattr(args, "nlogin", 0) + 1
    with socket.create_connection((HOST, port)) as s:
        quickack(s)
        f = s.makefile("rb")
        readline(f)
        pop3_cmd(s, f, f"USER user{args.nlogin % NUSERS + 1}")
        reply = pop3_cmd(s, f, f"PASS {PW}")
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"login failed: {reply!r}")
        pop3_cmd(s, f, "STAT")
        for i in range(1, args.messages + 1):
            if pop3_cmd(s, f, f"RETR {i}").startswith(b"+OK"):
                retr_body(f)
        pop3_cmd(s, f, "QUIT")


def tls(port, args):
    with socket.create_connection((HOST, port)) as raw:
        quickack(raw)
        with args.ctx.wrap_socket(raw, server_hostname=tlsbench.TLS_NAME) as s:
            f = s.makefile("rb")
            readline(f)
            pop3_cmd(s, f, "QUIT")


class Wrapped(servers.Postern):
    wrap = []

    def argv(self):
        return self.wrap + super().argv()


def probe(server, port):
    try:
        (tls if server.tls else plain)(port, server.probe_args)
        return True, "ok"
    except (OSError, RuntimeError, ssl.SSLError) as e:
        return False, str(e)


def start_perf(path):
    """perf record of the whole machine (cpu-clock samples: this VM has no
    hardware counters); perf report --comm postern-... picks ours."""
    if not path:
        return None
    rec = subprocess.Popen(["perf", "record", "-a", "-g", "-e", "cpu-clock", "-F", "4000",
                            "-o", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return rec


def stop_perf(rec):
    if rec is not None:
        rec.send_signal(signal.SIGINT)
        rec.wait(timeout=120)


def run(args, work):
    Wrapped.wrap = shlex.split(args.wrap) if args.wrap else []
    p = Wrapped(work, port=args.port, tls_port=args.port + 1,
                bin_dir=Path(args.bin) if args.bin else None,
                overrides={"debug_seccomp": "no"})
    p.check_binaries()
    p.setup()
    nusers = max(NUSERS, args.n) if args.what == "idle" else NUSERS
    for u in range(1, nusers + 1):
        p.add_user(f"user{u}", PW)
        for i in range(args.messages):
            p.deliver(f"user{u}", (f"Subject: m{i}\n\n" + ("x" * 72 + "\n") * 50).encode())
    case = None
    if args.what == "tls":
        case = tlsbench.make_certs(work)[0]
        p.write_conf(case)
        args.ctx = tlsbench.tls_context(case, verify=False)
    p.probe_args = args
    p.start(probe)
    try:
        measure(p, case, args)
    finally:
        p.stop()


def idle(p, args):
    time.sleep(0.5)
    p.wait_drained()
    m0 = p.memory()
    conns = []
    for u in range(1, args.n + 1):
        s = socket.create_connection((HOST, p.port))
        f = s.makefile("rb")
        readline(f)
        pop3_cmd(s, f, f"USER user{u}")
        if not pop3_cmd(s, f, f"PASS {PW}").startswith(b"+OK"):
            raise RuntimeError("login failed")
        pop3_cmd(s, f, "STAT")
        conns.append((s, f))
    time.sleep(1.0)
    m1 = p.memory()
    log(f"idle: {args.n} sessions, private {(m1['private'] - m0['private']) / args.n:.1f} KiB "
        f"and PSS {(m1['pss'] - m0['pss']) / args.n:.1f} KiB per session, "
        f"{m1['procs'] - m0['procs']} processes more")
    for s, f in conns:
        s.close()


def measure(p, case, args):
    if args.what == "idle":
        return idle(p, args)
    port = p.tls_port if case else p.port
    fn = {"plain": plain, "login": login, "tls": tls}[args.what]
    time.sleep(0.5)
    p.wait_drained()
    rec = start_perf(args.perf)
    t0 = p.cpu_ticks()
    w0 = time.monotonic()
    for _ in range(args.n):
        fn(port, args)
    p.wait_drained()
    stop_perf(rec)
    ticks = p.cpu_ticks() - t0
    log(f"{args.what}: {args.n} in {time.monotonic() - w0:.2f} s, server CPU "
        f"{ticks / CLK_TCK * 1000 / args.n:.3f} ms per unit ({ticks} ticks)")
    log(f"detail: {p.cpu_detail()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("plain", "login", "tls", "idle"))
    ap.add_argument("-n", type=int, default=200, help="units of work (default 200)")
    ap.add_argument("--messages", type=int, default=10, help="messages RETR'd in a login")
    ap.add_argument("--wrap", help="command prefix for the master (a profiler)")
    ap.add_argument("--perf", metavar="FILE", help="perf record -a the measured loop into FILE")
    ap.add_argument("--bin", metavar="DIR", help="binaries from DIR instead of build/bin")
    ap.add_argument("--port", type=int, default=22110)
    ap.add_argument("--keep", help="use this work directory and keep it")
    args = ap.parse_args()
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True)
        run(args, work)
    else:
        with tempfile.TemporaryDirectory(prefix="postern-prof-") as d:
            Path(d).chmod(0o755)
            run(args, Path(d))


if __name__ == "__main__":
    run_main(main, "profile_conn")
