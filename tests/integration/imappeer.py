"""Which IMAP server the IMAP tests talk to.

`make test` runs them against Postern (harness.Appliance).  With
PTEST_IMAP_PEER=dovecot they run against a private Dovecot instance instead
(DovecotPeer below), to check that the expectations are what an RFC-conforming
server does.  Both give the same small interface:

    peer.imap_port, peer.imaps_port      plaintext (STARTTLS) and implicit TLS, 127.0.0.1
    peer.deliver(user, text)             one message into the user's INBOX (new/)
    peer.maildir(user)                   the user's Maildir++ root
    peer.add_user(name, password)        a fresh user
    peer.mail_uid                        the owner files written by a test must have
    peer.name                            "postern" or "dovecot"
    peer.cleanup()

Standalone: `python3 tests/integration/imappeer.py` starts a Dovecot peer and
prints its ports until interrupted (for poking at it with a client).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import Appliance, BIN, MAIL_UID, free_port, wait_until

DOVECOT = "/usr/sbin/dovecot"


def peer_kind():
    return os.environ.get("PTEST_IMAP_PEER", "postern").strip() or "postern"


def _imap_greets(host, port):
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            return s.recv(200).startswith(b"* OK")
    except OSError:
        return False


class PosternPeer:
    """Postern's appliance with the IMAP accessors the tests use."""
    name = "postern"

    # the IMAP tests fail logins on purpose, many from 127.0.0.1: authd's throttle
    # (tests/integration/test_auth_throttle.py) is not what they are about
    DEFAULTS = {"auth_fail_ip_max": "1000000", "auth_fail_user_max": "1000000"}

    def __init__(self, overrides=None):
        self.app = Appliance(dict(self.DEFAULTS, **(overrides or {})))
        self.mail_uid = MAIL_UID
        self.settings = self.app.settings

    host = "127.0.0.1"

    def start(self):
        imapd = os.path.join(BIN, "postern-imapd")
        if not os.access(imapd, os.X_OK):
            # the acceptance suite fails (never skips) while the server is missing
            raise AssertionError("%s is not built" % imapd)
        self.app.start()
        # the master binds every listener before it answers POP3: an IMAP
        # service that does not greet is a failure of the test, not a race
        self.imap_port = self.app.imap_port
        self.imaps_port = self.app.imaps_port
        return self

    def add_user(self, name, password, quota=1073741824):
        self.app.ctl("user", "add", name, "-p", password, "-q", str(quota))

    def deliver(self, user, text):
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        # posternctl deliver reads text; 8-bit bytes go through latin-1 both ways
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", self.app.conf, "deliver", user],
                           input=text.encode("latin-1"), capture_output=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("posternctl deliver %s failed: %s" % (user, r.stderr))
        return r.stdout.decode().strip().split("/new/")[-1]

    def maildir(self, user):
        return self.app.maildir(user)

    def restart(self):
        self.app.stop()
        self.app.start()

    def rebuild_index(self, user):
        self.app.ctl("index", "rebuild", user)

    def log(self):
        return self.app.log()

    def cleanup(self):
        self.app.cleanup()


DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = 1
first_valid_gid = 1
disable_plaintext_auth = {disable_plaintext}
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
mail_plugins = quota
mail_location = maildir:{dir}/mail/%u
mail_uid = {uid}
mail_gid = {uid}
imap_idle_notify_interval = 1 secs
mailbox_idle_check_interval = 1 secs
imap_max_line_length = 65536
mail_max_userip_connections = 100
namespace inbox {{
  inbox = yes
  prefix = {prefix}
  separator = {sep}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {dir}/passwd
}}
# the tests' fresh users have the password "pw-" + name (Dovecot re-reads a
# passwd-file at most once a second: a user added just now would not exist yet)
passdb {{
  driver = static
  args = password=pw-%n
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={dir}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=1G
}}
"""


class DovecotPeer:
    """A private Dovecot on loopback with Postern's IMAP defaults
    (namespace INBOX. and separator ".", unless overridden)."""
    name = "dovecot"

    def __init__(self, overrides=None):
        o = dict(overrides or {})
        self.dir = tempfile.mkdtemp(prefix="postern-dovecot-")
        os.chmod(self.dir, 0o755)
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.mail_uid = MAIL_UID
        self.settings = o
        prefix = o.get("imap_namespace", "INBOX.")
        sep = o.get("imap_separator", ".")
        tls_req = o.get("imap_tls_required", "yes") == "yes" and o.get("tls_plaintext_loopback", "yes") == "no"
        conf = DOVECOT_CONF.format(dir=self.dir, uid=self.mail_uid, prefix=prefix, sep=sep,
                                   imap_port=self.imap_port, imaps_port=self.imaps_port,
                                   disable_plaintext="yes" if tls_req else "no")
        if tls_req:
            # Dovecot trusts loopback as "secured" by default: make it not
            conf += "login_trusted_networks =\nssl = required\n"
        if "imap_idle_timeout" in o:
            # Dovecot has no configurable autologout; nearest: none.  Tests
            # that need it are Postern-only (see skip_unless_postern).
            pass
        if "imap_max_message_size" in o:
            conf += "plugin {\n  quota_max_mail_size = %s\n}\n" % o["imap_max_message_size"]
        # Dovecot counts a client on the server's own address as secured: to make it
        # require TLS, listen on 127.0.0.2 (the tests connect from 127.0.0.1)
        self.host = "127.0.0.2" if tls_req else "127.0.0.1"
        conf = conf.replace("address = 127.0.0.1", "address = " + self.host)
        conf = conf.replace("listen = 127.0.0.1", "listen = " + self.host)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        os.makedirs(os.path.join(self.dir, "mail"))
        os.chown(os.path.join(self.dir, "mail"), self.mail_uid, self.mail_uid)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", os.path.join(self.dir, "key.pem"),
                        "-out", os.path.join(self.dir, "cert.pem")], check=True, capture_output=True)
        self.users = {}
        for u, p in (("demo", "demo"), ("demo2", "demo2")):
            self.add_user(u, p)
        self._write_passwd()
        self.proc = None

    def _write_passwd(self):
        path = os.path.join(self.dir, "passwd")
        with open(path, "w") as f:
            for u, p in self.users.items():
                f.write("%s:%s:%d:%d::%s/mail/%s\n" % (u, p, self.mail_uid, self.mail_uid, self.dir, u))
        # Dovecot re-reads the file when its mtime or size changes: a new mtime each time
        t = 1700000000 + len(self.users)
        os.utime(path, (t, t))

    def add_user(self, name, password):
        if password != "pw-" + name:
            self.users[name] = password
            self._write_passwd()
        md = self.maildir(name)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        for root, dirs, files in os.walk(md):
            os.chown(root, self.mail_uid, self.mail_uid)

    def start(self):
        self.logf = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdout=self.logf, stderr=self.logf)
        try:
            wait_until(lambda: self._alive() and _imap_greets(self.host, self.imap_port), 15,
                       "Dovecot greeting")
        except BaseException:
            self.cleanup()
            raise
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("dovecot exited: " + self.log())
        return True

    seq = 0

    def deliver(self, user, text):
        """As an MTA does: write tmp/, rename into new/."""
        if isinstance(text, str):
            text = text.encode("latin-1")
        DovecotPeer.seq += 1
        name = "%d.M%08dP%d.peer" % (time.time(), DovecotPeer.seq, os.getpid())
        md = self.maildir(user)
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(text)
        os.chown(tmp, self.mail_uid, self.mail_uid)
        os.rename(tmp, os.path.join(md, "new", name))
        return name

    def maildir(self, user):
        return os.path.join(self.dir, "mail", user)

    def restart(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        self.logf.close()
        self.start()

    def rebuild_index(self, user):
        """Dovecot's equivalent: drop the index files, keep dovecot-uidlist."""
        md = self.maildir(user)
        for n in os.listdir(md):
            if n.startswith("dovecot.index"):
                os.unlink(os.path.join(md, n))

    def log(self):
        out = ""
        for n in ("dovecot.log", "stderr.log"):
            try:
                with open(os.path.join(self.dir, n), "rb") as f:
                    out += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return out

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class RawImap:
    """A raw IMAP connection for tests that need exact control: responses as text
    (latin-1, literals included, see imapscript.Conn)."""

    def __init__(self, peer, tls=False, timeout=30):
        import imapscript
        import ssl
        sock = socket.create_connection((peer.host, peer.imaps_port if tls else peer.imap_port),
                                        timeout=timeout, source_address=("127.0.0.1", 0))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        self.conn = imapscript.Conn("raw", sock)
        self.timeout = timeout
        self.n = 0
        self.greeting = self.read()
        assert self.greeting and self.greeting.startswith("* OK"), self.greeting

    def read(self, timeout=None):
        """One response, or None at EOF; socket.timeout past the deadline."""
        return self.conn.read_response(time.monotonic() + (timeout or self.timeout))

    def send(self, text):
        self.conn.send(text.encode("latin-1") if isinstance(text, str) else text)

    def cmd(self, text, ok=True, timeout=None):
        """Send one tagged command; return (untagged responses, tagged line)."""
        self.n += 1
        tag = "t%d" % self.n
        self.send("%s %s\r\n" % (tag, text))
        untagged = []
        while True:
            r = self.read(timeout)
            if r is None:
                raise AssertionError("EOF after %r; got %r" % (text, untagged[-5:]))
            if r.startswith(tag + " "):
                if ok and not r.startswith(tag + " OK"):
                    raise AssertionError("%s -> %s (after %r)" % (text, r, untagged[-5:]))
                return untagged, r
            untagged.append(r)

    def login(self, user, password):
        return self.cmd('LOGIN "%s" "%s"' % (user, password))

    def close(self):
        try:
            self.conn.sock.close()
        except OSError:
            pass


def make_peer(overrides=None):
    """A started server of the kind PTEST_IMAP_PEER names."""
    kind = peer_kind()
    if kind == "dovecot":
        return DovecotPeer(overrides).start()
    if kind != "postern":
        raise AssertionError("PTEST_IMAP_PEER=%s: postern or dovecot" % kind)
    return PosternPeer(overrides).start()


if __name__ == "__main__":
    p = DovecotPeer().start()
    print("dovecot: imap %d imaps %d dir %s (Ctrl-C ends)" % (p.imap_port, p.imaps_port, p.dir))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        p.cleanup()
