"""Private server instances under one work directory: Postern, Dovecot, Courier.

Each class writes its own config (plaintext, or one TLS case), starts the
server in a session of its own, knows which processes are its own and which
are per-session, and stops everything it started.  Ports are per instance.
An instance serves one protocol, proto "pop3" (the default) or "imap": port
is then that protocol's plaintext port (IMAP has no TLS case yet), and the
IMAP setups share one namespace, "INBOX." with separator "." (Courier's, so
one client script works on all three; Dovecot's is set to the same).
"""

import grp
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from . import HOST, ROOT, BenchError, log
from .procfs import proc_exe, proc_name, read_stat, read_stat_split, smaps_rollup, \
    start_time, tree

MAIL_UID = 7100
MAIL_GID = 7100
START_TIMEOUT = 20.0        # server start until a login works
DRAIN_TIMEOUT = 20.0        # session processes gone after a phase
BIN = ROOT / "build" / "bin"
CACHE = ROOT / "build" / "bench-cache"


def free_port():
    """A loopback TCP port nothing listens on now (the kernel's choice)."""
    s = socket.socket()
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_in_use(port):
    s = socket.socket()
    try:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0
    finally:
        s.close()


def run_cmd(argv, what, timeout=60, **kw):
    """subprocess.run that raises BenchError with stderr on failure."""
    try:
        r = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"{what}: {e}")
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip() if isinstance(r.stderr, bytes) \
            else (r.stderr or "").strip()
        raise BenchError(f"{what} failed (status {r.returncode}): {err}")
    return r


def chown_tree(top, uid=MAIL_UID, gid=MAIL_GID):
    for dirpath, _dirs, files in os.walk(top):
        os.chown(dirpath, uid, gid)
        os.chmod(dirpath, 0o700)
        for fn in files:
            p = os.path.join(dirpath, fn)
            os.chown(p, uid, gid)
            os.chmod(p, 0o600)


