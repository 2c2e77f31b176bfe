#!/usr/bin/env python3
"""POP3 benchmark: Postern against Dovecot's pop3 on the same machine, same run.

`make bench` runs this after building.  As root it:
  1. installs dovecot-core and dovecot-pop3d with apt-get if they are missing;
  2. builds a private Postern and a private Dovecot instance under one temp
     directory (loopback ports 21110 and 21111), with the same users, the same
     password hash scheme (SHA512-CRYPT, 5000 rounds, on both sides) and the
     same Maildir message files;
  3. runs the same asyncio client against both, alternating the servers
     round by round (P D D P ...):
       a) full sessions: connect, USER/PASS, STAT, RETR every message, QUIT
          at 8 and 32 concurrent clients: sessions/s, p50/p99 latency,
          server CPU time per session;
       b) K logged-in idle sessions: private memory and PSS per session, summed
          over every process of the server, minus the 0-session baseline;
       c) login only (connect, USER/PASS, QUIT): p50/p99 at 1 and 8 clients;
       d) TLS handshakes on the implicit-TLS (pop3s) ports 21995 and 21996:
          both servers restarted with TLS configured (Postern pop3s_listen +
          tls_cert_file/tls_key_file, Dovecot ssl = required + a pop3s
          listener), once with an ECDSA P-256 and once with an RSA 2048
          certificate made with openssl (the same files for both servers).
          One handshake = TCP connect, full TLS 1.2 handshake (no session
          resumption), read the +OK greeting, close; threads with Python's
          ssl module, 8 at once (and a short 1-client run), the client
          limited to ECDHE-ECDSA-AES128-GCM-SHA256 resp.
          ECDHE-RSA-AES128-GCM-SHA256: handshakes/s, p50/p99 latency,
          server CPU per handshake; plus one run with session resumption
          (the client offers the previous session) on the ECDSA certificate;
  4. prints the tables and (full run) prepends a dated section to
     docs/BENCHMARKS.md, keeping older sections.

--quick is a short run for development (200 sessions, 20 idle sessions, 200
handshakes) and does not touch docs/BENCHMARKS.md unless --doc is also given.
--tls-only runs only d) (with --doc it writes a section with only the TLS
table); --no-tls skips d).
"""

import argparse
import asyncio
import datetime
import grp
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"
DOC = ROOT / "docs" / "BENCHMARKS.md"
HOST = "127.0.0.1"
POSTERN_PORT = 21110
DOVECOT_PORT = 21111
POSTERN_TLS_PORT = 21995
DOVECOT_TLS_PORT = 21996
MAIL_UID = 7100
MAIL_GID = 7100
CLK_TCK = os.sysconf("SC_CLK_TCK")
POSTERN_BINS = ("postern-master", "postern-authd", "postern-pop3d", "postern-stored",
                "posternctl")

SMALL_MSGS, SMALL_SIZE = 20, 4 * 1024
LARGE_MSGS, LARGE_SIZE = 2, 100 * 1024

SESSION_TIMEOUT = 60.0      # one POP3 session, seconds
HANDSHAKE_TIMEOUT = 30.0    # one TLS connection (socket timeout)
PHASE_TIMEOUT = 1800.0      # one measurement phase
START_TIMEOUT = 20.0        # server start until a login works
DRAIN_TIMEOUT = 20.0        # session processes gone after a phase


class BenchError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# /proc helpers

