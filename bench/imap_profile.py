#!/usr/bin/env python3
"""Where Postern's IMAP time goes on a large folder: perf samples of the
session's postern-imapd and postern-stored during warm SELECT, UID FETCH
1:* (UID FLAGS), UID STORE +FLAGS (\\Seen) and EXPUNGE (run by hand, as root,
with perf installed; see docs/BENCHMARKS.md).

One Postern instance on a free loopback port, one user whose INBOX is the
folder bench/imap.py makes (--messages, default 100,000), the first SELECT
done (index built) before any sampling.  For each command: `perf record -g`
attached to the two processes (perf does not stop them: strace/ptrace would,
the seccomp filters kill a worker whose syscall is restarted under a
tracer), the command run --reps times, then the top symbols and the share
by process and user/kernel printed.  Then --idle users (small INBOXes) log in,
SELECT and stay: the private memory of their imapd and stored processes by
mapping (heap, stack, anonymous, the binary's segments, LMDB files), averaged
per process, from /proc/PID/smaps.
"""

import argparse
import asyncio
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import BenchError, imapc, log, run_main                                # noqa: E402
from lib.data import link_folder, make_folder, setup_users                      # noqa: E402
from lib.procfs import proc_exe                                                 # noqa: E402
from lib.servers import Postern, free_port                                      # noqa: E402


def perf_top(data, sort, n):
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-q",
                        "-g", "none", "--sort", sort], capture_output=True, text=True)
    return [ln.rstrip() for ln in r.stdout.splitlines() if "%" in ln][:n]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=10000)
    ap.add_argument("--top", type=int, default=12, help="symbols shown per command")
    ap.add_argument("--idle", type=int, default=50, help="idle sessions for the memory part")
    ap.add_argument("--bin", type=Path, metavar="DIR", help="Postern binaries (build/bin)")
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("perf"):
        raise BenchError("needs root and perf")
    work = Path(tempfile.mkdtemp(prefix="imapprof-"))
    os.chmod(work, 0o755)
    p = Postern(work, port=free_port(), tls_port=0, bin_dir=a.bin.resolve() if a.bin else None,
                proto="imap")
    p.check_binaries()
    try:
        users = setup_users(a.idle + 1, p, [], [4096] * 20)
        user, pw = users[-1]
        make_folder(work / "folder", a.messages)
        link_folder(work / "folder", p.maildir(user))
        p.start(lambda srv, port: imapc.probe_login(port, user, pw))
        asyncio.run(profile(p, a, user, pw, work))
        asyncio.run(memory(p, users[:-1]))
    finally:
        p.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


async def profile(p, a, user, pw, work):
    s = await imapc.login(p.port, user, pw)
    r, n = await s.select()
    log(f"first SELECT of {n:,} messages: {r.ms:.1f} ms (not sampled)")
    await s.logout()
    time.sleep(2)
    s = await imapc.login(p.port, user, pw)
    b = a.batch
    steps = [("warm SELECT (x10)", 10, lambda: s.select()),
             ("UID FETCH 1:* (UID FLAGS) (x3)", 3,
              lambda: s.bulk(b"UID FETCH 1:* (UID FLAGS)")),
             (f"UID STORE 1:{b} +FLAGS (\\Seen)", 1,
              lambda: s.bulk(b"UID STORE 1:%d +FLAGS (\\Seen)" % b)),
             (f"UID STORE +FLAGS.SILENT (\\Deleted) of {b:,}", 1,
              lambda: s.bulk(b"UID STORE %d:%d +FLAGS.SILENT (\\Deleted)" % (b + 1, 2 * b))),
             (f"EXPUNGE of {b:,}", 1, lambda: s.bulk(b"EXPUNGE"))]
    for k, (what, reps, fn) in enumerate(steps):
        pids = [str(x) for x in p.pids()
                if os.path.basename(proc_exe(x)) in ("postern-imapd", "postern-stored")]
        data = str(work / f"perf-{k}.data")
        rec = subprocess.Popen(["perf", "record", "-q", "-F", "4999", "-g", "-o", data, "-p",
                                ",".join(pids)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.7)
        times = []
        for _ in range(reps):
            r = await fn()
            times.append((r[0] if isinstance(r, tuple) else r).ms)
        rec.send_signal(signal.SIGINT)
        rec.wait()
        print(f"\n### {what}: {', '.join(f'{t:.1f}' for t in times)} ms (while sampled)")
        print("by process and object:")
        for ln in perf_top(data, "comm,dso", 4):
            print("   " + ln.strip())
        print("top symbols:")
        for ln in perf_top(data, "comm,sym", a.top):
            print("   " + ln.strip())
    await s.logout()


def mapping_class(header):
    f = header.split()
    path = f[5] if len(f) > 5 else ""
    if path.startswith("["):
        return path
    if os.path.basename(path).startswith("postern-"):
        return f"binary {f[1]} at file offset {f[2]}"
    if path:
        return f"file {f[1]} {os.path.basename(path)}"
    return f"anonymous {f[1]}"


async def memory(p, users):
    sessions = []
    for user, pw in users:
        s = await imapc.login(p.port, user, pw)
        await s.select()
        sessions.append(s)
    p.wait_stable()
    agg = {"postern-imapd": collections.Counter(), "postern-stored": collections.Counter()}
    nproc = collections.Counter()
    for pid in p.pids():
        exe = os.path.basename(proc_exe(pid))
        if exe not in agg:
            continue
        nproc[exe] += 1
        cur = None
        try:
            with open(f"/proc/{pid}/smaps") as f:
                for line in f:
                    k = line.split()
                    if not k[0].endswith(":"):
                        cur = mapping_class(line)
                    elif k[0] in ("Private_Dirty:", "Private_Clean:"):
                        agg[exe][f"{cur}, {k[0][8:-1].lower()}"] += int(k[1])
        except OSError:
            pass
    await imapc.logout_all(sessions)
    print(f"\n### {len(sessions)} idle sessions (LOGIN, SELECT INBOX of 20 messages): "
          f"private KiB per process by mapping")
    for exe, c in agg.items():
        n = nproc[exe] or 1
        print(f"{exe}: {sum(c.values()) / n:.0f} KiB private per process")
        for k, v in c.most_common():
            if v / n >= 1:
                print(f"   {v / n:6.1f}  {k}")


if __name__ == "__main__":
    run_main(main, "imap_profile")
