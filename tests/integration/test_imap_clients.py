"""IMAP with real clients: Python imaplib (plaintext + STARTTLS, IMAPS), curl
(imap:// and imaps://), mbsync (isync 1.4), offlineimap3, mutt, fetchmail and
getmail6.  Each test checks what arrived where (messages, flags, files), not only
exit codes.  A Debian client tool that is not installed skips its test
(scripts/deps.sh installs them); a missing postern-imapd fails.
PTEST_IMAP_PEER=dovecot runs the same against Dovecot (imappeer.py)."""
import email
import glob
import imaplib
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import unittest

from imappeer import RawImap, make_peer


def msg(subject, body, frm="Sender <sender@example.org>"):
    return ("From: %s\nTo: demo@localhost\nSubject: %s\nMessage-ID: <%s@clients.test>\n"
            "Date: Tue, 01 Dec 2026 10:00:00 +0000\n\n%s\n" % (frm, subject, abs(hash(subject)), body))


def need(tool):
    path = shutil.which(tool)
    if not path:
        raise unittest.SkipTest("%s is not installed (scripts/deps.sh installs it)" % tool)
    return path


def no_verify():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def maildir_files(root):
    return sorted(glob.glob(os.path.join(root, "cur", "*")) + glob.glob(os.path.join(root, "new", "*")))


def read_all(paths):
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(f.read())
    return out


class ClientBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # the self-signed certificate's name is the host name: make it one that
        # resolves to the loopback address, for clients that check it (mbsync)
        cls.peer = make_peer({"hostname": "localhost"})
        cls.nuser = 0

    @classmethod
    def tearDownClass(cls):
        cls.peer.cleanup()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="imap-client-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def new_user(self, messages=()):
        type(self).nuser += 1
        name = "k%d%s" % (self.nuser, re.sub(r"[^a-z0-9]", "", self._testMethodName[5:])[:14])
        self.peer.add_user(name, "pw-" + name)
        for m in messages:
            self.peer.deliver(name, m)
        return name, "pw-" + name

    def server_view(self, user, pw, box="INBOX"):
        """[(uid, flags, subject)] of a mailbox, by a raw session."""
        s = RawImap(self.peer)
        try:
            s.login(user, pw)
            s.cmd("EXAMINE " + box)
            got, _ = s.cmd("UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        finally:
            s.close()
        out = []
        for r in got:
            m = re.match(r"\* \d+ FETCH \((?=.*UID (\d+))(?=.*FLAGS \(([^)]*)\)).*Subject: ([^\r\n]*)", r, re.S)
            if m:
                out.append((int(m.group(1)), set(m.group(2).split()) - {"\\Recent"}, m.group(3)))
        return sorted(out)

    def run_tool(self, argv, timeout=60, ok=(0,), **kw):
        env = dict(os.environ, HOME=self.home, LC_ALL="C.UTF-8")
        env.update(kw.pop("env", {}))
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout,
                           env=env, cwd=self.home, **kw)
        if ok is not None and r.returncode not in ok:
            self.fail("%s exit %d\nstdout: %s\nstderr: %s" % (argv[0], r.returncode, r.stdout[-3000:],
                                                               r.stderr[-3000:]))
        return r

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.home, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path