class Server:
    """One private instance.  Subclasses set name/letter and implement
    argv, write_conf, maildir, log_path, is_session_proc, log_problems."""
    name = "?"
    letter = "?"

    def __init__(self, work, port, tls_port, proto="pop3"):
        if proto not in ("pop3", "imap"):
            raise BenchError(f"unknown protocol {proto}")
        self.proto = proto
        self.work = work
        self.port = port
        self.tls_port = tls_port
        self.proc = None
        self.logf = None
        self.log_start = 0
        self.tls = None     # a TLS case (see tlsbench.make_certs) while TLS is configured

    # -- processes -----------------------------------------------------------
    def pids(self):
        if not self.proc or self.proc.poll() is not None:
            return []
        return [p for p in tree(self.proc.pid) if self.is_ours(p)]

    def is_ours(self, pid):
        return True

    def is_session_proc(self, pid):
        raise NotImplementedError

    def short_name(self, pid):
        return proc_name(pid)

    def mem_name(self, pid):
        return proc_name(pid)

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

    def memory(self):
        """Summed KiB over all processes: private, pss, rss, and process count;
        by_name: {process name: {private, dirty (Private_Dirty), pss}}."""
        priv = pss = rss = n = 0
        names, by_name = {}, {}
        for pid in self.pids():
            v = smaps_rollup(pid)
            if v is None:
                continue
            n += 1
            p = v.get("Private_Clean", 0) + v.get("Private_Dirty", 0)
            priv += p
            pss += v.get("Pss", 0)
            rss += v.get("Rss", 0)
            nm = self.mem_name(pid)
            names[nm] = names.get(nm, 0) + 1
            b = by_name.setdefault(nm, {"private": 0, "dirty": 0, "pss": 0})
            b["private"] += p
            b["dirty"] += v.get("Private_Dirty", 0)
            b["pss"] += v.get("Pss", 0)
        return {"private": priv, "pss": pss, "rss": rss, "procs": n, "names": names,
                "by_name": by_name}

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

    def wait_stable(self, timeout=15.0):
        """Wait until the process count has not changed for 0.5s."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            n = len(self.pids())
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= 0.5:
                return True
            time.sleep(0.1)
        return False

    def check_alive(self):
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise BenchError(f"{self.name} master is not running (exit status {rc}); "
                             f"log: {self.log_path()}\n{self.log_tail()}")

    # -- logs ----------------------------------------------------------------
    def log_path(self):
        raise NotImplementedError

    def server_stdout(self):
        return self.log_path()

    def log_tail(self, n=15):
        try:
            with open(self.log_path(), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def log_problems(self):
        """({kind: count}, [first lines]) of warnings and errors in the logs."""
        raise NotImplementedError

    def _grep_logs(self, paths, key):
        """Count the lines for which key(line) gives a kind (None: skip)."""
        counts, samples = {}, []
        for path in paths:
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        k = key(line)
                        if k is None:
                            continue
                        counts[k] = counts.get(k, 0) + 1
                        if len(samples) < 8:
                            samples.append(line.rstrip())
            except OSError:
                pass
        return counts, samples

    @staticmethod
    def _match(pattern, skip=()):
        """A key for _grep_logs: the pattern's first group, unless a skip text is in the line."""
        def key(line):
            m = re.search(pattern, line)
            return None if not m or any(x in line for x in skip) else m.group(1)
        return key

    # -- start / stop --------------------------------------------------------
    def env(self):
        return None

    def tls_ready(self):
        return True

    def start(self, probe):
        """Start and wait until probe(server, port) -> (ok, detail) succeeds
        on the TLS port when TLS is configured, else on the plain port."""
        port = self.tls_port if self.tls else self.port
        for p in {self.port, port}:
            # the instance of the previous certificate may still be closing
            # its listener on a loaded machine: a few seconds' grace
            deadline = time.monotonic() + 5.0
            while port_in_use(p) and time.monotonic() < deadline:
                time.sleep(0.1)
            if port_in_use(p):
                raise BenchError(f"port {HOST}:{p} is already in use; "
                                 f"is an earlier benchmark still running?")
        self.logf = open(self.server_stdout(), "ab")
        self.log_start = self.logf.tell()
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=self.logf, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=self.env())
        except OSError as e:
            raise BenchError(f"cannot start {self.name}: {' '.join(self.argv())}: {e}")
        deadline = time.monotonic() + START_TIMEOUT
        last = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited during start-up with status "
                                 f"{self.proc.returncode}; log {self.log_path()}:\n"
                                 f"{self.log_tail()}")
            if self.tls and not self.tls_ready():
                ok, last = False, "TLS keys not loaded yet"
            else:
                ok, last = probe(self, port)
            if ok:
                return
            time.sleep(0.05)
        raise BenchError(f"{self.name} did not accept a login on {HOST}:{port}"
                         f"{' (implicit TLS)' if self.tls else ''} "
                         f"within {START_TIMEOUT:.0f}s (last: {last}); log "
                         f"{self.log_path()}:\n{self.log_tail()}")

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
        # SIGKILL takes a moment to land: give the group a second before
        # calling anything still there a leftover.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and any(
                st is not None and start_time(pid) == st for pid, st in ours):
            time.sleep(0.02)
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


# ----------------------------------------------------------------------------

