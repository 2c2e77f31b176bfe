"""Exim from Debian delivers to Postern's LMTP unix socket (issue 10), with
the transport and router docs/LMTP.md shows.

exim4-daemon-light conflicts with postfix as a package (scripts/deps.sh
installs Postfix for test_postfix), so the test does not install it: it
fetches the .deb with `apt-get download` into build/test-cache/exim (once),
unpacks it with `dpkg-deb -x` into a temp dir and runs that binary with a
config of its own (-C), in a private mount namespace where /etc/passwd and
/etc/group name the `Debian-exim` user the binary was built for (nobody's
ids): the machine's own files stay as they are.  Exim delivers in the
foreground (-odf), once per message, and exits; there is no Exim daemon.
Skipped with the reason when the package cannot be fetched."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import Appliance, delivery_headers, wait_until

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CACHE = os.path.join(TOP, "build", "test-cache", "exim")
NOBODY = 65534

CONF = """\
# written by tests/integration/test_exim.py
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = {dir}/spool
log_file_path = {dir}/log/%slog
primary_hostname = mx.exim.test
qualify_domain = localhost
domainlist local_domains = localhost
keep_environment =
never_users = root

begin routers

postern_user:
  driver = accept
  domains = +local_domains
  transport = postern_lmtp

begin transports

postern_lmtp:
  driver = lmtp
  socket = {socket}
  batch_max = 100
  user = Debian-exim

begin retry

* * F,1h,15m
"""


def fetch_deb():
    """The cached exim4-daemon-light .deb, downloaded if missing, or None
    with the reason."""
    os.makedirs(CACHE, exist_ok=True)
    debs = glob.glob(os.path.join(CACHE, "exim4-daemon-light_*.deb"))
    if debs:
        return debs[0], None
    if shutil.which("apt-get") is None:
        return None, "no apt-get to fetch exim4-daemon-light"
    try:
        r = subprocess.run(["apt-get", "download", "exim4-daemon-light"], cwd=CACHE,
                           capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return None, "apt-get download exim4-daemon-light timed out"
    debs = glob.glob(os.path.join(CACHE, "exim4-daemon-light_*.deb"))
    if r.returncode != 0 or not debs:
        return None, "apt-get download exim4-daemon-light failed: " + r.stderr.strip()[-300:]
    return debs[0], None


@unittest.skipUnless(os.geteuid() == 0, "Exim's delivery and the mount namespace need root")
class TestEximToLmtp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        deb, why = fetch_deb()
        if deb is None:
            raise unittest.SkipTest(why)
        cls.ex = tempfile.mkdtemp(prefix="postern-exim-")
        os.chmod(cls.ex, 0o755)
        cls.app = None
        try:
            subprocess.run(["dpkg-deb", "-x", deb, os.path.join(cls.ex, "root")], check=True,
                           capture_output=True, timeout=60)
            cls.exim = os.path.join(cls.ex, "root", "usr", "sbin", "exim4")
            for name, extra in (("passwd", "Debian-exim:x:%d:%d:Exim:/nonexistent:/usr/sbin/nologin\n"
                                 % (NOBODY, NOBODY)), ("group", "Debian-exim:x:%d:\n" % NOBODY)):
                with open("/etc/" + name) as f:
                    text = f.read()
                with open(os.path.join(cls.ex, name), "w") as f:
                    f.write(text + ("" if text.endswith("\n") else "\n") + extra)
            for d in ("spool", "log"):
                os.mkdir(os.path.join(cls.ex, d), 0o750)
                os.chown(os.path.join(cls.ex, d), NOBODY, NOBODY)
            cls.app = Appliance()
            cls.sock = os.path.join(cls.app.dir, "lmtp.sock")
            cls.app.settings.update({"lmtp_listen": cls.sock, "listen_unix_gid": str(NOBODY),
                                     "listen_unix_mode": "0660"})
            cls.app.write_conf()
            cls.conf = os.path.join(cls.ex, "exim.conf")
            with open(cls.conf, "w") as f:
                f.write(CONF.format(dir=cls.ex, socket=cls.sock))
            os.chmod(cls.conf, 0o644)
            cls.app.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.app is not None:
            cls.app.cleanup()
        shutil.rmtree(cls.ex, ignore_errors=True)

    def run_exim(self, sender, rcpts, message):
        # the binary wants its build's user name and re-executes itself as
        # /usr/sbin/exim4: only this process's mount namespace sees either
        script = ('mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group '
                  '&& mount -t overlay overlay -o "lowerdir=$1/root/usr/sbin:/usr/sbin" /usr/sbin '
                  '&& shift && exec "$@"')
        return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", self.ex, "/usr/sbin/exim4",
                               "-C", self.conf, "-odf", "-oi", "-f", sender] + rcpts,
                              input=message, capture_output=True, timeout=60)

    def mainlog(self):
        try:
            with open(os.path.join(self.ex, "log", "mainlog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def new_files(self, user):
        d = os.path.join(self.app.maildir(user), "new")
        return sorted(os.path.join(d, n) for n in os.listdir(d)) if os.path.isdir(d) else []

    def test_exim_delivers_over_lmtp_unix(self):
        body = ("From: s@example.org\nTo: demo@localhost, demo2@localhost\nSubject: via exim\n\n"
                "caf\u00e9 over Exim and LMTP\n.a leading dot\n").encode()
        r = self.run_exim("s@example.org", ["demo@localhost", "demo2@localhost"], body)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace") + self.mainlog())
        for user in ("demo", "demo2"):
            wait_until(lambda: self.new_files(user), 20, "the message in %s's Maildir; Exim's "
                       "log:\n%s" % (user, self.mainlog()))
            with open(self.new_files(user)[-1], "rb") as f:
                sender, rcpt, rest = delivery_headers(f.read(), user)
            self.assertEqual(sender, b"s@example.org")
            self.assertIn(b"by mx.exim.test with local", rest)   # Exim's own Received
            self.assertIn("caf\u00e9 over Exim and LMTP\n.a leading dot\n".encode(), rest)
        # one LMTP transaction for both (batch_max: Exim's "->" is another
        # address of the same delivery), one reply each (RFC 2033)
        log = self.mainlog()
        self.assertRegex(log, r"=> demo2? <demo2?@localhost> R=postern_user T=postern_lmtp "
                         r"C=\"250 2\.0\.0 Message accepted\"")
        self.assertRegex(log, r"-> demo2? <demo2?@localhost> R=postern_user T=postern_lmtp "
                         r"C=\"250 2\.0\.0 Message accepted\"")

    def test_unknown_user_bounces_with_our_5xx(self):
        before = self.new_files("demo2")
        r = self.run_exim("demo2@localhost", ["nobody@localhost"],
                          b"Subject: to nobody\n\nlost\n")
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.assertRegex(self.mainlog(), r"\*\* nobody@localhost R=postern_user T=postern_lmtp: "
                         r"LMTP error after RCPT TO:<nobody@localhost>: 550 5\.1\.1 No such user")
        # Exim's bounce to the sender, a Postern user, over the same LMTP
        # (exim -odf returns after delivering it too)
        new = [n for n in self.new_files("demo2") if n not in before]
        self.assertEqual(len(new), 1, self.mainlog())
        with open(new[0], "rb") as f:
            sender, rcpt, rest = delivery_headers(f.read(), "demo2")
        self.assertEqual(sender, b"")
        self.assertIn(b"550 5.1.1 No such user here", rest)


if __name__ == "__main__":
    unittest.main()
