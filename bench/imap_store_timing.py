"""Timing (not a benchmark): UID STORE 1:10000 +FLAGS (\\Seen), non-silent, on a 100,000-message folder
(bench/lib/data.py make_folder) after SELECT and UID FETCH 1:* (UID FLAGS), as in
bench/imap.py's session C; then alternately -FLAGS / +FLAGS (each changes 7,500
files) REPEAT times.  With PERF=1 the machine is recorded (cpu-clock) during
the repeats into /tmp/imapwork/store.perf."""
import os, pathlib, shutil, socket, statistics, subprocess, sys, time
ROOT = pathlib.Path(sys.argv[1]).resolve()
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT))
from harness import Appliance
from bench.lib.data import make_folder

def cmd(s, f, tag, line):
    t0 = time.perf_counter()
    s.sendall(b"%s %s\r\n" % (tag, line))
    n = 0
    while True:
        r = f.readline()
        if not r:
            raise SystemExit("EOF")
        if r.startswith(tag + b" "):
            if not r.startswith(tag + b" OK"):
                raise SystemExit(repr(r))
            return time.perf_counter() - t0, n
        n += 1

reps = int(sys.argv[2]) if len(sys.argv) > 2 else 6
app = Appliance(users=(("bulk", "bulk"),)).start()
try:
    md = pathlib.Path(app.maildir("bulk"))
    if md.exists():
        shutil.rmtree(md)
    os.makedirs(md.parent, exist_ok=True)
    make_folder(md, 100000)
    s = socket.create_connection(("127.0.0.1", app.imap_port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb"); f.readline()
    cmd(s, f, b"a", b"LOGIN bulk bulk")
    cmd(s, f, b"b", b"SELECT INBOX")
    cmd(s, f, b"c", b"UID FETCH 1:* (UID FLAGS)")
    t, n = cmd(s, f, b"d", b"UID STORE 1:10000 +FLAGS (\\Seen)")
    first = t
    perf = None
    if os.environ.get("PERF"):
        perf = subprocess.Popen(["perf", "record", "-a", "-g", "-e", "cpu-clock", "-F", "2000",
                                 "-o", "/tmp/imapwork/store.perf"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(1)
    def cpu():
        out = {}
        tck = os.sysconf("SC_CLK_TCK")
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                c = open("/proc/%s/comm" % d).read().strip()
                st = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if c in ("postern-imapd", "postern-stored") and int(st[1]) == app.proc.pid:
                out[c] = out.get(c, 0) + (int(st[11]) + int(st[12])) * 1000 / tck
                # user and system apart: the renames are the kernel's
                out[c + ".user"] = out.get(c + ".user", 0) + int(st[11]) * 1000 / tck
        return out
    c0 = cpu()
    ts = []
    for i in range(reps):
        t, n2 = cmd(s, f, b"e%d" % i, b"UID STORE 1:10000 %sFLAGS (\\Seen)" % (b"-" if i % 2 == 0 else b"+"))
        ts.append(t)
    c1 = cpu()
    if perf:
        perf.send_signal(2); perf.wait()
    cmd(s, f, b"z", b"LOGOUT")
    print("first_store_ms=%.1f (%d lines) repeats_median_ms=%.1f all=%s" % (first * 1000, n,
          statistics.median(ts) * 1000, "/".join("%.0f" % (x * 1000) for x in ts)),
          "cpu_ms_per_store:", " ".join("%s=%.0f" % (k, (c1[k] - c0.get(k, 0)) / reps) for k in sorted(c1)))
finally:
    app.cleanup()