class Postern(Server):
    name = "Postern"
    letter = "P"

    def __init__(self, work, port=21110, tls_port=21995, bin_dir=None, overrides=None,
                 proto="pop3"):
        super().__init__(work, port, tls_port, proto)
        self.dir = work / "postern"
        self.conf = self.dir / "postern.conf"
        self.src_bin = bin_dir or BIN
        # A private copy of build/bin, so that a rebuild during the run (make in
        # another shell) cannot swap binaries under the running server.
        self.bin = work / "bin"
        self.overrides = dict(overrides or {})

    REQUIRED = ("postern-master", "postern-authd", "postern-pop3d", "postern-stored",
                "posternctl")

    def check_binaries(self):
        req = self.REQUIRED if self.proto == "pop3" else tuple(
            "postern-imapd" if b == "postern-pop3d" else b for b in self.REQUIRED)
        for b in req:
            if not os.access(self.src_bin / b, os.X_OK):
                raise BenchError(f"{self.src_bin / b} missing: run `make` first "
                                 f"(or `make bench`)")

    def ctl(self, *args, stdin=None):
        r = run_cmd([str(self.bin / "posternctl"), "-c", str(self.conf), *args],
                    f"posternctl {' '.join(args[:3])}", input=stdin)
        return r.stdout.decode(errors="replace")

    def setup(self):
        self.bin.mkdir()
        # Every daemon the master may spawn (the set grows with the project).
        for f in sorted(self.src_bin.iterdir()):
            if f.is_file() and os.access(f, os.X_OK) and (
                    f.name.startswith("postern-") or f.name == "posternctl"):
                shutil.copy2(f, self.bin / f.name)
        (self.dir / "state").mkdir(parents=True)
        (self.dir / "mail").mkdir()
        self.write_conf(None)
        self.ctl("domain", "add", "localhost")

    def add_user(self, user, pw):
        self.ctl("user", "add", user, "-p", pw, "-s", "sha512")

    def deliver(self, user, msg):
        self.ctl("deliver", user, stdin=msg)

    def write_conf(self, tls):
        """tls None: the plaintext benchmark's config; else a TLS case: an
        implicit-TLS listener with that certificate, TLS required.
        self.overrides (key -> value) replace or add keys at the end."""
        self.tls = tls
        keys = {"state_dir": f"{self.dir}/state", "userdb": f"{self.dir}/state/userdb",
                "mail_root": f"{self.dir}/mail/%d/%n", "empty_root": f"{self.dir}/empty",
                "default_domain": "localhost",
                "pop3_listen": f"{HOST}:{self.port}" if self.proto == "pop3" else "",
                "auth_fail_delay_ms": "0", "max_daemons": "1000", "max_per_ip": "1000",
                # the others have no global cap on password checks: lift ours
                "auth_max_checks_per_second": "100000",
                # ESMTP listens on 0.0.0.0:25 by default: not in a POP3 or IMAP bench
                # (another bench's Postern may hold the port)
                "smtp_listen": ""}
        if self.proto == "imap":
            if tls is not None:
                raise BenchError("Postern: no TLS case for IMAP in the bench yet")
            keys.update({"imap_listen": f"{HOST}:{self.port}", "imap_tls_required": "no",
                         "imap_namespace": "INBOX.", "imap_separator": "."})
        elif os.access(self.src_bin / "postern-imapd", os.X_OK):
            # A binary with IMAP listens on 0.0.0.0:143 by default: not in a POP3 bench.
            keys["imap_listen"] = ""
        extra = {k: v for k, v in self.overrides.items() if k not in keys}
        keys.update({k: v for k, v in self.overrides.items() if k in keys})
        text = "# written by bench/lib/servers.py\n"
        text += "".join(f"{k} = {v}\n" for k, v in keys.items())
        if self.proto == "imap":
            text += "# plaintext LOGIN without TLS, like Dovecot's disable_plaintext_auth = no\n"
        elif tls is None:
            text += ("# plaintext USER/PASS without TLS, like Dovecot's disable_plaintext_auth = no\n"
                     "pop3_tls_required = no\n")
        else:
            text += (f"# TLS handshake benchmark ({tls['label']}), like Dovecot's ssl = required\n"
                     f"pop3s_listen = {HOST}:{self.tls_port}\n"
                     f"tls_cert_file = {tls['cert']}\n"
                     f"tls_key_file = {tls['key']}\n"
                     f"pop3_tls_required = yes\n")
        text += "".join(f"{k} = {v}\n" for k, v in extra.items())
        self.conf.write_text(text)

    def maildir(self, user):
        return self.dir / "mail" / "localhost" / user

    def argv(self):
        return [str(self.bin / "postern-master"), "-c", str(self.conf)]

    def log_path(self):
        return self.dir / "master.log"

    def is_ours(self, pid):
        return os.path.dirname(proc_exe(pid)) == str(self.bin)

    def is_session_proc(self, pid):
        return os.path.basename(proc_exe(pid)) in ("postern-pop3d", "postern-imapd",
                                                    "postern-stored")

    def short_name(self, pid):
        return os.path.basename(proc_exe(pid))

    def mem_name(self, pid):
        return os.path.basename(proc_name(pid))

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
        def key(line):
            if "event=tls_selfsigned" in line:
                return None     # expected: no certificate configured, TLS unused
            m = re.search(r"level=(warn|warning|error|crit|fatal)\b", line)
            if not m and "signal" not in line:
                return None
            ev = re.search(r"event=(\S+)", line)
            return f"{m.group(1) if m else 'info'} {ev.group(1) if ev else '?'}"
        return self._grep_logs((self.log_path(),), key)


