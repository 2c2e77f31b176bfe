"""A real Postern appliance on loopback for one test class.

Appliance(conf_overrides) writes a config under a fresh temp dir, creates
users with posternctl, starts postern-master, and waits (by polling the
port with a deadline, never a fixed sleep) until POP3 answers.  Log lines
are read from the master's stderr file; wait_log() polls for a pattern.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(TOP, "build", "bin")
TOOLS = os.path.join(TOP, "build", "tests")
MAIL_UID = 7100


_recent_ports = []


def free_port():
    """A port nothing listens on now, and not one this process handed out in
    its last 256 calls: free_port() reserves nothing, so two calls for one
    appliance (its four ports, a test's pop3s_listen) could give the same
    port and the master would refuse its listen list."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _recent_ports:
            _recent_ports.append(port)
            del _recent_ports[:-256]
            return port


def wait_until(pred, timeout=10.0, what="condition"):
    """Poll pred() until true; raise with a message at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


# What the deliver view of stored writes ahead of each copy (docs/SMTP.md)
DELIVERY_HEADERS = re.compile(rb"^Return-Path: <([^>\n]*)>\nDelivered-To: (\S+)\n")


def delivery_headers(data, user=None):
    """Split a delivered file into its Return-Path sender, its Delivered-To
    recipient and the rest (the message as it came); with user, check that
    the copy is that user's (a bare name is in localhost)."""
    m = DELIVERY_HEADERS.match(data)
    assert m is not None, "no Return-Path/Delivered-To: %r" % data[:200]
    if user is not None:
        want = user if "@" in user else user + "@localhost"
        assert m.group(2).decode() == want, (m.group(2), want)
    return m.group(1), m.group(2), data[m.end():]


def make_message(subject, body, to="demo@localhost", extra_headers=""):
    return ("From: Sender <sender@example.org>\nTo: %s\nSubject: %s\n"
            "Message-ID: <%s@test>\n%s\n%s" % (to, subject, abs(hash(subject)), extra_headers, body))


class Appliance:
    def __init__(self, overrides=None, users=(("demo", "demo"), ("demo2", "demo2")), run_as=None,
                 seed=True):
        self.run_as = run_as  # a uid: start the master without root (setpriv)
        self.dir = tempfile.mkdtemp(prefix="postern-test-")
        os.chmod(self.dir, 0o755)
        # four different ports: free_port() reserves nothing, so two calls
        # may give the same one (the master then refuses the listen list)
        ports = []
        while len(ports) < 4:
            p = free_port()
            if p not in ports:
                ports.append(p)
        self.port, self.imap_port, self.imaps_port, self.smtp_port = ports
        # (smtp_port is never 25: every appliance has its own)
        self.conf = os.path.join(self.dir, "postern.conf")
        self.empty = os.path.join(self.dir, "empty")
        self.mail = os.path.join(self.dir, "mail")
        settings = {
            "state_dir": os.path.join(self.dir, "state"),
            "userdb": os.path.join(self.dir, "state", "userdb"),
            "mail_root": self.mail + "/%d/%n",
            "empty_root": self.empty,
            "default_domain": "localhost",
            "pop3_listen": "127.0.0.1:%d" % self.port,
            "imap_listen": "127.0.0.1:%d" % self.imap_port,
            "imaps_listen": "127.0.0.1:%d" % self.imaps_port,
            "smtp_listen": "127.0.0.1:%d" % self.smtp_port,
            "auth_fail_delay_ms": "0",
            "pop3_idle_timeout": "60",
            "tls_plaintext_loopback": "yes",
        }
        settings.update(overrides or {})
        self.settings = settings
        self.write_conf()
        if seed:  # seed=False: no user db yet (for `posternctl restore`)
            self.ctl("domain", "add", "localhost")
            for u, p in users:
                self.ctl("user", "add", u, "-p", p)
        self.proc = None
        self.logpath = os.path.join(self.dir, "master.log")

    def write_conf(self):
        with open(self.conf, "w") as f:
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))

    def ctl(self, *args, input=None, check=True):
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", self.conf] + list(args),
                           capture_output=True, text=True, errors="replace", input=input, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("posternctl %s failed: %s" % (args, r.stderr))
        return r

    def maildir(self, user="demo", domain="localhost"):
        return os.path.join(self.mail, domain, user)

    def deliver(self, user, text):
        r = self.ctl("deliver", user, input=text)
        return r.stdout.strip().split("/new/")[-1]

    def env(self):
        """The settings as POSTERN_* variables (for `-c none`)."""
        return {"POSTERN_" + k.upper(): v for k, v in self.settings.items()}

    def start(self, greeting_probe=b"", pass_fds=(), env_only=False):
        self.probe = greeting_probe  # bytes a PROXY listener needs first
        self.logf = open(self.logpath, "ab")
        cmd = [os.path.join(BIN, "postern-master"), "-c", "none" if env_only else self.conf]
        env = dict(os.environ, **self.env()) if env_only else None
        if self.run_as is not None:
            subprocess.run(["chown", "-R", "%d:%d" % (self.run_as, self.run_as), self.dir], check=True)
            cmd = ["setpriv", "--reuid=%d" % self.run_as, "--regid=%d" % self.run_as,
                   "--clear-groups", "--inh-caps=-all"] + cmd
        # pass_fds: descriptors a careless launcher leaks to the master
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.logf, pass_fds=pass_fds,
                                     env=env)
        try:
            wait_until(self._greets, 15, "POP3 greeting on port %d" % self.port)
            wait_until(lambda: self.authd_pid(), 10, "authd ready")
        except BaseException:
            self.cleanup()  # a failed setUpClass gets no tearDownClass: never leak a master
            raise
        return self

    def _greets(self):
        if self.proc.poll() is not None:
            raise AssertionError("master exited: " + self.log())
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                if self.probe:
                    s.sendall(self.probe)
                return s.recv(100).startswith(b"+OK")
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- logs ------------------------------------------------------------
    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Wait for a log line matching pattern after byte offset start; return the match."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.log()[start:]), timeout, "log /%s/" % pattern)

    def log_mark(self):
        return len(self.log())

    def authd_pid(self):
        m = re.findall(r"proc=authd pid=(\d+) level=info event=ready", self.log())
        if not m:
            # log_level above info hides the ready line: the master's child
            # of that name (only then: before that line authd may not have
            # confined itself yet)
            if self.settings.get("log_level") in ("warn", "error"):
                return self.child_pid("postern-authd")
            return None
        pid = int(m[-1])
        return pid if os.path.exists("/proc/%d" % pid) else None

    def children(self, comm):
        """The pids of the master's children whose name is comm (ascending)."""
        if not self.proc or self.proc.poll() is not None:
            return []
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if ppid == self.proc.pid and name == comm[:15]:
                out.append(int(d))
        return sorted(out)

    def child_pid(self, comm):
        """The pid of the master's newest child whose name is comm, or None."""
        pids = self.children(comm)
        return pids[-1] if pids else None

    # -- POP3 raw client ---------------------------------------------------
    def connect(self, source=None):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10,
                                     source_address=(source, 0) if source else None)
        f = s.makefile("rb")
        greet = f.readline()
        assert greet.startswith(b"+OK"), greet
        return s, f


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def command(sock, f, line, multiline=False):
    sock.sendall(line if isinstance(line, bytes) else line.encode() + b"\r\n")
    first = f.readline()
    if not multiline or not first.startswith(b"+OK"):
        return first, []
    lines = []
    while True:
        l = f.readline()
        if l in (b".\r\n", b""):
            break
        lines.append(l)
    return first, lines


