#!/usr/bin/env python3
"""LMTP deliveries per second: Postern against Dovecot's LMTP (Debian
dovecot-lmtpd) in the same run, and the physical limit of this disk.

Cases: 2 KB and 100 KB messages, one stream and 8 streams (one connection
and one recipient user per stream, MAIL/RCPT/DATA pipelined, one message
per transaction), fsync on for both servers (Postern always; Dovecot with
mail_fsync = always).  Each case runs for --seconds on each server, the
servers alternating (P D P D ...), --rounds times; the table has the best
round of each.  The disk limit is one durable Maildir write done here in
Python: open tmp/NAME with O_EXCL, write, fsync, rename into new/, fsync
new/, in a directory on the same filesystem as the servers' Maildirs, one
stream and 8 threads.  The issue's targets: Postern >= 2x Dovecot, and
Postern's one stream >= 50% of the one-stream disk limit.

  python3 bench/lmtp.py [--seconds S] [--rounds N] [--no-doc]
  make bench-lmtp

Writes a section at the top of docs/BENCHMARKS.md unless --no-doc.
"""

import argparse
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import HOST, ROOT, BenchError, log, run_main  # noqa: E402
from lib.report import DOC_HEADER, foreign_procs, git_commit, machine_info, write_doc  # noqa: E402
from lib.servers import Dovecot, Postern, chown_tree, dpkg_version, ensure_packages, \
    free_port, sha512_crypt  # noqa: E402

STREAMS = 8
SIZES = (("2 KB", 2048), ("100 KB", 102400))