def sha512_crypt(pw):
    """SHA512-CRYPT ($6$, default 5000 rounds) made by doveadm, without the
    {SHA512-CRYPT} scheme prefix."""
    r = run_cmd(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", pw], "doveadm pw", text=True)
    h = r.stdout.strip()
    return h[len("{SHA512-CRYPT}"):] if h.startswith("{SHA512-CRYPT}") else h


def dpkg_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def stop_system_service(svc):
    """Stop and disable a system instance a package's postinst may have
    started (the bench runs private instances only); errors are ignored:
    without systemd or an init script there is nothing to stop."""
    for argv in (["systemctl", "disable", "--now", svc], ["service", svc, "stop"],
                 ["update-rc.d", svc, "disable"]):
        if shutil.which(argv[0]):
            subprocess.run(argv, capture_output=True, timeout=60)


def ensure_packages(pkgs, check_bins=(), services=()):
    """apt-get install pkgs if any is missing (Dovecot for the comparison);
    after an install, the system services it may have started are stopped
    and disabled."""
    def installed():
        for p in pkgs:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                               capture_output=True, text=True)
            if "install ok installed" not in r.stdout:
                return False
        return all(shutil.which(b) for b in check_bins)
    if installed():
        return
    log(f"installing {' '.join(pkgs)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *pkgs]
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env)
        if subprocess.run(cmd, env=env).returncode != 0:
            raise BenchError(f"apt-get install {' '.join(pkgs)} failed")
    for svc in services:
        stop_system_service(svc)
    if not installed():
        raise BenchError(f"{' '.join(pkgs)} still not installed")


class Dovecot(Server):
    name = "Dovecot"
    letter = "D"
    PACKAGES = ("dovecot-core", "dovecot-pop3d", "dovecot-imapd")

    def __init__(self, work, port=21111, tls_port=21996, fast=False, proto="pop3"):
        super().__init__(work, port, tls_port, proto)
        # fast: the "high-performance" login mode a speed-minded admin sets
        # (one pop3-login process serves many connections); issue 15.
        self.fast = fast
        if fast:
            self.name, self.letter = "Dovecot HP", "H"
        self.dir = work / ("dovecot-hp" if fast else "dovecot")
        self.conf = self.dir / "dovecot.conf"
        self.users = self.dir / "users"

    @classmethod
    def ensure_installed(cls):
        ensure_packages(cls.PACKAGES, ("dovecot", "doveadm"), services=("dovecot",))

    def version(self):
        return dpkg_version(f"dovecot-{self.proto}d")

    def setup(self, users, hashes):
        """users [(name, password)], hashes {name: $6$ hash}."""
        (self.dir / "mail").mkdir(parents=True)
        lines = []
        for user, _pw in users:
            home = self.dir / "mail" / user
            lines.append(f"{user}:{{SHA512-CRYPT}}{hashes[user]}:{MAIL_UID}:{MAIL_GID}::"
                         f"{home}::\n")
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
        proto = self.proto
        if tls is not None and proto != "pop3":
            raise BenchError("Dovecot: no TLS case for IMAP in the bench yet")
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
        self.conf.write_text(f"""# written by bench/lib/servers.py; everything not set here is Dovecot's default
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = {proto}
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
{self.namespace_conf()}service {proto}-login {{
{self.fast_conf()}  inet_listener {proto} {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener {proto}s {{
    {pop3s}
  }}
}}
""")

    def namespace_conf(self):
        """IMAP: Courier's namespace (INBOX. with separator .), so that one
        client works on every server; Maildir++ folders .Name on disk."""
        if self.proto != "imap":
            return ""
        return ("namespace inbox {\n  inbox = yes\n  prefix = INBOX.\n  separator = .\n}\n")

    def fast_conf(self):
        if not self.fast:
            return ""
        return (f"  service_count = 0\n"
                f"  process_min_avail = {len(os.sched_getaffinity(0))}\n"
                f"  client_limit = 4000\n")

    def maildir(self, user):
        return self.dir / "mail" / user

    def argv(self):
        return ["dovecot", "-F", "-c", str(self.conf)]

    def server_stdout(self):
        return self.dir / "stdout.log"

    def log_path(self):
        return self.dir / "dovecot.log"

    def is_session_proc(self, pid):
        # In fast mode the pop3-login processes stay (process_min_avail).
        p = self.proto
        kinds = (f"dovecot/{p}",) if self.fast else (f"dovecot/{p}", f"dovecot/{p}-login")
        return proc_name(pid) in kinds

    def log_problems(self):
        return self._grep_logs((self.log_path(), self.server_stdout()),
                               self._match(r": (Warning|Error|Fatal|Panic):",
                                           skip=("Killed with signal 15",)))  # our SIGTERM