class TestImaplib(ClientBase):
    def session(self, m, user, pw):
        typ, _ = m.login(user, pw)
        self.assertEqual(typ, "OK")
        typ, data = m.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"3"]))
        typ, data = m.search(None, "ALL")
        self.assertEqual(data, [b"1 2 3"])
        typ, data = m.search(None, '(SUBJECT "second")')
        self.assertEqual(data, [b"2"])
        typ, data = m.fetch("2", "(RFC822)")
        parsed = email.message_from_bytes(data[0][1])
        self.assertEqual(parsed["Subject"], "second")
        self.assertIn("body two", parsed.get_payload())
        typ, data = m.fetch("1:3", "(FLAGS)")
        self.assertIn(b"\\Seen", [d for d in data if d.startswith(b"2 ")][0])
        m.store("1", "+FLAGS", "(\\Flagged)")
        typ, data = m.uid("SEARCH", None, "FLAGGED")
        self.assertEqual(data, [b"1"])
        typ, data = m.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(1700000000),
                             msg("appended", "by imaplib").encode())
        self.assertEqual(typ, "OK")
        typ, data = m.create("INBOX.Archive")
        self.assertEqual(typ, "OK")
        typ, data = m.copy("1:2", "INBOX.Archive")
        self.assertEqual(typ, "OK")
        m.store("3", "+FLAGS", "(\\Deleted)")
        typ, data = m.expunge()
        self.assertEqual(data, [b"3"])
        typ, data = m.list()
        names = [d.decode() for d in data]
        self.assertTrue(any(n.endswith("INBOX.Archive") or n.endswith('"INBOX.Archive"') for n in names), names)
        typ, data = m.status("INBOX.Archive", "(MESSAGES)")
        self.assertIn(b"MESSAGES 2", data[0])
        typ, data = m.noop()
        self.assertEqual(typ, "OK")
        m.close()
        self.assertEqual(m.logout()[0], "BYE")

    def test_plaintext_starttls(self):
        u, pw = self.new_user([msg("first", "body one"), msg("second", "body two"), msg("third", "body three")])
        m = imaplib.IMAP4(self.peer.host, self.peer.imap_port, timeout=30)
        self.assertIn("STARTTLS", m.capabilities)
        m.starttls(ssl_context=no_verify())
        self.assertNotIn("STARTTLS", m.capabilities)
        self.session(m, u, pw)
        view = self.server_view(u, pw)
        self.assertEqual([(x[0], x[2]) for x in view], [(1, "first"), (2, "second"), (4, "appended")])
        self.assertIn("\\Flagged", view[0][1])
        self.assertIn("\\Seen", view[2][1])
        archive = self.server_view(u, pw, "INBOX.Archive")
        self.assertEqual([(x[0], x[2]) for x in archive], [(1, "first"), (2, "second")])
        self.assertIn("\\Flagged", archive[0][1])

    def test_imaps(self):
        u, pw = self.new_user([msg("first", "body one"), msg("second", "body two"), msg("third", "body three")])
        m = imaplib.IMAP4_SSL(self.peer.host, self.peer.imaps_port, ssl_context=no_verify(), timeout=30)
        self.session(m, u, pw)

    def test_plaintext_login_on_loopback(self):
        # the harness sets tls_plaintext_loopback = yes
        u, pw = self.new_user([msg("only", "x")])
        m = imaplib.IMAP4(self.peer.host, self.peer.imap_port, timeout=30)
        m.login(u, pw)
        self.assertEqual(m.select("INBOX", readonly=True), ("OK", [b"1"]))
        m.logout()


class TestCurl(ClientBase):
    def curl(self, *args, ok=(0,)):
        return self.run_tool([need("curl"), "-sS", "--max-time", "30"] + list(args), ok=ok)

    def test_list_fetch_upload_plaintext(self):
        u, pw = self.new_user([msg("curl one", "first curl body"), msg("curl two", "second curl body")])
        base = "imap://%s:%d/" % (self.peer.host, self.peer.imap_port)
        auth = ["-u", "%s:%s" % (u, pw)]
        r = self.curl(*auth, base)
        self.assertRegex(r.stdout, r'\* LIST \([^)]*\) "\." "?INBOX"?')
        r = self.curl(*auth, base + "INBOX/;UID=2")
        self.assertIn("Subject: curl two", r.stdout)
        self.assertIn("second curl body", r.stdout)
        r = self.curl(*auth, base + "INBOX?SUBJECT%20one")
        self.assertIn("SEARCH 1", r.stdout)
        up = self.write("up.eml", msg("uploaded by curl", "curl -T body"))
        self.curl(*auth, "-T", up, base + "INBOX")
        view = self.server_view(u, pw)
        self.assertEqual([x[2] for x in view], ["curl one", "curl two", "uploaded by curl"])
        r = self.curl(*auth, base + "INBOX/;UID=%d" % view[2][0])
        self.assertIn("curl -T body", r.stdout)
        # a wrong password: curl fails, nothing leaks
        r = self.curl("-u", "%s:wrong" % u, base + "INBOX/;UID=1", ok=None)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("first curl body", r.stdout)

    def test_imaps_and_starttls(self):
        u, pw = self.new_user([msg("tls one", "over imaps")])
        r = self.curl("-k", "-u", "%s:%s" % (u, pw),
                      "imaps://%s:%d/INBOX/;UID=1" % (self.peer.host, self.peer.imaps_port))
        self.assertIn("over imaps", r.stdout)
        r = self.curl("-k", "--ssl-reqd", "-u", "%s:%s" % (u, pw),
                      "imap://%s:%d/INBOX/;UID=1" % (self.peer.host, self.peer.imap_port))
        self.assertIn("over imaps", r.stdout)
        up = self.write("up.eml", msg("tls upload", "uploaded over imaps"))
        self.curl("-k", "-u", "%s:%s" % (u, pw), "-T", up,
                  "imaps://%s:%d/INBOX" % (self.peer.host, self.peer.imaps_port))
        self.assertEqual([x[2] for x in self.server_view(u, pw)], ["tls one", "tls upload"])


