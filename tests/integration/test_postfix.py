"""Postfix from Debian delivers to Postern's LMTP unix socket (issue 10).

The test runs a private Postfix instance of its own: config_directory,
queue_directory and data_directory under a temp dir, mail_owner the
package's postfix user, SMTP on a free loopback port only, every service
unchrooted (the queue is not /var/spool/postfix), and
mailbox_transport = lmtp:unix:<the appliance's socket>.  smtplib sends
through it; the message is read back by POP3 and IMAP; a message for an
unknown user gets our LMTP's 550 5.1.1 and Postfix bounces it to the
sender, who is a Postern user too.  docs/LMTP.md quotes these settings.
Skipped only when the postfix binaries are missing (scripts/deps.sh
installs them)."""
import grp
import imaplib
import os
import poplib
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from harness import Appliance, delivery_headers, free_port, wait_until

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
HAVE_POSTFIX = os.access(POSTFIX, os.X_OK) and os.access(POSTCONF, os.X_OK)

# Every service a delivery needs, none chrooted (the fifth column "n").
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/spool
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.postfix.test
mydomain = postfix.test
myorigin = localhost
mydestination = localhost
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
mailbox_transport = lmtp:unix:{socket}
biff = no
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
smtputf8_enable = no
# a deferral (a busy machine) is retried within the tests' waits, not in 5 minutes
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


@unittest.skipUnless(HAVE_POSTFIX, "postfix is not installed (scripts/deps.sh installs Debian's postfix)")
class TestPostfixToLmtp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pf = None
        cls.app = Appliance()
        cls.sock = os.path.join(cls.app.dir, "lmtp.sock")
        cls.app.settings.update({
            "lmtp_listen": cls.sock,
            "listen_unix_gid": str(grp.getgrnam("postfix").gr_gid),
            "listen_unix_mode": "0660",
        })
        cls.app.write_conf()
        try:
            cls.app.start()
            cls.start_postfix()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_postfix(cls):
        cls.pf = tempfile.mkdtemp(prefix="postern-postfix-")
        os.chmod(cls.pf, 0o755)
        cls.pf_port = free_port()
        cls.conf_dir = os.path.join(cls.pf, "etc")
        os.mkdir(cls.conf_dir)
        for d in ("spool", "data"):
            os.mkdir(os.path.join(cls.pf, d), 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(os.path.join(cls.pf, "data"), pw.pw_uid, pw.pw_gid)
        with open(os.path.join(cls.conf_dir, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=cls.pf, socket=cls.sock))
        with open(os.path.join(cls.conf_dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % cls.pf_port))
        cls.postfix("check")    # makes the queue directories (post-install create-missing)
        cls.postfix("start")
        wait_until(cls.smtp_up, 20, "Postfix's smtpd on port %d" % cls.pf_port)

    @classmethod
    def postfix(cls, *args, check=True):
        r = subprocess.run([POSTFIX, "-c", cls.conf_dir] + list(args), capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("postfix %s: %s%s" % (args, r.stdout, r.stderr))
        return r

    @classmethod
    def smtp_up(cls):
        try:
            with smtplib.SMTP("127.0.0.1", cls.pf_port, timeout=5) as c:
                return c.noop()[0] == 250
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        if cls.pf is not None:
            cls.postfix("stop", check=False)
            # postfix stop returns once the master is told; wait for it to go
            pidfile = os.path.join(cls.pf, "spool", "pid", "master.pid")
            try:
                with open(pidfile) as f:
                    pid = int(f.read().split()[0])
                wait_until(lambda: not os.path.exists("/proc/%d" % pid), 20, "Postfix master exit")
            except (OSError, ValueError):
                pass
            shutil.rmtree(cls.pf, ignore_errors=True)
        cls.app.cleanup()

    def maillog(self):
        try:
            with open(os.path.join(self.pf, "maillog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def new_files(self, user):
        d = os.path.join(self.app.maildir(user), "new")
        return sorted(os.path.join(d, n) for n in os.listdir(d)) if os.path.isdir(d) else []

    def test_postfix_delivers_over_lmtp_unix(self):
        body = "Subject: via postfix\r\nFrom: s@example.org\r\nTo: demo@localhost\r\n\r\n" \
               "caf\u00e9 over Postfix and LMTP\r\n.a leading dot\r\n"
        with smtplib.SMTP("127.0.0.1", self.pf_port, timeout=20) as c:
            c.ehlo("client.test")
            refused = c.sendmail("s@example.org", ["demo@localhost"], body.encode())
        self.assertEqual(refused, {})
        wait_until(lambda: self.new_files("demo"), 30,
                   "the message in demo's Maildir; Postfix's log:\n" + self.maillog())
        with open(self.new_files("demo")[0], "rb") as f:
            sender, rcpt, rest = delivery_headers(f.read(), "demo")
        self.assertEqual(sender, b"s@example.org")
        self.assertIn(b"Received: from client.test", rest)  # Postfix's own header
        # the file is in new/ before our 250 reaches Postfix, which logs after it
        sent = re.compile(r"to=<demo@localhost>, relay=\S+\[%s\].*status=sent "
                          r"\(250 2\.0\.0 Message accepted\)" % re.escape(self.sock))
        wait_until(lambda: sent.search(self.maillog()), 30, "Postfix's status=sent line")
        # read back by POP3 and IMAP: the same bytes
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=20)
        p.user("demo")
        p.pass_("demo")
        _, lines, _ = p.retr(1)
        p.quit()
        pop_msg = b"\r\n".join(lines) + b"\r\n"
        self.assertIn("caf\u00e9 over Postfix and LMTP".encode(), pop_msg)
        self.assertIn(b"\r\n.a leading dot\r\n", pop_msg)
        m = imaplib.IMAP4("127.0.0.1", self.app.imap_port, timeout=20)
        m.login("demo", "demo")
        m.select("INBOX")
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        m.logout()
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], pop_msg)

    def test_unknown_user_bounces_with_our_5xx(self):
        before = len(self.new_files("demo2"))
        with smtplib.SMTP("127.0.0.1", self.pf_port, timeout=20) as c:
            c.ehlo("client.test")
            # Postfix takes it (no local_recipient_maps): the LMTP says no
            refused = c.sendmail("demo2@localhost", ["nobody@localhost"],
                                 b"Subject: to nobody\r\n\r\nlost\r\n")
        self.assertEqual(refused, {})
        wait_until(lambda: "status=bounced" in self.maillog(), 30, "a bounce in Postfix's log")
        self.assertRegex(self.maillog(), r"to=<nobody@localhost>.*said: 550 5\.1\.1 No such user here")
        # the bounce goes back through the same LMTP to the sender
        wait_until(lambda: len(self.new_files("demo2")) > before, 30, "the bounce in demo2's Maildir")
        with open(self.new_files("demo2")[-1], "rb") as f:
            sender, _, rest = delivery_headers(f.read(), "demo2")
        self.assertEqual(sender, b"")  # bounces have the null sender
        self.assertIn(b"5.1.1", rest)
        self.assertIn(b"nobody@localhost", rest)


if __name__ == "__main__":
    unittest.main()