# ----------------------------------------------------------------------------
# Courier: courier-pop conflicts with dovecot-pop3d as packages, so its .debs
# are downloaded into build/bench-cache/courier and unpacked into the work
# directory.  authlib has /etc/courier/authdaemonrc, /etc/courier/userdb.dat,
# /run/courier/authdaemon/socket and /usr/lib/courier-authlib (its modules)
# compiled in, so the whole instance runs in a private mount namespace
# (unshare -m) where read-only overlays put the unpacked /usr in front of the
# real one and writable overlays with private upper directories cover /etc
# and /run.  Nothing outside the work directory changes.  courier-imap is
# handled the same way: it conflicts with imap-server (dovecot-imapd), and
# unpacked it starts no system imapd on 143/993.  Its imapd takes folder
# locks and watches through FAM (Debian's courier-imap depends on gamin):
# libgamin starts a gam_server per user, which daemonizes out of the
# process tree but stays in the instance's mount namespace, so the processes
# of an instance are those of that namespace.  gamin names its socket after
# the user, so the mail uid gets a passwd entry in the private /etc.

COURIER_DEBS = ("courier-pop", "courier-base", "courier-authlib", "courier-authlib-userdb",
                "courier-authdaemon", "libcourier-unicode4", "libidn12", "libgamin0",
                "libltdl7", "courier-imap", "gamin")
COURIER_SESSION = ("courierpop3login", "courierpop3d", "couriertls", "imaplogin", "imapd")