def message(size, n):
    """A message of size bytes on the wire (CRLF), short lines, nothing to
    dot-stuff."""
    head = b"From: bench@example.org\r\nTo: u@localhost\r\nSubject: lmtp bench %d\r\n\r\n" % n
    line = b"x" * 76 + b"\r\n"
    body = line * ((size - len(head)) // len(line))
    return head + body + b"y" * max(0, size - len(head) - len(body) - 2) + b"\r\n"


class Lmtp:
    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=60)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")
        self.reply("greeting", "220")
        self.s.sendall(b"LHLO bench.test\r\n")
        self.reply("LHLO", "250")

    def reply(self, what, want):
        while True:
            line = self.f.readline()
            if not line:
                raise BenchError(f"LMTP {what}: connection closed")
            if line[3:4] != b"-":
                break
        if not line.startswith(want.encode()):
            raise BenchError(f"LMTP {what}: {line.decode(errors='replace').strip()}")

    def deliver(self, rcpt, data):
        self.s.sendall(b"MAIL FROM:<bench@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt)
        self.reply("MAIL", "250")
        self.reply("RCPT", "250")
        self.reply("DATA", "354")
        self.s.sendall(data + b".\r\n")
        self.reply("after the dot", "250")

    def close(self):
        try:
            self.s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        self.f.close()
        self.s.close()


def run_streams(streams, seconds, one):
    """Run one(k, i) in streams threads for seconds; deliveries per second."""
    counts = [0] * streams
    errors = []
    stop = time.monotonic() + seconds

    def worker(k):
        try:
            i = 0
            ctx = one(k, None)
            while time.monotonic() < stop:
                one(k, (ctx, i))
                i += 1
            counts[k] = i
            one(k, (ctx, None))
        except Exception as e:   # reported below
            errors.append(f"stream {k}: {e}")
    start = time.monotonic()
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(streams)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errors:
        raise BenchError("; ".join(errors[:3]))
    return sum(counts) / (time.monotonic() - start)


def lmtp_rate(port, size, streams, seconds):
    data = [message(size, n) for n in range(4)]

    def one(k, arg):
        if arg is None:
            return Lmtp(port)
        ctx, i = arg
        if i is None:
            ctx.close()
            return None
        ctx.deliver(b"u%d@localhost" % k, data[i % 4])
    return run_streams(streams, seconds, one)


def disk_rate(top, size, streams, seconds):
    """One durable Maildir write per call: O_EXCL, write, fsync, rename, fsync dir."""
    blob = message(size, 0).replace(b"\r\n", b"\n")

    def one(k, arg):
        d = top / f"s{k}"
        if arg is None:
            for sub in ("tmp", "new", "cur"):
                (d / sub).mkdir(parents=True, exist_ok=True)
            return os.open(d / "new", os.O_RDONLY | os.O_DIRECTORY)
        newfd, i = arg
        if i is None:
            os.close(newfd)
            return None
        name = f"{time.time_ns()}.{k}.{i}.bench"
        fd = os.open(d / "tmp" / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, blob)
        os.fsync(fd)
        os.close(fd)
        os.rename(d / "tmp" / name, d / "new" / name)
        os.fsync(newfd)
    return run_streams(streams, seconds, one)


class DovecotLmtp(Dovecot):
    PACKAGES = ("dovecot-core", "dovecot-lmtpd")

    def __init__(self, work, port):
        super().__init__(work, port=port, tls_port=0, proto="pop3")
        self.proto = "lmtp"

    def version(self):
        return dpkg_version("dovecot-lmtpd")

    def write_conf(self, tls):
        d = self.dir
        self.conf.write_text(f"""# written by bench/lmtp.py; everything not set here is Dovecot's default
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = lmtp
listen = {HOST}
ssl = no
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1000
mail_location = maildir:{d}/mail/%n
# fsync on, as Postern always does it
mail_fsync = always
postmaster_address = postmaster@localhost
auth_username_format = %Ln
passdb {{
  driver = passwd-file
  args = {self.users}
}}
userdb {{
  driver = passwd-file
  args = {self.users}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {HOST}
    port = {self.port}
  }}
}}
""")

    def is_session_proc(self, pid):
        return False


def probe_lmtp(port):
    def probe(server, _port):
        try:
            c = Lmtp(port)
            c.close()
            return True, "ok"
        except (OSError, BenchError) as e:
            return False, str(e)
    return probe


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="per case, server and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/BENCHMARKS.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise BenchError("run as root (the servers change to the mail users' uids)")
    DovecotLmtp.ensure_installed()
    others = foreign_procs()
    t0 = time.monotonic()
    load0 = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="postern-lmtpbench-", dir=str(ROOT / "build")))
    os.chmod(work, 0o755)
    users = [(f"u{k}", f"pw{k}") for k in range(STREAMS)]
    p_port, d_port = free_port(), free_port()
    while d_port == p_port:
        d_port = free_port()
    pst = Postern(work, port=free_port(), overrides={"lmtp_listen": f"{HOST}:{p_port}"})
    dov = DovecotLmtp(work, d_port)
    servers = []
    try:
        pst.check_binaries()
        pst.setup()
        for u, pw in users:
            pst.add_user(u, pw)
        dov.setup(users, {u: sha512_crypt(pw) for u, pw in users})
        for u, _ in users:
            (dov.dir / "mail" / u).mkdir(parents=True, exist_ok=True)
        chown_tree(dov.dir / "mail")
        pst.start(probe_lmtp(p_port))
        servers.append(pst)
        dov.start(probe_lmtp(d_port))
        servers.append(dov)
        disk_dir = work / "disk"
        best = {}
        for r in range(args.rounds):
            for label, size in SIZES:
                for streams in (1, STREAMS):
                    for name, fn in (("Postern", lambda: lmtp_rate(p_port, size, streams, args.seconds)),
                                     ("Dovecot", lambda: lmtp_rate(d_port, size, streams, args.seconds)),
                                     ("disk", lambda: disk_rate(disk_dir, size, streams, args.seconds))):
                        v = fn()
                        key = (label, streams, name)
                        best[key] = max(best.get(key, 0), v)
                        log(f"round {r + 1} {label} {streams} stream(s) {name}: {v:.1f}/s")
        for s in servers:
            s.check_alive()
        probs = {s.name: s.log_problems() for s in servers}
        for name, (counts, samples) in probs.items():
            for line in samples[:4]:
                log(f"{name} log: {line[:300]}")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)
    load1 = os.getloadavg()
    rows = []
    for label, _ in SIZES:
        for streams in (1, STREAMS):
            p, d, k = (best[(label, streams, n)] for n in ("Postern", "Dovecot", "disk"))
            rows.append((label, streams, p, d, k))
    mi = machine_info()
    table = ["| message | streams | Postern /s | Dovecot /s | disk limit /s | P/D | P/disk |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, streams, p, d, k in rows:
        table.append(f"| {label} | {streams} | {p:.1f} | {d:.1f} | {k:.1f} | {p / d:.2f} | "
                     f"{p / k:.2f} |")
    one2 = next(r for r in rows if r[0] == "2 KB" and r[1] == 1)
    vs = min(r[2] / r[3] for r in rows)
    verdict = (f"- Targets: Postern >= 2x Dovecot in every case: {'met' if vs >= 2 else '**missed**'} "
               f"(lowest ratio {vs:.2f}); one stream >= 50% of the disk limit (2 KB): "
               f"{'met' if one2[2] / one2[4] >= 0.5 else '**missed**'} ({one2[2] / one2[4]:.0%}).")
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = f"""## Run {now} — LMTP

- Machine: {mi['cpu']}, {mi['cores']} cores ({mi['usable']} usable by the benchmark), {mi['ram']} RAM, Linux {mi['kernel']}; the Maildirs and the disk-limit directory on the same filesystem (build/ of the tree).
- Load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end: the machine was shared with other engineers' builds and tests{(' (mail-server processes running before the start: ' + ', '.join(sorted(set(others))[:6]) + ')') if others else ''}; absolute numbers are noisy, the ratios within one round less so.
- `bench/lmtp.py` (`make bench-lmtp`), {args.rounds} rounds of {args.seconds:.0f} s per case and server, servers alternating; the best round of each. Postern {git_commit()} over TCP on loopback; Dovecot {dov.version()} (Debian dovecot-lmtpd, `mail_fsync = always`). One connection and one recipient user per stream, MAIL/RCPT/DATA pipelined, one message per transaction. Disk limit: one durable Maildir write in Python (O_EXCL, write, fsync, rename into new/, fsync new/), per stream.
- Duration: {time.monotonic() - t0:.0f} s

{chr(10).join(table)}

{verdict}
- Log warnings/errors: {', '.join(f"{n}: {sum(c.values())} {dict(c) if c else ''}" for n, (c, _s) in probs.items())}
"""
    print(section)
    if not args.no_doc:
        write_doc(ROOT / "docs" / "BENCHMARKS.md", DOC_HEADER, section)
        log("docs/BENCHMARKS.md: section added at the top")


if __name__ == "__main__":
    run_main(main, "bench/lmtp.py")
