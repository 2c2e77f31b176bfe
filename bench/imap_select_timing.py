"""Warm SELECT of a 100,000-message folder made by bench/lib/data.py make_folder,
timed client side (write of the line to the end of the tagged OK), on one
Appliance of tests/integration/harness.py.  Usage (root, from the repo):
    python3 bench/imap_select_timing.py [N_MESSAGES] [REPEATS]
Prints the first SELECT, the median warm SELECT in new sessions, and the
UID FETCH 1:* (UID FLAGS) that follows one (which now loads the flags)."""
import os
import pathlib
import shutil
import socket
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT))
from harness import Appliance  # noqa: E402
from bench.lib.data import make_folder  # noqa: E402


def session(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    f.readline()
    return s, f


def cmd(s, f, tag, line):
    t0 = time.perf_counter()
    s.sendall(b"%s %s\r\n" % (tag, line))
    n = 0
    while True:
        r = f.readline()
        if not r:
            raise SystemExit("EOF after %r" % line)
        if r.startswith(tag + b" "):
            if not r.startswith(tag + b" OK"):
                raise SystemExit("%r -> %r" % (line, r))
            return time.perf_counter() - t0, n
        n += 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    app = Appliance(users=(("bulk", "bulk"),)).start()
    try:
        md = pathlib.Path(app.maildir("bulk"))
        if md.exists():
            shutil.rmtree(md)
        os.makedirs(md.parent, exist_ok=True)
        make_folder(md, n)
        s, f = session(app.imap_port)
        cmd(s, f, b"a", b"LOGIN bulk bulk")
        first, _ = cmd(s, f, b"b", b"SELECT INBOX")
        cmd(s, f, b"c", b"LOGOUT")
        s.close()
        time.sleep(1.1)  # no directory mtime within the last second
        warm = []
        for i in range(reps):
            s, f = session(app.imap_port)
            cmd(s, f, b"a", b"LOGIN bulk bulk")
            t, _ = cmd(s, f, b"b", b"SELECT INBOX")
            warm.append(t)
            if i == reps - 1:
                tf, lines = cmd(s, f, b"c", b"UID FETCH 1:* (UID FLAGS)")
            cmd(s, f, b"d", b"LOGOUT")
            s.close()
        print("messages=%d first_select_ms=%.1f warm_select_median_ms=%.2f min=%.2f max=%.2f "
              "fetch_uid_flags_ms=%.1f (%d lines)" % (n, first * 1000, statistics.median(warm) * 1000,
              min(warm) * 1000, max(warm) * 1000, tf * 1000, lines))
    finally:
        app.cleanup()


if __name__ == "__main__":
    main()