def courier_debs():
    """The cached .deb files, downloaded with apt-get download if missing.
    Returns {package: path}."""
    d = CACHE / "courier"
    d.mkdir(parents=True, exist_ok=True)
    have = {}
    for f in d.glob("*.deb"):
        have[f.name.split("_")[0]] = f
    missing = [p for p in COURIER_DEBS if p not in have]
    if missing:
        log(f"courier: apt-get download {' '.join(missing)} into {d}")
        r = subprocess.run(["apt-get", "download", *missing], cwd=d, capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            raise BenchError(f"Courier: apt-get download {' '.join(missing)} failed "
                             f"(no Debian mirror? --no-courier runs without Courier): "
                             f"{r.stderr.strip()[-400:]}")
        for f in d.glob("*.deb"):
            have[f.name.split("_")[0]] = f
    return {p: have[p] for p in COURIER_DEBS}


def _mnt_ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


class Courier(Server):
    name = "Courier"
    letter = "C"

    def __init__(self, work, port=21112, tls_port=21997, proto="pop3", imap_env=None):
        super().__init__(work, port, tls_port, proto)
        # IMAP: settings over Debian's /etc/courier/imapd, {name: value}.
        self.imap_env = "".join(f"{k}={v}; " for k, v in (imap_env or {}).items())
        self.dir = work / "courier"
        self.root = self.dir / "root"           # the unpacked packages
        self.etc = self.dir / "etc-upper"       # overlay upper over /etc
        self.debs = {}

    def version(self):
        deb = self.debs.get("courier-pop" if self.proto == "pop3" else "courier-imap")
        if not deb:
            return "?"
        r = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True,
                           text=True)
        return r.stdout.strip() or "?"

    def _mounts(self):
        """Shell lines that build the private file system view."""
        d = self.dir
        return (f"set -e\n"
                f"mount -t overlay overlay -o lowerdir={self.root}/usr:/usr /usr\n"
                f"mount -t overlay overlay -o lowerdir=/etc,upperdir={self.etc},"
                f"workdir={d}/etc-work /etc\n"
                f"mount -t overlay overlay -o lowerdir=/run,upperdir={d}/run-upper,"
                f"workdir={d}/run-work /run\n")

    def _in_namespace(self, script, what):
        try:
            r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                self._mounts() + script],
                               capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BenchError(f"Courier: {what}: {e}")
        if r.returncode != 0:
            raise BenchError(f"Courier: {what} failed (status {r.returncode}) in a private "
                             f"mount namespace: {(r.stdout + r.stderr).strip()[-600:]}")
        return r.stdout

    def setup(self, users, hashes):
        """Unpack, write authdaemonrc and the userdb (same $6$ hashes), run
        makeuserdb, make the Maildirs' parent directories."""
        if not shutil.which("unshare"):
            raise BenchError("Courier: unshare(1) (util-linux) is missing")
        self.debs = courier_debs()
        for sub in ("etc-work", "run-upper/courier/authdaemon", "run-work", "mail"):
            (self.dir / sub).mkdir(parents=True)
        (self.etc / "courier").mkdir(parents=True)
        for deb in self.debs.values():
            run_cmd(["dpkg-deb", "-x", str(deb), str(self.root)], f"dpkg-deb -x {deb.name}")
        (self.etc / "courier" / "authdaemonrc").write_text(
            "# written by bench/lib/servers.py: userdb only, no PAM\n"
            'authmodulelist="authuserdb"\n'
            "daemons=5\n"
            "authdaemonvar=/run/courier/authdaemon\n"
            "DEBUG_LOGIN=0\n"
            'DEFAULTOPTIONS=""\n'
            'LOGGEROPTS=""\n')
        lines = []
        for user, _pw in users:
            home = self.dir / "mail" / user
            lines.append(f"{user}\tuid={MAIL_UID}|gid={MAIL_GID}|home={home}|"
                         f"mail={home}/Maildir|systempw={hashes[user]}\n")
        # imapd's settings as Debian ships them (/etc/courier/imapd in the namespace).
        shutil.copy2(self.root / "etc" / "courier" / "imapd", self.etc / "courier" / "imapd")
        with open("/etc/passwd") as f:
            pw = f.read()
        if not any(line.split(":")[2:3] == [str(MAIL_UID)] for line in pw.splitlines()):
            pw += f"benchmail:x:{MAIL_UID}:{MAIL_GID}:bench mail:/nonexistent:/usr/sbin/nologin\n"
        (self.etc / "passwd").write_text(pw)
        os.chmod(self.etc / "passwd", 0o644)
        udb = self.etc / "courier" / "userdb"
        udb.write_text("".join(lines))
        os.chmod(udb, 0o600)
        self._in_namespace("/usr/sbin/makeuserdb\n", "makeuserdb")
        if not (self.etc / "courier" / "userdb.dat").exists():
            raise BenchError("Courier: makeuserdb made no userdb.dat")
        self.write_conf(None)

    def write_conf(self, tls):
        """The start script: authdaemond, then couriertcpd on the plain port
        (and, with a TLS case, a second couriertcpd running couriertls on the
        implicit-TLS port, the way Courier's pop3d-ssl script does)."""
        self.tls = tls
        if self.proto == "imap":
            return self._write_imap_conf(tls)
        common = ("PATH=/usr/bin:/bin POP3AUTH= POP3AUTH_TLS= POP3_PROXY=0 "
                  "MIME_UNICODE_MESSAGE_TYPE=message/global")
        tcpd = (f"/usr/sbin/couriertcpd -address={HOST} -maxprocs=1000 -maxperip=1000 "
                f"-nodnslookup -noidentlookup")
        login = "/usr/lib/courier/courier/courierpop3login /usr/lib/courier/courier/courierpop3d"
        plain = f"env -i {common} {tcpd} {self.port} {login} Maildir"
        script = (self._mounts() +
                  "/usr/lib/courier/courier-authlib/authdaemond &\n"
                  "i=0; while [ ! -S /run/courier/authdaemon/socket ] && [ $i -lt 100 ]; do "
                  "sleep 0.05; i=$((i+1)); done\n")
        if tls is None:
            script += f"exec {plain}\n"
        else:
            pem = self.dir / f"{tls['id']}.pem"
            pem.write_bytes(tls["key"].read_bytes() + tls["cert"].read_bytes())
            os.chmod(pem, 0o600)
            tls_env = (f"{common} POP3_TLS=1 POP3_STARTTLS=NO POP3_TLS_REQUIRED=0 "
                       f"TLS_CERTFILE={pem} TLS_VERIFYPEER=NONE")
            script += (f"{plain} &\n"
                       f"exec env -i {tls_env} {tcpd} {self.tls_port} /usr/bin/couriertls "
                       f"-server -tcpd {login} Maildir\n")
        (self.dir / "start.sh").write_text("# written by bench/lib/servers.py\n" + script)

    def _write_imap_conf(self, tls):
        """Debian's /usr/lib/courier/imapd start, without courierlogger and the
        access file: Debian's /etc/courier/imapd read as the environment
        (IMAP_CAPABILITY, IMAP_KEYWORDS, IMAP_USELOCKS, IMAP_ULIMITD ...), no
        STARTTLS, couriertcpd in the foreground with our limits."""
        if tls is not None:
            raise BenchError("Courier: no TLS case for IMAP in the bench yet")
        tcpd = (f"/usr/sbin/couriertcpd -address={HOST} -maxprocs=1000 -maxperip=1000 "
                f"-nodnslookup -noidentlookup")
        script = (self._mounts() +
                  "/usr/lib/courier/courier-authlib/authdaemond &\n"
                  "i=0; while [ ! -S /run/courier/authdaemon/socket ] && [ $i -lt 100 ]; do "
                  "sleep 0.05; i=$((i+1)); done\n"
                  f"exec env -i PATH=/usr/bin:/bin /bin/sh -c 'set -a; . /etc/courier/imapd; "
                  f"IMAP_STARTTLS=NO; IMAP_TLS_REQUIRED=0; {self.imap_env}umask $IMAP_UMASK; "
                  f"ulimit -v $IMAP_ULIMITD; exec {tcpd} {self.port} "
                  f"/usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir'\n")
        (self.dir / "start.sh").write_text("# written by bench/lib/servers.py\n" + script)

    def maildir(self, user):
        return self.dir / "mail" / user / "Maildir"

    def argv(self):
        return ["unshare", "-m", "--propagation", "private", "sh", str(self.dir / "start.sh")]

    def log_path(self):
        return self.dir / "courier.log"

    def short_name(self, pid):
        return os.path.basename(proc_exe(pid)) or proc_name(pid)

    def mem_name(self, pid):
        return self.short_name(pid)

    def pids(self):
        """The process tree, plus every other process in the instance's
        mount namespace (gam_server daemonizes out of the tree)."""
        if not self.proc or self.proc.poll() is not None:
            return []
        out = tree(self.proc.pid)
        ns = _mnt_ns(self.proc.pid)
        if ns is None or ns == _mnt_ns(os.getpid()):
            return out
        have = set(out)
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in have and _mnt_ns(int(name)) == ns:
                out.append(int(name))
        return out

    def is_session_proc(self, pid):
        return self.short_name(pid) in COURIER_SESSION

    def log_problems(self):
        return self._grep_logs((self.log_path(),),
                               self._match(r"\b(ERR|ERROR|WARN|CRIT|ALERT|EMERG|[Ee]rror)\b"))