class TestMbsync(ClientBase):
    def config(self, u, pw, tls):
        local = os.path.join(self.home, "mail")
        os.makedirs(local, exist_ok=True)
        if tls:
            pem = ssl.get_server_certificate((self.peer.host, self.peer.imaps_port))
            cert = self.write("server.pem", pem, 0o644)
            # a Host certificate: trusted as it is, the name checked against Host
            sec = "SSLType IMAPS\nCertificateFile %s\nSystemCertificates no\n" % cert
            port = self.peer.imaps_port
            host = "localhost"
        else:
            sec = "SSLType None\nAuthMechs LOGIN\n"
            port = self.peer.imap_port
            host = self.peer.host
        rc = self.write("mbsyncrc", """\
IMAPAccount acc
Host %s
Port %d
User %s
Pass %s
%s
IMAPStore remote
Account acc

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel ch
Far :remote:
Near :local:
Patterns INBOX
Create Both
Expunge Both
SyncState *
Sync All
""" % (host, port, u, pw, sec, local, local))
        return rc, os.path.join(local, "INBOX")

    def mbsync(self, rc):
        return self.run_tool([need("mbsync"), "-c", rc, "-a"])

    def both_ways(self, tls):
        u, pw = self.new_user([msg("mb%d" % i, "mbsync body %d" % i) for i in range(3)])
        rc, inbox = self.config(u, pw, tls)
        self.mbsync(rc)
        files = maildir_files(inbox)
        self.assertEqual(len(files), 3)
        self.assertEqual(sorted(re.search(rb"Subject: (\S+)", t).group(1) for t in read_all(files)),
                         [b"mb0", b"mb1", b"mb2"])
        # near side: mark one seen, add one message; then sync up
        target = [f for f in files if b"Subject: mb1" in read_all([f])[0]][0]
        base = os.path.basename(target).split(":2,")[0]
        os.rename(target, os.path.join(inbox, "cur", base + ":2,S"))
        with open(os.path.join(inbox, "new", "1700000000.local1.host"), "w") as f:
            f.write(msg("from-local", "written on the near side"))
        self.mbsync(rc)
        view = self.server_view(u, pw)
        self.assertEqual([x[2] for x in view], ["mb0", "mb1", "mb2", "from-local"])
        self.assertIn("\\Seen", view[1][1])
        self.assertNotIn("\\Seen", view[0][1])
        # far side change: flag one on the server, sync down
        s = RawImap(self.peer)
        s.login(u, pw)
        s.cmd("SELECT INBOX")
        s.cmd("UID STORE %d +FLAGS (\\Flagged)" % view[2][0])
        s.cmd("LOGOUT")
        s.close()
        self.mbsync(rc)
        flagged = [f for f in maildir_files(inbox) if b"Subject: mb2" in read_all([f])[0]][0]
        self.assertRegex(os.path.basename(flagged), r":2,[A-Z]*F")
        # a re-sync with no changes changes nothing on either side
        before_files = sorted(os.path.basename(f) for f in maildir_files(inbox))
        before_view = self.server_view(u, pw)
        self.mbsync(rc)
        self.assertEqual(sorted(os.path.basename(f) for f in maildir_files(inbox)), before_files)
        self.assertEqual(self.server_view(u, pw), before_view)

    def test_sync_both_ways_plaintext(self):
        self.both_ways(False)

    def test_sync_both_ways_imaps(self):
        self.both_ways(True)


class TestOfflineimap(ClientBase):
    def test_one_sync(self):
        tool = shutil.which("offlineimap3") or need("offlineimap")
        u, pw = self.new_user([msg("oi%d" % i, "offlineimap body %d" % i) for i in range(3)])
        local = os.path.join(self.home, "mail")
        rc = self.write("offlineimaprc", """\
[general]
accounts = t
metadata = %s/meta
ui = quiet

[Account t]
localrepository = L
remoterepository = R

[Repository L]
type = Maildir
localfolders = %s

[Repository R]
type = IMAP
remotehost = %s
remoteport = %d
remoteuser = %s
remotepass = %s
ssl = no
starttls = no
folderfilter = lambda f: f == 'INBOX'
""" % (self.home, local, self.peer.host, self.peer.imap_port, u, pw))
        self.run_tool([tool, "-c", rc, "-o", "-u", "quiet"], timeout=120)
        files = maildir_files(os.path.join(local, "INBOX"))
        self.assertEqual(len(files), 3)
        texts = read_all(files)
        for i in range(3):
            self.assertTrue(any(b"offlineimap body %d" % i in t for t in texts))
        # the server kept everything
        self.assertEqual(len(self.server_view(u, pw)), 3)