# -- the hostile worker (tests/tools/hostile_worker.c, pop3_worker = ...) ---
def hostile_session(app):
    """Connect to an appliance whose worker is the hostile one; returns the
    socket, its file, the session id and the log mark before it."""
    mark = app.log_mark()
    s = socket.create_connection(("127.0.0.1", app.port), timeout=15)
    f = s.makefile("rb")
    line = f.readline()
    if line != b"+OK hostile worker ready\n":
        raise AssertionError("no hostile worker: %r" % line)
    sid = app.wait_log(r"sid=(\w+) level=info event=connect", start=mark).group(1)
    return s, f, sid, mark


def hostile_ask(s, f, line):
    """One command to the hostile worker, its one-line report."""
    s.sendall(line.encode() + b"\n")
    return f.readline().decode().strip()


def imap_login_result(app, user, password, select=False):
    """"OK", or the server's NO/BAD text, of an IMAP LOGIN (and a SELECT
    INBOX that must succeed, when select)."""
    import imaplib
    c = imaplib.IMAP4("127.0.0.1", app.imap_port, timeout=20)
    try:
        c.login(user, password)
        if select:
            typ, _ = c.select("INBOX")
            assert typ == "OK", typ
        c.logout()
        return "OK"
    except imaplib.IMAP4.error as e:
        return str(e)
    finally:
        try:
            c.shutdown()
        except OSError:
            pass


def pop3_login_result(app, user, password, stat=False):
    """"OK" (or, with stat, the message count), or the -ERR text, of a POP3
    USER/PASS."""
    import poplib
    c = poplib.POP3("127.0.0.1", app.port, timeout=20)
    try:
        c.user(user)
        c.pass_(password)
        n = c.stat()[0] if stat else "OK"
        c.quit()
        return n
    except poplib.error_proto as e:
        c.close()
        return e.args[0].decode()
