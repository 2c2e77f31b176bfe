"""Private memory per idle IMAP session (a measurement, not a benchmark): 20
sessions LOGIN + SELECT INBOX held on one Appliance, each its own user with
20 messages of about 4 KiB (as bench/imap.py's scenario 3: every stored maps
its own index, so its LMDB pages are private; SAME_USER=1 puts every session
on one user instead), then
Private_Clean+Private_Dirty of each postern-imapd and postern-stored (children
of that master) from /proc/PID/smaps_rollup, averaged.  Usage (root):
    python3 bench/imap_idle_memory.py [REPO]
DETAIL=1 adds one process of each by mapping."""
import os
import pathlib
import socket
import sys
import time

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from harness import Appliance, make_message  # noqa: E402


def private_kib(pid):
    tot = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                tot += int(line.split()[1])
    return tot


def procs(root_pid, comm):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            c = open("/proc/%s/comm" % d).read().strip()
            st = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        if c == comm and ppid == root_pid:
            out.append(int(d))
    return out


N = 20
same = bool(os.environ.get("SAME_USER"))
users = [("demo", "demo")] if same else [("u%d" % i, "pw%d" % i) for i in range(N)]
app = Appliance(users=users).start()
try:
    body = "".join("line %04d of a message body of about four KiB\n" % j for j in range(85))
    for u, _ in users:
        for i in range(20):
            app.deliver(u, make_message("m%d" % i, body, to=u + "@localhost"))
    def session(u, pw):
        s = socket.create_connection(("127.0.0.1", app.imap_port))
        f = s.makefile("rb")
        f.readline()
        for tag, line in ((b"a", ("LOGIN %s %s" % (u, pw)).encode()), (b"b", b"SELECT INBOX")):
            s.sendall(tag + b" " + line + b"\r\n")
            while not f.readline().startswith(tag + b" "):
                pass
        return s, f
    # as in bench/imap.py, where scenario 2's sessions (APPEND, STORE,
    # EXPUNGE) have been on every INBOX before
    msg = make_message("appended", body).replace("\n", "\r\n").encode()
    for u, pw in users:
        s, f = session(u, pw)
        s.sendall(b"c APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n"
                  b"d STORE 21 +FLAGS (\\Seen)\r\ne STORE 21 +FLAGS (\\Deleted)\r\n"
                  b"g EXPUNGE\r\nh LOGOUT\r\n")
        while not f.readline().startswith(b"h "):
            pass
        f.close()
        s.close()
    socks = []
    for i in range(N):
        u, pw = users[i % len(users)]
        s, f = session(u, pw)
        socks.append((s, f))
    time.sleep(1)
    res = {}
    for comm in ("postern-imapd", "postern-stored"):
        pids = procs(app.proc.pid, comm)
        vals = [private_kib(p) for p in pids]
        res[comm] = (len(vals), sum(vals) / max(1, len(vals)))
    print(" ".join("%s n=%d avg_private_kib=%.1f" % (k, v[0], v[1]) for k, v in res.items()),
          "total=%.1f" % sum(v[1] for v in res.values()))
    if os.environ.get("DETAIL"):
        for comm in ("postern-imapd", "postern-stored"):
            pid = procs(app.proc.pid, comm)[0]
            cur = None; rows = []
            for line in open("/proc/%d/smaps" % pid):
                parts = line.split()
                if not line[0].isupper() or ":" not in parts[0]:
                    cur = [line.strip()[:100], 0, 0]; rows.append(cur)
                elif parts[0] == "Private_Clean:":
                    cur[1] += int(parts[1])
                elif parts[0] == "Private_Dirty:":
                    cur[2] += int(parts[1])
            print(comm, pid)
            for r in rows:
                if r[1] or r[2]:
                    print("  clean %4d dirty %4d %s" % (r[1], r[2], r[0]))
    for s, f in socks:
        s.close()
finally:
    app.cleanup()