def read_stat(pid):
    """(ppid, cpu ticks incl. reaped children) or None if the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    # rest[0] is field 3 (state); utime..cstime are fields 14..17.
    ppid = int(rest[1])
    ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    return ppid, ticks


def read_stat_split(pid):
    """(own utime+stime, reaped children's cutime+cstime) or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def start_time(pid):
    """Start time (field 22) of a live process; None if gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    if rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


def all_ppids():
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = read_stat(int(name))
        if st:
            out[int(name)] = st[0]
    return out


def tree(root_pid):
    """root_pid and every descendant."""
    ppids = all_ppids()
    kids = {}
    for pid, ppid in ppids.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        if pid in ppids or pid == root_pid:
            out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def proc_name(pid):
    """Postern: exe basename; Dovecot: argv[0] (dovecot/pop3 etc.)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return "?"
    return argv0


def proc_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def smaps_rollup(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    vals[parts[0][:-1]] = int(parts[1])
    except OSError:
        return None
    return vals


# --------------------------------------------------------------------------
# Servers

class Server:
    name = "?"
    port = 0
    tls_port = 0

    def __init__(self, work):
        self.work = work
        self.proc = None
        self.logf = None
        self.tls = None     # a TLS case (see make_certs) while TLS is configured

    # The processes that belong to this server.
    def pids(self):
        if not self.proc or self.proc.poll() is not None:
            return []
        return [p for p in tree(self.proc.pid) if self.is_ours(p)]

    def is_ours(self, pid):
        return True

    def is_session_proc(self, pid):
        raise NotImplementedError

    def cpu_ticks(self):
        total = 0
        for pid in self.pids():
            st = read_stat(pid)
            if st:
                total += st[1]
        return total

    def cpu_detail(self):
        """CPU ticks by process name: the master's own time, the time of the
        children it has reaped (per-connection processes), and each other
        live process by name (long-running daemons)."""
        out = {}
        master = self.proc.pid if self.proc else None
        for pid in self.pids():
            st = read_stat_split(pid)
            if st is None:
                continue
            own, kids = st
            if pid == master:
                out["master"] = out.get("master", 0) + own
                out["reaped children"] = out.get("reaped children", 0) + kids
            else:
                nm = self.short_name(pid)
                out[nm] = out.get(nm, 0) + own + kids
        return out

    def short_name(self, pid):
        return proc_name(pid)

    def memory(self):
        """Summed KiB over all processes: private, pss, rss, and process count."""
        priv = pss = rss = n = 0
        names = {}
        for pid in self.pids():
            v = smaps_rollup(pid)
            if v is None:
                continue
            n += 1
            priv += v.get("Private_Clean", 0) + v.get("Private_Dirty", 0)
            pss += v.get("Pss", 0)
            rss += v.get("Rss", 0)
            nm = os.path.basename(proc_name(pid)) if self.name == "Postern" else proc_name(pid)
            names[nm] = names.get(nm, 0) + 1
        return {"private": priv, "pss": pss, "rss": rss, "procs": n, "names": names}

    def session_procs(self):
        return [p for p in self.pids() if self.is_session_proc(p)]

    def wait_drained(self, timeout=DRAIN_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if not self.session_procs():
                return True
            time.sleep(0.05)
        return False

    def check_alive(self):
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise BenchError(f"{self.name} master is not running (exit status {rc}); "
                             f"log: {self.log_path()}\n{self.log_tail()}")

    def log_path(self):
        raise NotImplementedError

    def log_tail(self, n=15):
        try:
            with open(self.log_path(), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def start(self, probe_user, probe_pass):
        if port_in_use(self.port):
            raise BenchError(f"port {HOST}:{self.port} is already in use; "
                             f"is an earlier benchmark still running?")
        self.logf = open(self.server_stdout(), "ab")
        self.log_start = self.logf.tell()
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=self.logf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        except OSError as e:
            raise BenchError(f"cannot start {self.name}: {' '.join(self.argv())}: {e}")
        deadline = time.monotonic() + START_TIMEOUT
        last = "no attempt"
        port = self.tls_port if self.tls else self.port
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited during start-up with status "
                                 f"{self.proc.returncode}; log {self.log_path()}:\n"
                                 f"{self.log_tail()}")
            if self.tls and not self.tls_ready():
                ok, last = False, "TLS keys not loaded yet"
            elif self.tls:
                # TLS configured: a login over implicit TLS (plaintext logins
                # are refused then, on both servers).
                ok, last = probe_login(port, probe_user, probe_pass,
                                       tls_context(self.tls, verify=False))
            else:
                ok, last = probe_login(port, probe_user, probe_pass)
            if ok:
                return
            time.sleep(0.05)
        raise BenchError(f"{self.name} did not accept a POP3 login on {HOST}:{port}"
                         f"{' (implicit TLS)' if self.tls else ''} "
                         f"within {START_TIMEOUT:.0f}s (last: {last}); log "
                         f"{self.log_path()}:\n{self.log_tail()}")

    def tls_ready(self):
        return True

    def stop(self):
        if self.proc is None:
            return
        pgid = self.proc.pid    # start_new_session: the group we created
        # Every process of this server now, by pid and start time (no pid reuse).
        ours = [(p, start_time(p)) for p in self.pids()]
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: no exit 10s after SIGTERM, sending SIGKILL")
        # Anything left in the process group we started (orphans included), and
        # any of the server's processes that left the group and outlived it.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid, st in ours:
            if st is not None and start_time(pid) == st:
                try:
                    os.kill(pid, signal.SIGKILL)
                    log(f"{self.name}: killed leftover process {pid}")
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.logf:
            self.logf.close()
            self.logf = None

    def log_problems(self):
        raise NotImplementedError


class Postern(Server):
    name = "Postern"
    port = POSTERN_PORT
    tls_port = POSTERN_TLS_PORT

    def __init__(self, work):
        super().__init__(work)
        self.dir = work / "postern"
        self.conf = self.dir / "postern.conf"
        # A private copy of build/bin, so that a rebuild during the run (make in
        # another shell) cannot swap binaries under the running server.
        self.bin = work / "bin"

    def ctl(self, *args, stdin=None):
        try:
            r = subprocess.run([str(self.bin / "posternctl"), "-c", str(self.conf), *args],
                               input=stdin, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BenchError(f"posternctl {' '.join(args[:3])}: {e}")
        if r.returncode != 0:
            raise BenchError(f"posternctl {' '.join(args[:3])} failed: "
                             f"{r.stderr.decode(errors='replace').strip()}")
        return r.stdout.decode(errors="replace")

    def setup(self):
        self.bin.mkdir()
        # Every daemon the master may spawn (the set grows with the project).
        for f in sorted(BIN.iterdir()):
            if f.is_file() and os.access(f, os.X_OK) and (
                    f.name.startswith("postern-") or f.name == "posternctl"):
                shutil.copy2(f, self.bin / f.name)
        (self.dir / "state").mkdir(parents=True)
        (self.dir / "mail").mkdir()
        self.write_conf(None)
        self.ctl("domain", "add", "localhost")

    def write_conf(self, tls):
        """tls None: the plaintext benchmark's config; else a TLS case: an
        implicit-TLS listener with that certificate, TLS required."""
        self.tls = tls
        text = (f"# written by bench/pop3bench.py\n"
                f"state_dir = {self.dir}/state\n"
                f"userdb = {self.dir}/state/userdb\n"
                f"mail_root = {self.dir}/mail/%d/%n\n"
                f"empty_root = {self.dir}/empty\n"
                f"default_domain = localhost\n"
                f"pop3_listen = {HOST}:{self.port}\n"
                f"auth_fail_delay_ms = 0\n"
                f"max_daemons = 1000\n"
                f"max_per_ip = 1000\n")
        if tls is None:
            text += ("# plaintext USER/PASS without TLS, like Dovecot's disable_plaintext_auth = no\n"
                     "pop3_tls_required = no\n")
        else:
            text += (f"# TLS handshake benchmark ({tls['label']}), like Dovecot's ssl = required\n"
                     f"pop3s_listen = {HOST}:{self.tls_port}\n"
                     f"tls_cert_file = {tls['cert']}\n"
                     f"tls_key_file = {tls['key']}\n"
                     f"pop3_tls_required = yes\n")
        self.conf.write_text(text)

    def maildir(self, user):
        return self.dir / "mail" / "localhost" / user

    def argv(self):
        return [str(self.bin / "postern-master"), "-c", str(self.conf)]

    def server_stdout(self):
        return self.dir / "master.log"

    def log_path(self):
        return self.dir / "master.log"

    def is_ours(self, pid):
        return os.path.dirname(proc_exe(pid)) == str(self.bin)

    def is_session_proc(self, pid):
        return os.path.basename(proc_exe(pid)) in ("postern-pop3d", "postern-stored")

    def short_name(self, pid):
        return os.path.basename(proc_exe(pid))

    def tls_ready(self):
        """keyd has loaded the keys (the master logs tls_ready).  The master
        accepts on pop3s before that, and such a connection fails with
        'no certificates from keyd': do not probe into that window."""
        try:
            with open(self.log_path(), "rb") as f:
                f.seek(self.log_start)
                return b"event=tls_ready" in f.read()
        except OSError:
            return False

    def log_problems(self):
        counts, samples = {}, []
        try:
            with open(self.log_path(), errors="replace") as f:
                for line in f:
                    m = re.search(r"level=(warn|warning|error|crit|fatal)\b", line)
                    if "event=tls_selfsigned" in line:
                        continue    # expected: no certificate configured, TLS unused
                    if not m and "signal" not in line:
                        continue
                    ev = re.search(r"event=(\S+)", line)
                    key = f"{m.group(1) if m else 'info'} {ev.group(1) if ev else '?'}"
                    counts[key] = counts.get(key, 0) + 1
                    if len(samples) < 8:
                        samples.append(line.rstrip())
        except OSError:
            pass
        return counts, samples


class Dovecot(Server):
    name = "Dovecot"
    port = DOVECOT_PORT
    tls_port = DOVECOT_TLS_PORT

    def __init__(self, work):
        super().__init__(work)
        self.dir = work / "dovecot"
        self.conf = self.dir / "dovecot.conf"
        self.users = self.dir / "users"

    def setup(self, users):
        (self.dir / "mail").mkdir(parents=True)
        lines = []
        for user, pw in users:
            h = subprocess.run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", pw],
                               capture_output=True, text=True, timeout=30)
            if h.returncode != 0:
                raise BenchError(f"doveadm pw failed: {h.stderr.strip()}")
            home = self.dir / "mail" / user
            lines.append(f"{user}:{h.stdout.strip()}:{MAIL_UID}:{MAIL_GID}::{home}::\n")
        self.users.write_text("".join(lines))
        # Dovecot reads it as default_internal_user (auth-worker).
        os.chown(self.users, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(self.users, 0o640)
        self.write_conf(None)

    def write_conf(self, tls):
        """tls None: plaintext only (ssl = no); else a TLS case: ssl = required
        with that certificate and a pop3s listener."""
        self.tls = tls
        d = self.dir
        if tls is None:
            ssl_conf = "ssl = no\n"
            pop3s = "port = 0"
        else:
            ssl_conf = (f"# TLS handshake benchmark ({tls['label']})\n"
                        f"ssl = required\n"
                        f"ssl_cert = <{tls['cert']}\n"
                        f"ssl_key = <{tls['key']}\n"
                        f"ssl_min_protocol = TLSv1.2\n")
            pop3s = f"address = {HOST}\n    port = {self.tls_port}\n    ssl = yes"
        self.conf.write_text(f"""# written by bench/pop3bench.py; everything not set here is Dovecot's default
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = pop3
listen = {HOST}
{ssl_conf}disable_plaintext_auth = no
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1000
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = {self.users}
}}
userdb {{
  driver = passwd-file
  args = {self.users}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener pop3s {{
    {pop3s}
  }}
}}
""")

    def maildir(self, user):
        return self.dir / "mail" / user

    def argv(self):
        return ["dovecot", "-F", "-c", str(self.conf)]

    def server_stdout(self):
        return self.dir / "stdout.log"

    def log_path(self):
        return self.dir / "dovecot.log"

    def is_session_proc(self, pid):
        return proc_name(pid) in ("dovecot/pop3", "dovecot/pop3-login")

    def log_problems(self):
        counts, samples = {}, []
        for path in (self.log_path(), self.server_stdout()):
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        m = re.search(r": (Warning|Error|Fatal|Panic):", line)
                        if not m:
                            continue
                        if "Killed with signal 15" in line:   # our own SIGTERM at the end
                            continue
                        key = f"{m.group(1)}"
                        counts[key] = counts.get(key, 0) + 1
                        if len(samples) < 8:
                            samples.append(line.rstrip())
            except OSError:
                pass
        return counts, samples


def port_in_use(port):
    s = socket.socket()
    try:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0
    finally:
        s.close()


def probe_login(port, user, pw, tls_ctx=None):
    """A POP3 login on port (over implicit TLS with tls_ctx): (ok, detail)."""
    try:
        with socket.create_connection((HOST, port), timeout=3) as raw:
            s = tls_ctx.wrap_socket(raw, server_hostname=TLS_NAME) if tls_ctx else raw
            f = s.makefile("rwb")
            if not f.readline().startswith(b"+OK"):
                return False, "no greeting"
            for cmd in (f"USER {user}", f"PASS {pw}"):
                f.write(cmd.encode() + b"\r\n")
                f.flush()
                r = f.readline()
                if not r.startswith(b"+OK"):
                    return False, r.decode(errors="replace").strip()
            f.write(b"QUIT\r\n")
            f.flush()
            f.readline()
            return True, "ok"
    except OSError as e:      # ssl.SSLError included
        return False, str(e)


# --------------------------------------------------------------------------
# Test data

WORDS = ("the of and to in is that for it as was with be by on not he this are or "
         "his from at which but have an they you were her she there been one all "
         "we their has would when if so no will can more out up into do any your "
         "what some time about than them only other new could these may first "
         "mail server message maildir process session privilege separation queue").split()


def make_message(user, idx, size, rng):
    hdr = (f"Return-Path: <sender{idx}@example.org>\n"
           f"From: Sender {idx} <sender{idx}@example.org>\n"
           f"To: {user}@localhost\n"
           f"Subject: Benchmark message {idx} ({size} bytes)\n"
           f"Date: Mon, 02 Jan 2023 10:{idx % 60:02d}:00 +0000\n"
           f"Message-ID: <bench-{user}-{idx}@example.org>\n"
           f"MIME-Version: 1.0\n"
           f"Content-Type: text/plain; charset=us-ascii\n\n")
    out = [hdr]
    n = len(hdr)
    line_no = 0
    while n < size:
        line_no += 1
        words = []
        ln = 0
        while ln < 66:
            w = rng.choice(WORDS)
            words.append(w)
            ln += len(w) + 1
        line = " ".join(words)
        if line_no % 40 == 0:
            line = "." + line          # exercises dot-stuffing on both servers
        line += "\n"
        if n + len(line) > size:
            line = line[: size - n - 1] + "\n"
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def setup_data(work, nusers, postern, dovecot):
    users = [(f"user{i}", f"pass{i}") for i in range(1, nusers + 1)]
    log(f"setup: {nusers} users, {SMALL_MSGS}x{SMALL_SIZE // 1024} KiB + "
        f"{LARGE_MSGS}x{LARGE_SIZE // 1024} KiB messages each, in {work}")
    postern.setup()

    def add_and_deliver(u):
        user, pw = u
        postern.ctl("user", "add", user, "-p", pw, "-s", "sha512")
        r = random.Random(f"pop3bench-{user}")
        sizes = [SMALL_SIZE] * SMALL_MSGS + [LARGE_SIZE] * LARGE_MSGS
        # Large messages in the middle of the list, not at the end.
        sizes.insert(SMALL_MSGS // 2, sizes.pop())
        sizes.insert(SMALL_MSGS // 4, sizes.pop())
        for i, sz in enumerate(sizes, 1):
            postern.ctl("deliver", user, stdin=make_message(user, i, sz, r))

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as ex:
        list(ex.map(add_and_deliver, users))
    log(f"setup: Postern users and mail in {time.monotonic() - t0:.1f}s")
    dovecot.setup(users)
    # The very same message files, copied before either server has seen them.
    for user, _ in users:
        src = postern.maildir(user)
        dst = dovecot.maildir(user)
        for sub in ("cur", "new", "tmp"):
            shutil.copytree(src / sub, dst / sub)
        for dirpath, dirnames, filenames in os.walk(dst):
            os.chown(dirpath, MAIL_UID, MAIL_GID)
            os.chmod(dirpath, 0o700)
            for fn in filenames:
                p = os.path.join(dirpath, fn)
                os.chown(p, MAIL_UID, MAIL_GID)
                os.chmod(p, 0o600)
    nfiles = sum(1 for _ in (postern.maildir("user1") / "new").iterdir())
    if nfiles != SMALL_MSGS + LARGE_MSGS:
        raise BenchError(f"user1 has {nfiles} messages in new/, expected "
                         f"{SMALL_MSGS + LARGE_MSGS}")
    return users


# --------------------------------------------------------------------------
# Client

class PopError(Exception):
    pass


async def _cmd(reader, writer, line):
    writer.write(line)
    resp = await reader.readuntil(b"\r\n")
    if not resp.startswith(b"+OK"):
        raise PopError(f"{line.split()[0].decode()}: {resp.decode(errors='replace').strip()}")
    return resp


async def pop_session(port, user, pw, mode):
    """mode 'full': STAT + RETR all + QUIT; 'login': QUIT right after PASS.
    Returns (latency seconds, bytes received, slowest RETR seconds)."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    got = 0
    slowest = 0.0
    try:
        greet = await reader.readuntil(b"\r\n")
        if not greet.startswith(b"+OK"):
            raise PopError(f"greeting: {greet.decode(errors='replace').strip()}")
        await _cmd(reader, writer, b"USER %s\r\n" % user.encode())
        await _cmd(reader, writer, b"PASS %s\r\n" % pw.encode())
        if mode == "full":
            st = await _cmd(reader, writer, b"STAT\r\n")
            count = int(st.split()[1])
            for i in range(1, count + 1):
                t1 = time.perf_counter()
                await _cmd(reader, writer, b"RETR %d\r\n" % i)
                # Our messages are never empty, so the body ends in CRLF.CRLF.
                body = await reader.readuntil(b"\r\n.\r\n")
                slowest = max(slowest, time.perf_counter() - t1)
                got += len(body)
        await _cmd(reader, writer, b"QUIT\r\n")
        lat = time.perf_counter() - t0
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
    return lat, got, slowest


def user_for(worker, k, conc, users):
    """Worker w only ever uses users w, w+conc, w+2*conc, ...: no two
    concurrent sessions share a maildrop (Postern locks it, RFC 1939)."""
    per = max(1, len(users) // conc)
    return users[worker + conc * (k % per)]


async def run_load(port, users, n, conc, mode, each_user_once=False):
    """n sessions by conc concurrent clients that take the next session as
    soon as they are free.  each_user_once: exactly one session per user."""
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
                lat, got, slowest = await asyncio.wait_for(
                    pop_session(port, user, pw, mode), SESSION_TIMEOUT)
                lats.append(lat)
                slow.append(slowest)
                nbytes += got
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    asyncio.TimeoutError, PopError, ValueError, IndexError) as e:
                errors.append(f"{type(e).__name__}: {e}")

    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(conc))), PHASE_TIMEOUT)
    wall = time.perf_counter() - t0
    return {"lats": lats, "errors": errors, "wall": wall, "bytes": nbytes, "slow": slow}


def retr_probe(port, user, pw, quickack):
    """One session with a plain blocking client: the time of every RETR, in ms.
    quickack: TCP_QUICKACK before every read, so the client never delays its
    ACKs (tells a server-side Nagle / delayed-ACK stall from real work)."""
    with socket.create_connection((HOST, port), timeout=10) as s:
        f = s.makefile("rb")

        def line():
            if quickack:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            return f.readline()

        def cmd(c):
            s.sendall(c)
            r = line()
            if not r.startswith(b"+OK"):
                raise PopError(f"{c.split()[0].decode()}: {r.decode(errors='replace').strip()}")
            return r

        line()
        cmd(f"USER {user}\r\n".encode())
        cmd(f"PASS {pw}\r\n".encode())
        n = int(cmd(b"STAT\r\n").split()[1])
        times = []
        for i in range(1, n + 1):
            t0 = time.perf_counter()
            cmd(b"RETR %d\r\n" % i)
            while line() not in (b".\r\n", b""):
                pass
            times.append((time.perf_counter() - t0) * 1000)
        cmd(b"QUIT\r\n")
    return times


def stall_probe(server, users, sessions=5):
    """Median over sessions of the slowest RETR, without and with quickack."""
    out = {}
    for qa in (False, True):
        worst = []
        for k in range(sessions):
            user, pw = users[k % len(users)]
            try:
                worst.append(max(retr_probe(server.port, user, pw, qa)))
            except (OSError, PopError, ValueError) as e:
                log(f"   {server.name} RETR probe failed: {e}")
        worst.sort()
        out[qa] = pct(worst, 0.5) if worst else float("nan")
    server.wait_drained()
    return out


def pct(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    i = max(0, math.ceil(q * len(sorted_vals)) - 1)
    return sorted_vals[i]


def machine_busy():
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    total = sum(v)
    return (total - v[3] - v[4]) / CLK_TCK, total / CLK_TCK


def wait_quiet(limit):
    """Wait up to limit seconds for the machine to be nearly idle (less than
    15% of one core busy over a second).  Returns the last busy figure."""
    deadline = time.monotonic() + limit
    busy = float("nan")
    while True:
        b0, _ = machine_busy()
        t0 = time.monotonic()
        time.sleep(1.0)
        b1, _ = machine_busy()
        busy = (b1 - b0) / (time.monotonic() - t0)
        if busy < 0.15 or time.monotonic() >= deadline:
            return busy
        log(f"machine busy ({busy:.2f} cores used by other processes), waiting "
            f"up to {deadline - time.monotonic():.0f}s more")


def measure_load(server, users, n, conc, mode, each_user_once=False):
    """Run n sessions, return raw results plus server, client and machine CPU."""
    server.check_alive()
    server.wait_drained()
    cpu0 = server.cpu_ticks()
    cl0 = time.process_time()
    busy0, total0 = machine_busy()
    res = asyncio.run(run_load(server.port, users, n, conc, mode, each_user_once))
    res["client_cpu"] = time.process_time() - cl0
    drained = server.wait_drained()
    busy1, total1 = machine_busy()
    res["server_cpu"] = (server.cpu_ticks() - cpu0) / CLK_TCK
    # CPU neither the client nor this server used: other processes, interrupts.
    res["other_cpu"] = max(0.0, (busy1 - busy0) - res["server_cpu"] - res["client_cpu"])
    res["machine_cpu"] = total1 - total0
    res["drained"] = drained
    server.check_alive()
    return res


def merge(results):
    out = {"lats": [], "slow": [], "errors": [], "wall": 0.0, "bytes": 0, "client_cpu": 0.0,
           "server_cpu": 0.0, "rates": [], "other_cpu": 0.0, "machine_cpu": 0.0}
    for r in results:
        out["lats"] += r["lats"]
        out["slow"] += r["slow"]
        out["errors"] += r["errors"]
        out["wall"] += r["wall"]
        out["bytes"] += r["bytes"]
        out["client_cpu"] += r["client_cpu"]
        out["server_cpu"] += r["server_cpu"]
        out["other_cpu"] += r["other_cpu"]
        out["machine_cpu"] += r["machine_cpu"]
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
    return out


def alternate(servers, rounds, fn):
    """Run fn(server) rounds times per server, order P D, D P, P D, ..."""
    res = {s.name: [] for s in servers}
    for r in range(rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for s in order:
            res[s.name].append(fn(s))
    return res


# --------------------------------------------------------------------------
# TLS handshakes

TLS_NAME = "localhost"      # certificate CN/SAN and the SNI the client sends
TLS_CASES = [
    # key: label, openssl -newkey arguments, the one suite the client offers
    ("ecdsa", "ECDSA P-256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
     "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("rsa", "RSA 2048", ["-newkey", "rsa:2048"], "ECDHE-RSA-AES128-GCM-SHA256"),
]


def make_certs(work):
    """Self-signed certificates with openssl, one per case, in work/tls.
    Returns [{key, label, cert, key, suite, text}], the same files for both
    servers."""
    d = work / "tls"
    d.mkdir()
    os.chmod(d, 0o755)
    out = []
    for kid, label, newkey, suite in TLS_CASES:
        crt, key = d / f"{kid}.pem", d / f"{kid}.key"
        r = subprocess.run(["openssl", "req", "-x509", *newkey, "-sha256", "-nodes",
                            "-subj", f"/CN={TLS_NAME}", "-days", "7",
                            "-addext", f"subjectAltName=DNS:{TLS_NAME},IP:{HOST}",
                            "-keyout", str(key), "-out", str(crt)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise BenchError(f"openssl req ({label}) failed: {r.stderr.strip()}")
        os.chmod(crt, 0o644)
        os.chmod(key, 0o600)    # root only: keyd and Dovecot's config process read it as root
        t = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-text"],
                           capture_output=True, text=True, timeout=30).stdout
        sig = re.search(r"Signature Algorithm: (\S+)", t)
        pk = re.search(r"Public Key Algorithm: (\S+)", t)
        bits = re.search(r"Public-Key: \((\d+) bit\)", t)
        out.append({"id": kid, "label": label, "cert": crt, "key": key, "suite": suite,
                    "desc": f"{pk.group(1) if pk else '?'} {bits.group(1) if bits else '?'} bit, "
                            f"self-signed with {sig.group(1) if sig else '?'}"})
    return out


def tls_context(case, verify=True, tickets=False):
    """Client context: TLS 1.2 only (BearSSL has no TLS 1.3; OpenSSL's 1.3
    suites cannot be restricted with set_ciphers), the case's one suite.
    verify: check the chain (the certificate itself is the trust anchor) and
    the name.  tickets=False asks for no session ticket (RFC 5077)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(case["suite"])
    if verify:
        ctx.load_verify_locations(cafile=str(case["cert"]))
        ctx.check_hostname = True
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


def run_handshakes(port, case, n, conc, resume=False):
    """n connections by conc threads (blocking sockets; the ssl module drops
    the GIL during the handshake).  One = connect, TLS handshake, read the
    greeting, close.  resume: each thread offers the session of its previous
    connection (the first one is full); else every handshake must be full.
    case None: the same without TLS (connect, greeting, close) on a plain port."""
    ctx = tls_context(case, tickets=resume) if case else None
    lats, errors, reused = [], [], []
    lock = threading.Lock()
    todo = [n]

    def take():
        with lock:
            if todo[0] <= 0:
                return False
            todo[0] -= 1
            return True

    def worker():
        sess = None
        while take():
            t0 = time.perf_counter()
            try:
                raw = socket.create_connection((HOST, port), timeout=HANDSHAKE_TIMEOUT)
                try:
                    s = ctx.wrap_socket(raw, server_hostname=TLS_NAME,
                                        session=sess if resume else None) if ctx else raw
                    try:
                        greet = b""
                        while not greet.endswith(b"\r\n") and len(greet) < 512:
                            chunk = s.recv(512)
                            if not chunk:
                                break
                            greet += chunk
                        lat = time.perf_counter() - t0
                        if not greet.startswith(b"+OK"):
                            raise PopError(f"greeting: {greet[:80]!r}")
                        if not ctx:
                            ru = False
                        elif s.version() != "TLSv1.2" or s.cipher()[0] != case["suite"]:
                            raise PopError(f"negotiated {s.version()} {s.cipher()[0]}")
                        elif s.session_reused and not resume:
                            raise PopError("session resumed in a full-handshake run")
                        else:
                            if resume:
                                sess = s.session
                            ru = s.session_reused
                    finally:
                        s.close()
                finally:
                    raw.close()
                with lock:
                    lats.append(lat)
                    reused.append(ru)
            except (OSError, PopError, ValueError) as e:     # ssl.SSLError is an OSError
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(PHASE_TIMEOUT)
    wall = time.perf_counter() - t0
    if any(t.is_alive() for t in threads):
        raise BenchError(f"TLS handshakes on port {port} did not finish in {PHASE_TIMEOUT:.0f}s")
    return {"lats": lats, "errors": errors, "wall": wall, "bytes": 0, "slow": [],
            "reused": sum(reused)}


def measure_tls(server, n, conc, resume=False, plain=False):
    """run_handshakes against server's TLS port (plain: its plaintext port,
    without TLS) with the CPU accounting of measure_load, plus the server's
    CPU by process."""
    server.check_alive()
    server.wait_drained()
    cpu0 = server.cpu_ticks()
    det0 = server.cpu_detail()
    cl0 = time.process_time()
    busy0, total0 = machine_busy()
    res = run_handshakes(server.port if plain else server.tls_port,
                         None if plain else server.tls, n, conc, resume)
    res["client_cpu"] = time.process_time() - cl0
    drained = server.wait_drained()
    busy1, total1 = machine_busy()
    res["server_cpu"] = (server.cpu_ticks() - cpu0) / CLK_TCK
    det1 = server.cpu_detail()
    res["cpu_detail"] = {k: (det1.get(k, 0) - det0.get(k, 0)) / CLK_TCK
                         for k in set(det0) | set(det1)}
    res["other_cpu"] = max(0.0, (busy1 - busy0) - res["server_cpu"] - res["client_cpu"])
    res["machine_cpu"] = total1 - total0
    res["machine_busy"] = busy1 - busy0
    res["drained"] = drained
    server.check_alive()
    return res


def merge_tls(results):
    out = merge(results)
    out["reused"] = sum(r["reused"] for r in results)
    mc = sum(r["machine_cpu"] for r in results)
    out["busy_share"] = sum(r["machine_busy"] for r in results) / mc if mc else 0
    det = {}
    for r in results:
        for k, v in r["cpu_detail"].items():
            det[k] = det.get(k, 0.0) + v
    ok = out["ok"]
    out["cpu_detail_per"] = {k: v * 1000 / ok for k, v in det.items()} if ok else {}
    return out


def s_client_probe(port, case):
    """What openssl s_client reports for one handshake: the ECDHE group and
    the server's signature algorithm (Python's ssl module shows neither)."""
    try:
        r = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}",
                            "-servername", TLS_NAME, "-tls1_2", "-cipher", case["suite"],
                            "-no_ticket"],
                           input="QUIT\r\n", capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": str(e)}
    out = r.stdout + r.stderr
    def grab(pat):
        m = re.search(pat, out)
        return m.group(1).strip() if m else "?"
    return {"group": grab(r"Server Temp Key: ([^\n]+)"),
            "sigtype": grab(r"Peer signature type: ([^\n]+)"),
            "digest": grab(r"Peer signing digest: ([^\n]+)"),
            "cipher": grab(r"Cipher is ([^\n]+)")}


def restart_with(servers, tls, users):
    """Stop both servers, rewrite their configs (tls: a case or None), start."""
    for s in servers:
        s.stop()
        s.write_conf(tls)
    for s in servers:
        s.start(*users[0])
        log(f"{s.name} up on {HOST}:{s.tls_port if tls else s.port}"
            f"{' (implicit TLS, ' + tls['label'] + ')' if tls else ''} (master pid {s.proc.pid})")


def run_tls_phase(R, servers, users, a, notes):
    """d) for every certificate: restart both with TLS, warm up, 1 client,
    a.tls_conc clients; resumption on the first certificate."""
    R["tls"] = {"cases": [], "conc": a.tls_conc, "single": a.tls_single,
                "handshakes": a.handshakes, "rounds": a.rounds}
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
    # Back to the plaintext configs (nothing measures after this; it keeps
    # the stop at the end identical to a run without TLS).
    for s in servers:
        s.stop()
        s.write_conf(None)


# --------------------------------------------------------------------------
# Idle memory

async def open_idle(port, users, k, conc=8):
    conns, errors = [], []
    sem = asyncio.Semaphore(conc)

    async def one(user, pw):
        async with sem:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
                greet = await reader.readuntil(b"\r\n")
                if not greet.startswith(b"+OK"):
                    raise PopError("greeting")
                await _cmd(reader, writer, b"USER %s\r\n" % user.encode())
                await _cmd(reader, writer, b"PASS %s\r\n" % pw.encode())
                await _cmd(reader, writer, b"STAT\r\n")
                conns.append((reader, writer))
            except (OSError, asyncio.IncompleteReadError, PopError) as e:
                errors.append(f"{user}: {type(e).__name__}: {e}")

    await asyncio.wait_for(asyncio.gather(*(one(u, p) for u, p in users[:k])), 300)
    return conns, errors


async def close_idle(conns):
    async def one(reader, writer):
        try:
            writer.write(b"QUIT\r\n")
            await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        writer.close()
    await asyncio.gather(*(one(r, w) for r, w in conns))


def wait_stable(server, timeout=15.0):
    """Wait until the server's process count has not changed for 0.5s."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        n = len(server.pids())
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= 0.5:
            return True
        time.sleep(0.1)
    return False


def measure_idle(server, users, k):
    server.check_alive()
    server.wait_drained()
    wait_stable(server)
    base = server.memory()
    loop = asyncio.new_event_loop()
    try:
        conns, errors = loop.run_until_complete(open_idle(server.port, users, k))
        wait_stable(server)
        server.check_alive()
        loaded = server.memory()
        loop.run_until_complete(close_idle(conns))
    finally:
        loop.close()
    server.wait_drained()
    n = len(conns)
    per = lambda key: (loaded[key] - base[key]) / n if n else float("nan")
    return {"opened": n, "errors": errors, "base": base, "loaded": loaded,
            "private_per": per("private"), "pss_per": per("pss"), "rss_per": per("rss"),
            "procs_per": per("procs")}


# --------------------------------------------------------------------------
# Machine, versions, report

def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    return {"cpu": model, "cores": os.cpu_count(),
            "usable": len(os.sched_getaffinity(0)),
            "kernel": platform.release(), "ram": f"{mem / 1024 / 1024:.1f} GiB"}


def versions(args):
    def run(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10,
                                  cwd=ROOT).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    commit = run("git", "rev-parse", "--short", "HEAD") or "unknown"
    if run("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    if args.postern_version:
        commit = args.postern_version
    elif args.bin:
        commit = f"binaries from {args.bin}"
    dv = run("dpkg-query", "-W", "-f=${Version}", "dovecot-pop3d") or run("dovecot", "--version")
    bearssl = run("dpkg-query", "-W", "-f=${Version}", "libbearssl-dev")
    openssl = run("dpkg-query", "-W", "-f=${Version}", "libssl3")
    return {"postern": commit, "dovecot": dv, "python": platform.python_version(),
            "py_openssl": ssl.OPENSSL_VERSION, "bearssl": bearssl or "?",
            "openssl": openssl or "?", "bin": str(BIN)}


def clients(n):
    return f"{n} client" if n == 1 else f"{n} clients"


def fmt_names(names):
    return ", ".join(f"{n} x{c}" for n, c in sorted(names.items(), key=lambda x: (-x[1], x[0])))


def fmt(v, nd=1):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.{nd}f}"


def ratio(a, b):
    if not b or (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return "n/a"
    return f"{a / b:.2f}"


def build_rows(R):
    rows = []   # (metric, postern, dovecot, ratio, better)
    for conc in R["concs"]:
        p, d = R["full"][conc]["Postern"], R["full"][conc]["Dovecot"]
        if conc == 1:
            rows += [
                ("a) session latency p50, 1 client (ms)", fmt(p["p50"], 2), fmt(d["p50"], 2),
                 ratio(p["p50"], d["p50"]), "lower"),
                ("a) session latency p99, 1 client (ms)", fmt(p["p99"], 2), fmt(d["p99"], 2),
                 ratio(p["p99"], d["p99"]), "lower"),
                ("a) slowest RETR in a session p50, 1 client (ms)", fmt(p["slow_p50"], 2),
                 fmt(d["slow_p50"], 2), ratio(p["slow_p50"], d["slow_p50"]), "lower"),
                ("a) server CPU per session, 1 client (ms)", fmt(p["cpu_per"], 2),
                 fmt(d["cpu_per"], 2), ratio(p["cpu_per"], d["cpu_per"]), "lower"),
                ("a) failed sessions, 1 client", str(len(p["errors"])), str(len(d["errors"])),
                 "", "lower"),
            ]
            continue
        rows += [
            (f"a) sessions/s, {conc} clients", fmt(p["rate"]), fmt(d["rate"]),
             ratio(p["rate"], d["rate"]), "higher"),
            (f"a) session latency p50, {conc} clients (ms)", fmt(p["p50"], 2), fmt(d["p50"], 2),
             ratio(p["p50"], d["p50"]), "lower"),
            (f"a) session latency p99, {conc} clients (ms)", fmt(p["p99"], 2), fmt(d["p99"], 2),
             ratio(p["p99"], d["p99"]), "lower"),
            (f"a) server CPU per session, {conc} clients (ms)", fmt(p["cpu_per"], 2),
             fmt(d["cpu_per"], 2), ratio(p["cpu_per"], d["cpu_per"]), "lower"),
            (f"a) failed sessions, {conc} clients", str(len(p["errors"])),
             str(len(d["errors"])), "", "lower"),
        ]
    for conc in R["login_concs"]:
        p, d = R["login"][conc]["Postern"], R["login"][conc]["Dovecot"]
        rows += [
            (f"c) login latency p50, {conc} client{'s' if conc > 1 else ''} (ms)",
             fmt(p["p50"], 2), fmt(d["p50"], 2), ratio(p["p50"], d["p50"]), "lower"),
            (f"c) login latency p99, {conc} client{'s' if conc > 1 else ''} (ms)",
             fmt(p["p99"], 2), fmt(d["p99"], 2), ratio(p["p99"], d["p99"]), "lower"),
            (f"c) logins/s, {conc} client{'s' if conc > 1 else ''}", fmt(p["rate"]),
             fmt(d["rate"]), ratio(p["rate"], d["rate"]), "higher"),
            (f"c) server CPU per login, {conc} client{'s' if conc > 1 else ''} (ms)",
             fmt(p["cpu_per"], 2), fmt(d["cpu_per"], 2), ratio(p["cpu_per"], d["cpu_per"]),
             "lower"),
        ]
    p, d = R["idle"]["Postern"], R["idle"]["Dovecot"]
    k = R["args"].idle
    rows += [
        (f"b) private memory per idle session, K={k} (KiB)", fmt(p["private_per"]),
         fmt(d["private_per"]), ratio(p["private_per"], d["private_per"]), "lower"),
        (f"b) PSS per idle session, K={k} (KiB)", fmt(p["pss_per"]), fmt(d["pss_per"]),
         ratio(p["pss_per"], d["pss_per"]), "lower"),
        ("b) processes per idle session", fmt(p["procs_per"], 2), fmt(d["procs_per"], 2),
         ratio(p["procs_per"], d["procs_per"]), "lower"),
        ("b) baseline, 0 sessions: private KiB (processes)",
         f"{p['base']['private']:,} ({p['base']['procs']})",
         f"{d['base']['private']:,} ({d['base']['procs']})",
         ratio(p["base"]["private"], d["base"]["private"]), "lower"),
    ]
    return rows


def tls_rows(R):
    """(metric, Postern, Dovecot, ratio) for d)."""
    T = R["tls"]
    conc = T["conc"]
    rows = []

    def add(name, p, d, nd=2):
        rows.append((name, fmt(p, nd), fmt(d, nd), ratio(p, d)))

    for C in T["cases"]:
        lb = C["case"]["label"]
        p, d = C["full"]["Postern"], C["full"]["Dovecot"]
        p1, d1 = C["single"]["Postern"], C["single"]["Dovecot"]
        add(f"{lb}: handshakes/s, {clients(conc)}", p["rate"], d["rate"], 1)
        add(f"{lb}: handshake latency p50, {clients(conc)} (ms)", p["p50"], d["p50"])
        add(f"{lb}: handshake latency p99, {clients(conc)} (ms)", p["p99"], d["p99"])
        add(f"{lb}: server CPU per handshake, {clients(conc)} (ms)", p["cpu_per"], d["cpu_per"])
        add(f"{lb}: handshake latency p50, 1 client (ms)", p1["p50"], d1["p50"])
        add(f"{lb}: handshake latency p99, 1 client (ms)", p1["p99"], d1["p99"])
        add(f"{lb}: server CPU per handshake, 1 client (ms)", p1["cpu_per"], d1["cpu_per"])
        nerr = lambda k: sum(len(C[x][k]["errors"]) for x in ("single", "full", "resume")
                             if x in C)
        rows.append((f"{lb}: failed handshakes", str(nerr("Postern")), str(nerr("Dovecot")), ""))
        if "resume" in C:
            p, d = C["resume"]["Postern"], C["resume"]["Dovecot"]
            add(f"{lb}, resumption offered: handshakes/s, {clients(conc)}", p["rate"], d["rate"], 1)
            add(f"{lb}, resumption offered: latency p50, {clients(conc)} (ms)", p["p50"], d["p50"])
            add(f"{lb}, resumption offered: latency p99, {clients(conc)} (ms)", p["p99"], d["p99"])
            add(f"{lb}, resumption offered: server CPU per handshake (ms)", p["cpu_per"],
                d["cpu_per"])
            pr = 100 * p["reused"] / p["ok"] if p["ok"] else float("nan")
            dr = 100 * d["reused"] / d["ok"] if d["ok"] else float("nan")
            rows.append((f"{lb}, resumption offered: handshakes resumed (%)", fmt(pr, 1),
                         fmt(dr, 1), ""))
    for C in T["cases"]:
        if "plain" in C:
            p, d = C["plain"]["Postern"], C["plain"]["Dovecot"]
            add(f"no TLS (control): connections/s, {clients(conc)}", p["rate"], d["rate"], 1)
            add(f"no TLS (control): latency p50, {clients(conc)} (ms)", p["p50"], d["p50"])
            add(f"no TLS (control): latency p99, {clients(conc)} (ms)", p["p99"], d["p99"])
            add("no TLS (control): server CPU per connection (ms)", p["cpu_per"], d["cpu_per"])
            rows.append(("no TLS (control): failed connections", str(len(p["errors"])),
                         str(len(d["errors"])), ""))
    return rows


def tls_table_md(rows):
    out = ["| metric | Postern | Dovecot | ratio P/D |", "|---|---:|---:|---:|"]
    for m, p, d, r in rows:
        out.append(f"| {m} | {p} | {d} | {r} |")
    return "\n".join(out)


def fmt_detail(det):
    """{process: ms per handshake} -> text, largest first."""
    items = sorted(((k, v) for k, v in det.items() if v >= 0.005), key=lambda x: -x[1])
    return ", ".join(f"{k} {v:.2f}" for k, v in items) or "none"


def tls_notes(R, notes):
    """Notes for d), kept in R["tls"]["notes"]."""
    T = R["tls"]
    conc = T["conc"]
    N = T["notes"] = []
    for C in T["cases"]:
        case = C["case"]
        pp, dp = C["probe"]["Postern"], C["probe"]["Dovecot"]
        N.append(f"{case['label']} ({case['desc']}), client suite {case['suite']}: openssl "
                 f"s_client saw on Postern: {pp.get('cipher', '?')}, key exchange "
                 f"{pp.get('group', '?')}, server signature {pp.get('sigtype', '?')} "
                 f"{pp.get('digest', '?')}; on Dovecot: {dp.get('cipher', '?')}, key exchange "
                 f"{dp.get('group', '?')}, server signature {dp.get('sigtype', '?')} "
                 f"{dp.get('digest', '?')}.")
    for C in T["cases"]:
        lb = C["case"]["label"]
        for part, what in (("full", f"{clients(conc)}"),
                           ("resume", f"{clients(conc)}, resumption offered"),
                           ("plain", f"{clients(conc)}, no TLS (control)")):
            if part not in C:
                continue
            p, d = C[part]["Postern"], C[part]["Dovecot"]
            unit = "connection" if part == "plain" else "handshake"
            N.append(f"{lb}, {what}: server CPU per {unit} by process (ms): Postern "
                     f"{fmt_detail(p['cpu_detail_per'])}; Dovecot "
                     f"{fmt_detail(d['cpu_detail_per'])}. Client (Python) "
                     f"{100 * p['client_util']:.0f}% / {100 * d['client_util']:.0f}% of one "
                     f"core; the whole machine {100 * p['busy_share']:.0f}% / "
                     f"{100 * d['busy_share']:.0f}% busy, of which other processes "
                     f"{100 * p['other_share']:.0f}% / {100 * d['other_share']:.0f}% "
                     f"(Postern / Dovecot phases). {unit.capitalize()}s/s per round: Postern "
                     f"{[round(x) for x in p['rates']]}, Dovecot "
                     f"{[round(x) for x in d['rates']]}.")
    ctl = [C for C in T["cases"] if "plain" in C]
    if ctl:
        pc, dc = ctl[0]["plain"]["Postern"], ctl[0]["plain"]["Dovecot"]
        inc = "; ".join(
            f"{C['case']['label']}: Postern {C['full']['Postern']['cpu_per'] - pc['cpu_per']:.2f}"
            f", Dovecot {C['full']['Dovecot']['cpu_per'] - dc['cpu_per']:.2f}"
            for C in T["cases"])
        N.append(f"What TLS itself adds: server CPU per handshake at {clients(conc)} minus "
                 f"server CPU per plaintext connection (the no-TLS control: connect, "
                 f"greeting, close on the plaintext port of the same running servers, "
                 f"Postern {pc['cpu_per']:.2f} ms, Dovecot {dc['cpu_per']:.2f} ms), in ms: "
                 f"{inc}. The rest of each handshake's cost is the process per connection.")
    for C in T["cases"]:
        for part in ("single", "full", "resume", "plain"):
            for k, m in C.get(part, {}).items():
                if m["errors"]:
                    errs = {}
                    for e in m["errors"]:
                        errs[e] = errs.get(e, 0) + 1
                    top = "; ".join(f"{n}x {e}" for e, n in
                                    sorted(errs.items(), key=lambda x: -x[1])[:3])
                    N.append(f"**{k}, {C['case']['label']} {part}: {len(m['errors'])} failed "
                             f"handshakes** ({top}).")
    res = [C for C in T["cases"] if "resume" in C]
    if res:
        C = res[0]
        p, d = C["resume"]["Postern"], C["resume"]["Dovecot"]
        text = (f"Resumption ({C['case']['label']}): every client thread offered the "
                f"session of its previous connection (`SSLContext.wrap_socket(session=...)`, "
                f"session tickets allowed). Postern resumed {p['reused']} of {p['ok']}, "
                f"Dovecot {d['reused']} of {d['ok']}. Postern's session cache lives in keyd, "
                f"shared by every worker process (session IDs; BearSSL has no tickets).")
        if d["reused"] == 0:
            text += (" Dovecot's OpenSSL session cache and ticket keys live in each "
                     "pop3-login process, and with the default `service_count = 1` every "
                     "connection gets a new one, so nothing can be resumed there: its row "
                     "is a second run of full handshakes.")
        N.append(text)


def table_md(rows):
    out = ["| metric | Postern | Dovecot | ratio P/D | better |",
           "|---|---:|---:|---:|---|"]
    for m, p, d, r, b in rows:
        out.append(f"| {m} | {p} | {d} | {r} | {b} |")
    return "\n".join(out)


def table_text(rows):
    w = max(len(r[0]) for r in rows)
    out = [f"{'metric':<{w}}  {'Postern':>14}  {'Dovecot':>14}  {'P/D':>6}  better"]
    for m, p, d, r, b in rows:
        out.append(f"{m:<{w}}  {p:>14}  {d:>14}  {r:>6}  {b}")
    return "\n".join(out)


def tls_section_md(R, trows):
    a, v, T = R["args"], R["versions"], R["tls"]
    conc = T["conc"]
    L = []
    L.append("### d) TLS handshakes on the implicit-TLS port (pop3s)\n")
    L.append(tls_table_md(trows))
    L.append("")
    L.append("Ratio is Postern / Dovecot: above 1 is better for Postern in the handshakes/s "
             "rows, worse in the latency and CPU rows.\n")
    L.append("#### Setup\n")
    certs = "; ".join(f"{C['case']['label']}: {C['case']['desc']}, client suite "
                      f"`{C['case']['suite']}`" for C in T["cases"])
    L.append(f"- Certificates made with `openssl req -x509 -newkey ... -sha256` at the start "
             f"of the run, CN and subjectAltName `{TLS_NAME}` (plus IP {HOST}), key without "
             f"a passphrase: {certs}. The same certificate and key files for both servers; "
             f"one server configuration per certificate (both servers restarted in between), "
             f"so each server has exactly one certificate loaded.")
    L.append(f"- Postern: `pop3s_listen = {HOST}:{POSTERN_TLS_PORT}`, `tls_cert_file = "
             f"<cert>`, `tls_key_file = <key>`, `pop3_tls_required = yes`; "
             f"`tls_session_cache` (10000), `tls_min_version` (TLS 1.2) and the suites "
             f"(ECDHE with AES-GCM or ChaCha20-Poly1305 only, server order) at their "
             f"defaults; otherwise the config of a)-c). Dovecot: `ssl = required`, "
             f"`ssl_cert = <cert`, `ssl_key = <key`, `ssl_min_protocol = TLSv1.2`, "
             f"`inet_listener pop3s {{ address = {HOST}, port = {DOVECOT_TLS_PORT}, "
             f"ssl = yes }}`; `ssl_cipher_list`, `ssl_curve_list`, "
             f"`ssl_prefer_server_ciphers` and the rest at Dovecot's defaults.")
    L.append(f"- Client: Python {v['python']} `ssl` ({v['py_openssl']}), "
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
             f"that alternate the servers (P D, D P, ...), after 50 warm-up handshakes; "
             f"{a.tls_single} with 1 client in 2 rounds. The resumption rows: "
             f"{a.handshakes} more at {conc} threads with the first certificate, each thread "
             f"offering the session of its previous connection.")
    L.append(f"- Server CPU = utime+stime of every server process (Postern: master, "
             f"pop3d workers reaped by it, keyd, authd; Dovecot: master, pop3-login "
             f"processes reaped by it, config/log/anvil/auth/stats), divided by the "
             f"handshakes. The machine's {R['machine']['cores']} cores are shared by the "
             f"client threads and the server under test: the Python client's CPU share is "
             f"in the notes; where it is large, it, not the server, limits handshakes/s, so "
             f"server CPU per handshake is the client-independent figure.")
    L.append("")
    L.append("#### Notes on d)\n")
    L.append(f"- keyd round trips: a Postern worker holds no private key. Per full handshake "
             f"it makes two request/reply round trips to keyd over its socketpair: the "
             f"certificate chains at the start (`MSG_KEYD_CHAINS_REQ`), and the signature "
             f"over the ServerKeyExchange (`MSG_KEYD_SIGN`: ECDSA, or RSA PKCS#1 v1.5), "
             f"plus a one-way `MSG_KEYD_CACHE_SAVE` of the new session; a resumed handshake "
             f"makes the chain round trip and a `MSG_KEYD_CACHE_LOAD` instead of the "
             f"signature. keyd is one single-threaded process for all workers, so signatures "
             f"are made one at a time; its CPU per handshake is listed as `postern-keyd` in "
             f"the by-process notes. Dovecot's pop3-login process has the key in its own "
             f"memory and signs in-process.")
    L.append(f"- BearSSL vs OpenSSL: Postern's worker (ECDHE, record layer) and keyd "
             f"(signatures) use BearSSL {v['bearssl']} (Debian libbearssl: constant-time C, "
             f"64-bit multiplications for RSA and elliptic curves, AES-NI/PCLMUL intrinsics "
             f"for AES-GCM, no hand-written assembly); Dovecot's pop3-login uses OpenSSL "
             f"{v['openssl']} (Debian libssl3: hand-written x86-64 assembly for P-256, "
             f"X25519, RSA's bignum arithmetic and AES-GCM). The BearSSL server implements TLS 1.2 and "
             f"signs with RSA PKCS#1 v1.5 only, OpenSSL prefers RSA-PSS when the client "
             f"offers it (see the notes).")
    L.append(f"- Process per connection in both: Postern's master forks and execs a "
             f"`postern-pop3d` per connection (own uid, sandbox, seccomp) which runs the "
             f"handshake; Dovecot's master forks and execs a `pop3-login` per connection "
             f"(default `service_count = 1`), which runs the handshake. So both handshake "
             f"figures include a fork+exec and process start, and neither server keeps a "
             f"session cache in the process that handshakes (Postern's is in keyd).")
    for n in T.get("notes", []):
        L.append(f"- {n}")
    L.append("")
    return "\n".join(L)


def section_md(R, rows, trows):
    a, mi, v = R["args"], R["machine"], R["versions"]
    per_user_kib = (SMALL_MSGS * SMALL_SIZE + LARGE_MSGS * LARGE_SIZE) / 1024
    L = []
    L.append(f"## Run {R['date']}{' (quick)' if a.quick else ''}"
             f"{' (TLS only)' if a.tls_only else ''}\n")
    L.append(f"- Machine: {mi['cpu']}, {mi['cores']} cores ({mi['usable']} usable by the "
             f"benchmark), {mi['ram']} RAM, Linux {mi['kernel']}")
    L.append(f"- Postern {v['postern']}; static PIE binaries from {v['bin']}, copied to the "
             f"temp dir at the start of the run. Dovecot {v['dovecot']} (Debian dovecot-core + "
             f"dovecot-pop3d); "
             f"client Python {v['python']}: asyncio, single process for a)-c), threads "
             f"with the ssl module for d)")
    L.append(f"- Duration: {R['duration']:.0f} s for the whole run, both servers\n")
    if rows:
        L.append(table_md(rows))
        L.append("")
        L.append("Ratio is Postern / Dovecot; the *better* column says which direction "
                 "favours a server (ratio > 1 in a *higher* row means Postern is better, "
                 "in a *lower* row it means Dovecot is better).\n")
    if trows:
        L.append(tls_section_md(R, trows))
    if not rows:
        L.append("### Notes\n")
        for n in R["notes"]:
            L.append(f"- {n}")
        L.append("")
        return "\n".join(L)
    L.append("### Workload of a)-c)\n")
    L.append(f"- {a.users} users (`user1`..`user{a.users}`), each with the same "
             f"{SMALL_MSGS + LARGE_MSGS} messages: {SMALL_MSGS} x {SMALL_SIZE} bytes and "
             f"{LARGE_MSGS} x {LARGE_SIZE} bytes ({per_user_kib:.0f} KiB per mailbox, "
             f"LF line ends, one line in 40 starts with a dot). Delivered with "
             f"`posternctl deliver`, then the same files copied into Dovecot's Maildirs "
             f"(owner uid/gid {MAIL_UID}). One warm-up session per user and server (RETR "
             f"of everything) before measuring, so both have built their indexes and moved "
             f"mail from `new/` to `cur/`.")
    L.append("- Passwords: SHA512-CRYPT (`$6$`, default 5000 rounds) on both sides: "
             "`posternctl user add -s sha512` and `doveadm pw -s SHA512-CRYPT` in a "
             "passwd-file. Postern's default scheme is yescrypt, which was not used here.")
    L.append(f"- a) full session = connect, greeting, USER, PASS, STAT, RETR 1..22, QUIT "
             f"(latency: connect until the QUIT reply). {a.single} sessions per server "
             f"at 1 client, {a.sessions} at 8 and at 32 clients, each split into {a.rounds} rounds that alternate the "
             f"servers (P D, D P, ...). A client never runs two sessions on one mailbox at "
             f"once. Server CPU = utime+stime of every server process, including reaped "
             f"children, divided by the sessions. After the 1-client phase, a RETR probe: "
             f"5 sessions per server with a plain blocking client, timing every RETR, "
             f"once normally and once with TCP_QUICKACK set before every read.")
    L.append(f"- b) {a.idle} sessions logged in (USER, PASS, STAT) and left idle; "
             f"memory = sum of Private_Clean+Private_Dirty (and Pss) from "
             f"`/proc/PID/smaps_rollup` over every process of the server (Postern: the "
             f"master's process tree, exe in the copy of build/bin; Dovecot: the `dovecot` master's "
             f"process tree), minus the same sum with 0 sessions just before, divided by "
             f"the sessions.")
    L.append(f"- c) login only = connect, greeting, USER, PASS, QUIT; {a.logins} logins "
             f"per server per concurrency level, alternating rounds as in a).")
    L.append(f"- Postern config: `pop3_tls_required = no`, `auth_fail_delay_ms = 0`, "
             f"`max_daemons = 1000`, `max_per_ip = 1000`, private state_dir/userdb/"
             f"mail_root/empty_root, listener on {HOST}:{POSTERN_PORT}, everything else "
             f"default. No TLS on either server in a)-c). Dovecot config: "
             f"`protocols = pop3`, `ssl = no`, `disable_plaintext_auth = no`, "
             f"passwd-file passdb/userdb, `mail_location = maildir:...`, "
             f"`first_valid_uid = 1000`, `default_login_user = dovenull`, "
             f"`default_internal_user = dovecot`, private base_dir/state_dir/log_path, "
             f"listener on {HOST}:{DOVECOT_PORT}; everything else Dovecot's default, in "
             f"particular `service pop3-login {{ service_count = 1 }}` (a new login "
             f"process per connection, \"high-security mode\") and `service pop3 "
             f"{{ service_count = 1, client_limit = 1 }}` (one mail process per session).")
    L.append("")
    L.append("### Notes\n")
    for n in R["notes"]:
        L.append(f"- {n}")
    L.append("")
    return "\n".join(L)


HEADER = """# Benchmarks

Postern's POP3 against Dovecot's pop3 (Debian packages) on the same machine in
the same run, produced by `make bench` (`bench/pop3bench.py`). Each run adds a
dated section at the top; older sections are kept below. Numbers from different
machines or dates are not comparable with each other; the ratio within one run
is the point.

"""


def write_doc(section):
    old_sections = ""
    if DOC.exists():
        text = DOC.read_text()
        i = text.find("\n## Run ")
        if i >= 0:
            old_sections = text[i + 1:]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(HEADER + section + ("\n" + old_sections if old_sections else ""))


# --------------------------------------------------------------------------

def ensure_dovecot():
    def installed():
        for p in ("dovecot-core", "dovecot-pop3d"):
            r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                               capture_output=True, text=True)
            if "install ok installed" not in r.stdout:
                return False
        return shutil.which("dovecot") is not None and shutil.which("doveadm") is not None
    if installed():
        return
    log("installing dovecot-core dovecot-pop3d with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends",
           "dovecot-core", "dovecot-pop3d"]
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env)
        if subprocess.run(cmd, env=env).returncode != 0:
            raise BenchError("apt-get install dovecot-core dovecot-pop3d failed")
    if not installed():
        raise BenchError("dovecot-core/dovecot-pop3d still not installed")


def other_load_note():
    """Foreign processes that may disturb the numbers (not ours, not idle)."""
    mine = os.getpid()
    names = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == mine:
            continue
        nm = proc_name(int(pid))
        if ("postern" in nm or nm.startswith("dovecot") or "/dovecot" in nm):
            names.append(nm)
    return names


def run_plain_phase(R, servers, users, a, notes):
    """a) full sessions, c) logins, b) idle memory; fills R and notes."""
    concs, login_concs = R["concs"], R["login_concs"]
    if a.wait_quiet > 0:
        busy = wait_quiet(a.wait_quiet)
        if busy >= 0.15:
            notes.append(f"The machine was not idle when measuring started: other "
                         f"processes used {busy:.2f} cores (waited {a.wait_quiet:.0f}s).")
    # Warm-up: one full session per user and server.
    sizes = {}
    for s in servers:
        r = measure_load(s, users, len(users), 8, "full", each_user_once=True)
        if r["errors"]:
            raise BenchError(f"{s.name} warm-up: {len(r['errors'])} failed sessions, "
                             f"first: {r['errors'][0]}")
        sizes[s.name] = r["bytes"] / len(users)
        log(f"warm-up {s.name}: {len(users)} sessions, {sizes[s.name]:.0f} bytes "
            f"received per session")
    if sizes["Postern"] != sizes["Dovecot"]:
        notes.append(f"The servers sent different amounts per session: Postern "
                     f"{sizes['Postern']:.0f} bytes, Dovecot {sizes['Dovecot']:.0f}.")
    else:
        notes.append(f"Both servers sent exactly {sizes['Postern']:.0f} bytes of RETR "
                     f"data per full session (CRLF line ends, dot-stuffed).")

    for conc in concs:
        per_round = max(1, (a.single if conc == 1 else a.sessions) // a.rounds)
        log(f"a) full sessions, {clients(conc)}, {per_round} x {a.rounds} rounds per server")
        res = alternate(servers, a.rounds,
                        lambda s: measure_load(s, users, per_round, conc, "full"))
        R["full"][conc] = {k: merge(v) for k, v in res.items()}
        for k, m in R["full"][conc].items():
            log(f"   {k:8} {m['rate']:8.1f} sessions/s  p50 {m['p50']:7.2f} ms  "
                f"p99 {m['p99']:7.2f} ms  cpu {m['cpu_per']:.2f} ms/session  "
                f"slowest RETR p50 {m['slow_p50']:.1f} ms  client {100 * m['client_util']:.0f}% of a core  "
                f"others {100 * m['other_share']:.0f}% of machine  "
                f"errors {len(m['errors'])}  rounds {[round(x) for x in m['rates']]}")
        if conc == 1:
            # Is a slow RETR the server working, or waiting for the client's ACK?
            R["probe"] = {}
            for s in servers:
                R["probe"][s.name] = pr = stall_probe(s, users)
                log(f"   {s.name:8} slowest RETR per session, blocking client: "
                    f"{pr[False]:.1f} ms, with TCP_QUICKACK {pr[True]:.1f} ms")

    for conc in login_concs:
        per_round = max(1, a.logins // a.rounds)
        log(f"c) logins, {conc} client(s), {per_round} x {a.rounds} rounds per server")
        res = alternate(servers, a.rounds,
                        lambda s: measure_load(s, users, per_round, conc, "login"))
        R["login"][conc] = {k: merge(v) for k, v in res.items()}
        for k, m in R["login"][conc].items():
            log(f"   {k:8} {m['rate']:8.1f} logins/s    p50 {m['p50']:7.2f} ms  "
                f"p99 {m['p99']:7.2f} ms  cpu {m['cpu_per']:.2f} ms/login  "
                f"errors {len(m['errors'])}")

    log(f"b) {a.idle} idle sessions per server")
    R["idle"] = {}
    for s in servers:
        m = measure_idle(s, users, a.idle)
        R["idle"][s.name] = m
        log(f"   {s.name:8} opened {m['opened']}  private {m['private_per']:.1f} KiB/session"
            f"  pss {m['pss_per']:.1f} KiB/session  procs/session {m['procs_per']:.2f}"
            f"  base {m['base']['names']}  loaded {m['loaded']['names']}")
        if m["errors"]:
            notes.append(f"{s.name}: {len(m['errors'])} of {a.idle} idle sessions could "
                         f"not be opened; first: {m['errors'][0]}")

    # Notes from the data.
    for conc in concs:
        for k, m in R["full"][conc].items():
            if m["errors"]:
                errs = {}
                for e in m["errors"]:
                    errs[e] = errs.get(e, 0) + 1
                top = "; ".join(f"{n}x {e}" for e, n in
                                sorted(errs.items(), key=lambda x: -x[1])[:3])
                notes.append(f"{k}, {clients(conc)}: {len(m['errors'])} failed sessions "
                             f"({top}).")
    for conc in login_concs:
        for k, m in R["login"][conc].items():
            if m["errors"]:
                notes.append(f"{k}, logins at {clients(conc)}: {len(m['errors'])} "
                             f"failed; first: {m['errors'][0]}")
    cu = ", ".join(f"{clients(conc)}: {100 * R['full'][conc]['Postern']['client_util']:.0f}% "
                   f"(Postern) / {100 * R['full'][conc]['Dovecot']['client_util']:.0f}% "
                   f"(Dovecot)" for conc in concs)
    notes.append(f"The machine has {R['machine']['cores']} cores shared by client and "
                 f"server. The Python client used this much of one core during the full "
                 f"sessions: {cu}. Where that nears 100% the client, not the server, "
                 f"limits sessions/s and compresses the ratio; server CPU per session is "
                 f"the client-independent figure.")
    oth = [R["full"][c][k]["other_share"] for c in concs for k in ("Postern", "Dovecot")]
    oth += [R["login"][c][k]["other_share"] for c in login_concs for k in ("Postern", "Dovecot")]
    notes.append(f"CPU used by neither the client nor the measured server during the "
                 f"load phases (other processes on the machine, interrupts, the idle "
                 f"other server): {100 * min(oth):.0f}% to {100 * max(oth):.0f}% of the "
                 f"machine's {R['machine']['cores']} cores per phase. Above a few "
                 f"percent, the machine was not quiet and absolute numbers are noisy; "
                 f"the alternating rounds spread that noise over both servers.")
    pp, dp = R["probe"]["Postern"], R["probe"]["Dovecot"]
    notes.append(f"RETR probe (a plain blocking client, 5 sessions, median of the "
                 f"slowest RETR per session): Postern {pp[False]:.1f} ms, Dovecot "
                 f"{dp[False]:.1f} ms; the same with TCP_QUICKACK set before every read "
                 f"(the client never delays its ACKs): Postern {pp[True]:.1f} ms, "
                 f"Dovecot {dp[True]:.1f} ms.")
    for nm, pr in R["probe"].items():
        if pr[False] > 20 and pr[True] < pr[False] / 4:
            notes.append(f"**{nm} stalls on large RETRs**: about {pr[False]:.0f} ms per "
                         f"{LARGE_SIZE // 1024} KiB message that vanish when the client "
                         f"acknowledges at once. That is the Nagle / delayed-ACK "
                         f"interaction: the server writes a response in several chunks "
                         f"without TCP_NODELAY or TCP_CORK, the kernel holds the last "
                         f"partial segment until the previous ones are ACKed, and a "
                         f"normal client delays that ACK (~40 ms on Linux). This idle "
                         f"time, not CPU, dominates {nm}'s session latency at low "
                         f"concurrency.")
    rr = "; ".join(f"{clients(conc)}: Postern {[round(x) for x in R['full'][conc]['Postern']['rates']]}, "
                   f"Dovecot {[round(x) for x in R['full'][conc]['Dovecot']['rates']]}"
                   for conc in concs)
    notes.append(f"Sessions/s per round (spread between rounds): {rr}.")
    base_daemons = ", ".join(sorted(R["idle"]["Postern"]["base"]["names"]))
    notes.append("Postern forks and execs two processes per logged-in session by "
                 "design (privilege separation: a `postern-pop3d` protocol worker for "
                 "the connection under its own uid and seccomp, plus a "
                 "`postern-stored` per user holding the maildrop under the mail uid), "
                 f"beside its long-running daemons ({base_daemons}). Dovecot with its defaults also "
                 "forks+execs two per session (a `pop3-login` that exits after the "
                 "login, then a `pop3` mail process), so an idle logged-in session "
                 "costs Postern two processes and Dovecot one.")
    pi, di = R["idle"]["Postern"], R["idle"]["Dovecot"]
    notes.append("Baseline private memory includes the text of each long-running "
                 "Postern daemon: the binaries are static, and a binary run by one "
                 "process only is private to it. Dovecot's daemons share "
                 "libdovecot.so, which counts as shared.")
    notes.append(f"Idle memory detail: Postern with {pi['opened']} sessions had "
                 f"{pi['loaded']['procs']} processes ({fmt_names(pi['loaded']['names'])}), "
                 f"baseline {pi['base']['procs']}; Dovecot had {di['loaded']['procs']} "
                 f"({fmt_names(di['loaded']['names'])}), baseline {di['base']['procs']} "
                 f"({fmt_names(di['base']['names'])}). RSS per session: Postern "
                 f"{pi['rss_per']:.0f} KiB, Dovecot {di['rss_per']:.0f} KiB.")


def main():
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
    global BIN, DOC
    if a.doc_file:
        DOC = a.doc_file
    if a.bin:
        BIN = a.bin.resolve()
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
    concs = [1, 8, 32]
    login_concs = [1, 8]
    a.users = a.users or max(a.idle, max(concs) * 4 if a.quick else 128)
    a.users = max(a.users, a.idle, max(concs))
    write = (not a.quick or a.doc) and not a.no_doc

    if os.geteuid() != 0:
        raise BenchError("must run as root (private servers drop to uids 7001/7002/7100)")
    for b in POSTERN_BINS:
        if not os.access(BIN / b, os.X_OK):
            raise BenchError(f"{BIN / b} missing: run `make` first (or `make bench`)")
    ensure_dovecot()
    for port in (POSTERN_PORT, DOVECOT_PORT, POSTERN_TLS_PORT, DOVECOT_TLS_PORT):
        if port_in_use(port):
            raise BenchError(f"port {HOST}:{port} already in use")

    started = time.time()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes = []
    others = other_load_note()
    work = Path(tempfile.mkdtemp(prefix="pop3bench-"))
    os.chmod(work, 0o755)      # the mail uid must traverse it
    postern, dovecot = Postern(work), Dovecot(work)
    servers = [postern, dovecot]
    R = {"args": a, "concs": concs, "login_concs": login_concs, "date": date,
         "machine": machine_info(), "versions": versions(a), "full": {}, "login": {},
         "work": work}
    ok = False
    try:
        users = setup_data(work, a.users, postern, dovecot)
        for s in servers:
            s.start(*users[0])
            log(f"{s.name} up on {HOST}:{s.port} (master pid {s.proc.pid})")

        if not a.tls_only:
            run_plain_phase(R, servers, users, a, notes)
        if not a.no_tls:
            run_tls_phase(R, servers, users, a, notes)
            tls_notes(R, notes)
        for s in servers:
            counts, samples = s.log_problems()
            if counts:
                notes.append(f"{s.name} log warnings/errors: {counts}; first lines: "
                             + " / ".join(f"`{x[:200]}`" for x in samples[:3]))
            else:
                notes.append(f"{s.name} logged no warnings or errors during the run.")
        if others:
            kinds = sorted({os.path.basename(o) for o in others})
            notes.append(f"{len(others)} other Postern/Dovecot processes (not this "
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

    rows = build_rows(R) if not a.tls_only else []
    trows = tls_rows(R) if not a.no_tls else []
    print()
    if rows:
        print(table_text(rows))
        print()
    if trows:
        print(table_text([(m, p, d, r, "") for m, p, d, r in trows]))
        print()
    for n in notes:
        print(f"- {n}")
    if write:
        write_doc(section_md(R, rows, trows))
        log(f"\nwrote {DOC}")
    return 0


def _sigterm(signum, frame):
    raise SystemExit(f"killed by signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"pop3bench: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("pop3bench: interrupted", file=sys.stderr)
        sys.exit(130)
