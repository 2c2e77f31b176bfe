"""Timing (not a benchmark): the cold UID FETCH 1:10000 (ENVELOPE BODYSTRUCTURE)
of bench/imap.py's session C, on a 100,000-message folder (bench/lib/data.py
make_folder).  Each repeat removes the index (postern-index/), so SELECT
builds it again and the FETCH parses the 10,000 files; prints the client-side
times and stored's user and system CPU per FETCH.  Usage (root):
    python3 bench/imap_structs_timing.py REPO [REPEATS]
With PERF=1 stored's FETCHes are recorded (cpu-clock, user space) into
/tmp/imapwork/structs.perf (PERF=dwarf: with call graphs)."""
import os, pathlib, shutil, socket, statistics, subprocess, sys, time
ROOT = pathlib.Path(sys.argv[1]).resolve()
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT))
from harness import Appliance
from bench.lib.data import make_folder


def cmd(s, f, tag, line):
    t0 = time.perf_counter()
    s.sendall(b"%s %s\r\n" % (tag, line))
    while True:
        r = f.readline()
        if not r:
            raise SystemExit("EOF")
        if r.startswith(tag + b" "):
            if not r.startswith(tag + b" OK"):
                raise SystemExit(repr(r))
            return time.perf_counter() - t0


def stored_cpu(app):
    """(user, system) ms of the master's postern-stored children."""
    tck = os.sysconf("SC_CLK_TCK")
    u = k = 0
    for pid in app.children("postern-stored"):
        try:
            st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        u += int(st[11]) * 1000 / tck
        k += int(st[12]) * 1000 / tck
    return u, k


reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
app = Appliance(users=(("bulk", "bulk"),)).start()
try:
    md = pathlib.Path(app.maildir("bulk"))
    if md.exists():
        shutil.rmtree(md)
    os.makedirs(md.parent, exist_ok=True)
    make_folder(md, 100000)
    os.makedirs("/tmp/imapwork", exist_ok=True)
    times, users, systems = [], [], []
    for i in range(reps):
        shutil.rmtree(md / "postern-index", ignore_errors=True)
        s = socket.create_connection(("127.0.0.1", app.imap_port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        f.readline()
        cmd(s, f, b"a", b"LOGIN bulk bulk")
        cmd(s, f, b"b", b"SELECT INBOX")
        perf = None
        if os.environ.get("PERF"):
            graph = ["--call-graph", "dwarf"] if os.environ["PERF"] == "dwarf" else []
            perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock:u", "-F", "4000"] + graph + [
                                     "-o", "/tmp/imapwork/structs.perf", "-p",
                                     ",".join(str(p) for p in app.children("postern-stored"))],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        u0, k0 = stored_cpu(app)
        times.append(cmd(s, f, b"c", b"UID FETCH 1:10000 (ENVELOPE BODYSTRUCTURE)"))
        u1, k1 = stored_cpu(app)
        if perf:
            perf.send_signal(2)
            perf.wait()
        users.append(u1 - u0)
        systems.append(k1 - k0)
        cmd(s, f, b"z", b"LOGOUT")
        f.close()
        s.close()
    print("structs_cold_ms median=%.1f all=%s stored_user_ms=%s stored_sys_ms=%s" % (
        statistics.median(times) * 1000, "/".join("%.0f" % (t * 1000) for t in times),
        "/".join("%.0f" % u for u in users), "/".join("%.0f" % k for k in systems)))
finally:
    app.cleanup()