class TestMutt(ClientBase):
    def rc(self, u, pw):
        return self.write("muttrc", """\
set folder="imap://%s:%s@%s:%d/"
set spoolfile="+INBOX"
set ssl_starttls=no
set ssl_force_tls=no
set imap_passive=no
set mail_check=1
set sendmail="/bin/true"
set record="+INBOX.Sent"
set copy=yes
set from="%s@localhost"
set use_from=yes
set header_cache=""
set message_cachedir=""
set confirmappend=no
set confirmcreate=no
""" % (u, pw, self.peer.host, self.peer.imap_port, u))

    def test_batch_send_saves_to_imap_sent(self):
        # batch mode (-s, stdin): mutt "sends" through /bin/true and APPENDs the copy to INBOX.Sent
        u, pw = self.new_user([msg("hello", "x")])
        s = RawImap(self.peer)
        s.login(u, pw)
        s.cmd("CREATE INBOX.Sent")
        s.close()
        rc = self.rc(u, pw)
        self.run_tool([need("mutt"), "-n", "-F", rc, "-s", "from mutt batch", "someone@example.org"],
                      input="mutt batch body\n", timeout=60)
        view = self.server_view(u, pw, "INBOX.Sent")
        self.assertEqual([x[2] for x in view], ["from mutt batch"])

    def test_read_inbox_over_imap(self):
        # mutt needs a terminal to read: script(1) gives it one; push copies every message
        need("script")
        u, pw = self.new_user([msg("mutt read %d" % i, "mutt body %d" % i) for i in range(2)])
        rc = self.rc(u, pw)
        out = os.path.join(self.home, "copied.mbox")
        cmd = ("%s -n -F %s -e 'push \"<tag-pattern>~A<enter><tag-prefix><copy-message>%s<enter><quit>\"'"
               % (need("mutt"), rc, out))
        self.run_tool(["script", "-qec", cmd, "/dev/null"], timeout=60, env={"TERM": "vt100"}, ok=None,
                      stdin=subprocess.DEVNULL)
        self.assertTrue(os.path.exists(out), "mutt wrote no mbox")
        with open(out, "rb") as f:
            data = f.read()
        self.assertIn(b"mutt body 0", data)
        self.assertIn(b"mutt body 1", data)


class TestFetchmail(ClientBase):
    def test_imap_keep(self):
        u, pw = self.new_user([msg("fm%d" % i, "fetchmail body %d" % i) for i in range(3)])
        out = os.path.join(self.home, "out.mbox")
        rc = self.write("fetchmailrc",
                        "set no syslog\npoll %s service %d protocol IMAP auth password\n"
                        "  user \"%s\" password \"%s\" is root here\n  keep\n  sslproto ''\n"
                        "  mda \"/bin/sh -c 'cat >> %s'\"\n" % (self.peer.host, self.peer.imap_port, u, pw, out))
        self.run_tool([need("fetchmail"), "-f", rc, "--nosslcertck", "-v", "--nodetach"], timeout=90)
        with open(out, "rb") as f:
            data = f.read()
        for i in range(3):
            self.assertIn(b"fetchmail body %d" % i, data)
        # --keep: still on the server, now \Seen
        view = self.server_view(u, pw)
        self.assertEqual(len(view), 3)
        self.assertTrue(all("\\Seen" in flags for _, flags, _ in view), view)
        # a second run fetches nothing new (fetchmail only takes unseen mail)
        os.unlink(out)
        r = self.run_tool([need("fetchmail"), "-f", rc, "--nosslcertck", "-v", "--nodetach"], timeout=90, ok=(0, 1))
        self.assertFalse(os.path.exists(out) and os.path.getsize(out), r.stdout[-2000:])


class TestGetmail(ClientBase):
    def test_simple_imap_retriever(self):
        tool = shutil.which("getmail6") or need("getmail")
        u, pw = self.new_user([msg("gm%d" % i, "getmail body %d" % i) for i in range(3)])
        md = os.path.join(self.home, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub))
        # getmail refuses to deliver as root: its destination runs as nobody
        os.chmod(self.home, 0o755)
        for root, dirs, files in os.walk(md):
            os.chown(root, 65534, 65534)
        rc = self.write("getmailrc", """\
[retriever]
type = SimpleIMAPRetriever
server = %s
port = %d
username = %s
password = %s
mailboxes = ("INBOX",)

[destination]
type = Maildir
path = %s/
user = nobody

[options]
read_all = false
delete = false
verbose = 1
""" % (self.peer.host, self.peer.imap_port, u, pw, md))
        self.run_tool([tool, "--rcfile", rc, "--getmaildir", self.home], timeout=90)
        texts = read_all(maildir_files(md))
        self.assertEqual(len(texts), 3)
        for i in range(3):
            self.assertTrue(any(b"getmail body %d" % i in t for t in texts))
        self.assertEqual(len(self.server_view(u, pw)), 3)
        # a second run: getmail remembers what it took (oldmail file)
        self.run_tool([tool, "--rcfile", rc, "--getmaildir", self.home], timeout=90)
        self.assertEqual(len(maildir_files(md)), 3)


if __name__ == "__main__":
    unittest.main()
