"""Command lines (issue 11, items 1, 2, 7): a missing config file is fatal
for the master and for posternctl's writers unless `-c none` asks for
defaults plus POSTERN_* variables; --help/--version everywhere; posternctl's
command table refuses option-like names, extra operands and empty
passwords, asks for a password twice on a terminal (driven through a pty);
`user set`; `backup` while the appliance runs, `restore` into a fresh state
dir, then a POP3 login."""
import os
import poplib
import pty
import re
import select
import stat
import subprocess
import tempfile
import shutil
import unittest

from harness import BIN, TOP, Appliance, free_port, make_message, wait_until

CTL = os.path.join(BIN, "posternctl")
MASTER = os.path.join(BIN, "postern-master")

# Every posternctl command; docs/POSTERNCTL.md and `posternctl --help` must name each.
COMMANDS = [
    "user add", "user del", "user passwd", "user set", "user import", "user list", "user show",
    "user disable", "user enable", "domain add", "domain del", "domain list",
    "alias add", "alias del", "alias list", "auth test", "deliver", "quota get", "quota recalc", "quota set", "index rebuild", "config check",
    "config dump", "policy", "services", "reload", "status", "who", "kick", "throttle list",
    "throttle clear", "stop", "health", "backup", "restore",
]
WRITERS = [
    ["domain", "add", "x.example"], ["domain", "del", "x.example"],
    ["user", "add", "zed", "-p", "pw"], ["user", "del", "zed"], ["user", "passwd", "zed", "-p", "pw"],
    ["user", "set", "zed", "--quota", "1"], ["user", "import", "csv", "/dev/null"],
    ["user", "disable", "zed"], ["user", "enable", "zed"],
    ["alias", "add", "a", "zed"], ["alias", "del", "a"], ["deliver", "zed"], ["quota", "recalc", "zed"], ["quota", "set", "zed", "1"],
    ["index", "rebuild", "zed"],
    ["config", "check"], ["config", "dump"], ["restore", "/nonexistent-backup"],
    # a typo must not reach the default master's control socket
    ["reload"], ["status"], ["who"], ["kick", "zed"], ["throttle", "list"],
    ["throttle", "clear", "zed"], ["stop"], ["health"],
]


def built_version():
    with open(os.path.join(TOP, "build", "gen", "version_gen.h")) as f:
        return re.search(r'POSTERN_VERSION "([^"]*)"', f.read()).group(1)


def run(cmd, env=None, input=None):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", input=input,
                          env=env, timeout=60)


class TestStartup(unittest.TestCase):
    """No appliance: the file rule itself."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-cli-")
        self.state = os.path.join(self.dir, "state")
        # Where a posternctl that fell back to defaults would write: here, not /var/lib.
        self.env = dict(os.environ, POSTERN_STATE_DIR=self.state,
                        POSTERN_USERDB=os.path.join(self.state, "userdb"),
                        POSTERN_MAIL_ROOT=os.path.join(self.dir, "mail") + "/%d/%n",
                        POSTERN_DEFAULT_DOMAIN="localhost")
        self.env.pop("POSTERN_CONFIG", None)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_master_missing_file_is_fatal(self):
        typo = os.path.join(self.dir, "typo.conf")
        r = run([MASTER, "-c", typo], env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)  # one clear line
        self.assertIn(typo, lines[0])
        self.assertIn("No such file", lines[0])
        self.assertIn("-c none", lines[0])
        self.assertFalse(os.path.exists(self.state))
        # POSTERN_CONFIG names the file when there is no -c: the same rule
        r = run([MASTER], env=dict(self.env, POSTERN_CONFIG=typo))
        self.assertEqual(r.returncode, 1)
        self.assertIn(typo, r.stderr)

    def test_writers_refuse_a_missing_file(self):
        typo = os.path.join(self.dir, "typo.conf")
        for args in WRITERS:
            r = run([CTL, "-c", typo] + args, env=self.env, input="")
            self.assertEqual(r.returncode, 1, "%s: %s" % (args, r.stderr))
            self.assertIn("typo.conf: No such file or directory (-c none", r.stderr, args)
        self.assertFalse(os.path.exists(self.state), "a writer created the default state dir")
        # readers fall back to the defaults, with a warning, and create nothing
        os.mkdir(self.state)
        r = run([CTL, "-c", typo, "user", "list"], env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("typo.conf not found, using defaults", r.stderr)
        self.assertIn("cannot open user database", r.stderr)
        self.assertEqual(os.listdir(self.state), [])
        r = run([CTL, "-c", typo, "policy"], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_env_only_with_none(self):
        r = run([CTL, "-c", "none", "config", "check"], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("defaults and POSTERN_* environment: ok", r.stdout)
        r = run([CTL, "-c", "none", "config", "dump"], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("state_dir = \"%s\"\n" % self.state, r.stdout)  # dump quotes strings
        r = run([CTL, "config", "dump"], env=dict(self.env, POSTERN_CONFIG="none"))
        self.assertIn("state_dir = \"%s\"\n" % self.state, r.stdout)  # dump quotes strings
        for args in (["domain", "add", "localhost"], ["user", "add", "zed", "-p", "pw"]):
            r = run([CTL, "-c", "none"] + args, env=self.env)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = run([CTL, "-c", "none", "user", "list"], env=self.env)
        self.assertEqual(r.stdout.split(), ["zed@localhost"])
        self.assertTrue(os.path.isdir(os.path.join(self.state, "userdb")))


class TestMasterEnvOnly(unittest.TestCase):
    def test_master_runs_with_none(self):
        app = Appliance()
        try:
            os.unlink(app.conf)  # nothing but the environment
            app.start(env_only=True)
            m = app.wait_log(r"proc=master .*event=ready config=none .*version=(\S+)")
            self.assertEqual(m.group(1), built_version())
            p = poplib.POP3("127.0.0.1", app.port, timeout=10)
            p.user("demo")
            p.pass_("demo")
            p.quit()
        finally:
            app.cleanup()


class TestCommandLines(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def ctl(self, *args, **kw):
        kw.setdefault("check", False)
        return self.app.ctl(*args, **kw)

    def users(self):
        return self.ctl("user", "list", check=True).stdout.split()

    def login(self, user, pw, app=None):
        p = poplib.POP3("127.0.0.1", (app or self.app).port, timeout=10)
        p.user(user)
        p.pass_(pw)
        return p

    def test_version_everywhere(self):
        v = built_version()
        self.assertTrue(v)
        for name in ("postern-master", "postern-authd", "postern-keyd", "postern-pop3d",
                     "postern-stored", "posternctl"):
            for flag in ("-V", "--version") if name in ("postern-master", "posternctl") else ("-V",):
                r = run([os.path.join(BIN, name), flag])
                self.assertEqual(r.returncode, 0, (name, flag, r.stderr))
                self.assertEqual(r.stdout, "%s %s\n" % (name, v))
        self.assertRegex(self.app.log(), r"proc=master .*event=ready .*version=%s" % re.escape(v))

    def test_help_everywhere(self):
        # every binary: -h/--help and -V/--version, exit 0
        for name in ("postern-master", "postern-authd", "postern-keyd", "postern-pop3d",
                     "postern-stored", "postern-imapd", "postern-lmtpd", "postern-smtpd",
                     "postern-metricsd", "postern-deliver", "posternctl"):
            for flag in ("-h", "--help"):
                r = run([os.path.join(BIN, name), flag])
                self.assertEqual(r.returncode, 0, (name, flag, r.stderr))
                self.assertIn("usage: " + name, r.stdout)
            for flag in ("-V", "--version"):
                r = run([os.path.join(BIN, name), flag])
                self.assertEqual((r.returncode, r.stdout.strip()),
                                 (0, "%s %s" % (name, built_version())), (name, flag))
        listed = [m.group(1).strip() for m in
                  (re.match(r"^  ((?:[a-z]+ ?)+)", l) for l in run([CTL, "--help"]).stdout.splitlines())
                  if m]
        self.assertEqual(listed, COMMANDS)
        with open(os.path.join(TOP, "docs", "POSTERNCTL.md")) as f:
            doc = f.read()
        before = self.users()
        for words in COMMANDS:
            self.assertIn("posternctl " + words, doc, "docs/POSTERNCTL.md lacks " + words)
            for flag in ("--help", "-h"):
                r = self.ctl(*(words.split() + [flag]))
                self.assertEqual(r.returncode, 0, (words, r.stderr))
                self.assertTrue(r.stdout.startswith("usage: posternctl"), r.stdout)
                self.assertIn(" %s" % words, r.stdout.splitlines()[0])
        # help with operands and options: still only help
        r = self.ctl("user", "add", "helpme", "-p", "pw", "--help")
        self.assertEqual(r.returncode, 0)
        r = self.ctl("user", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("user set", r.stdout)
        self.assertNotIn("domain add", r.stdout)
        self.assertEqual(self.users(), before)
        self.assertNotIn("--help@localhost", self.users())

    def test_option_like_names_and_extra_operands(self):
        refused = [
            ["user", "add", "-p", "pw", "--", "-x"],
            ["user", "add", "--", "--help", "-p", "pw"],
            ["user", "add", "-x", "-p", "pw"],
            ["user", "add", "xa", "extra", "-p", "pw"],
            ["user", "add", "xb", "-p"],
            ["user", "add", "xc", "-p", "pw", "--quota"],
            ["user", "add", "xd", "-p", "pw", "--disable"],  # an option of user set only
            ["user", "add"],
            ["user", "passwd", "demo", "-p", "new", "extra"],
            ["user", "show", "demo", "extra"],
            ["user", "list", "extra"],
            ["user", "del", "demo", "demo2"],
            ["user", "set", "demo", "--quota", "5", "extra"],
            ["user", "set", "demo"],
            ["user", "set", "demo", "--uid", "1234"],
            ["user", "set", "demo", "--disable", "--enable"],
            ["domain", "add", "a.example", "b.example"],
            ["domain", "add", "--", "-a.example"],
            ["alias", "add", "xe@localhost"],
            # several targets are an alias's (docs/POSTERNCTL.md), but at most 32
            ["alias", "add", "xe@localhost"] + ["t%d" % i for i in range(33)],
            ["deliver", "demo", "extra"],
            ["config", "check", "extra"],
            ["policy", "extra"],
            ["user"],
            ["user", "frobnicate"],
            ["frobnicate"],
            [],
        ]
        for args in refused:
            r = self.ctl(*args, input="")
            self.assertEqual(r.returncode, 2, "%s: %s" % (args, r.stderr))
            self.assertIn("usage: posternctl", r.stderr, args)
        users = self.users()
        for name in ("-x@localhost", "--help@localhost", "xa@localhost", "extra@localhost",
                     "pw@localhost", "xb@localhost", "xc@localhost", "xd@localhost"):
            self.assertNotIn(name, users)
        self.assertIn("demo@localhost", users)
        self.assertIn("demo2@localhost", users)
        self.assertNotIn("a.example", self.ctl("domain", "list").stdout.split())
        self.assertNotIn("xe@localhost", self.ctl("alias", "list").stdout)
        self.assertIn("quota:     0", self.ctl("user", "show", "demo").stdout)
        self.login("demo", "demo").quit()  # the password was not changed
        # options before the operand are options, not names
        r = self.ctl("user", "add", "-p", "pw", "zed")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("zed@localhost", self.users())
        self.assertNotIn("-p@localhost", self.users())
        self.login("zed", "pw").quit()

    def test_empty_passwords_refused(self):
        for args, inp in ((["user", "add", "empty1", "-p", ""], None),
                          (["user", "add", "empty2"], "\n"),
                          (["user", "add", "empty3"], "")):
            r = self.ctl(*args, input=inp)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("empty password refused", r.stderr)
        self.ctl("user", "add", "keeps", "-p", "kept", check=True)
        for args, inp in ((["user", "passwd", "keeps", "-p", ""], None),
                          (["user", "passwd", "keeps"], "\n")):
            r = self.ctl(*args, input=inp)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("empty password refused", r.stderr)
        users = self.users()
        for n in ("empty1", "empty2", "empty3"):
            self.assertNotIn(n + "@localhost", users)
        self.login("keeps", "kept").quit()

    def pty_run(self, args, answers):
        """Run posternctl on a terminal; answer each prompt in turn."""
        mfd, sfd = pty.openpty()
        p = subprocess.Popen([CTL, "-c", self.app.conf] + args, stdin=sfd, stdout=sfd, stderr=sfd,
                             close_fds=True)
        os.close(sfd)
        out = bytearray()

        def read_some():
            while select.select([mfd], [], [], 0)[0]:
                try:
                    chunk = os.read(mfd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    return
                if not chunk:
                    return
                out.extend(chunk)

        try:
            for prompt, answer in answers:
                seen = len(out)

                def prompted(prompt=prompt, seen=seen):
                    read_some()
                    return prompt in out[seen:] or p.poll() is not None
                wait_until(prompted, 20, "prompt %r" % prompt)
                self.assertIsNone(p.poll(), out.decode(errors="replace"))
                os.write(mfd, answer)
            rc = p.wait(30)
            read_some()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            os.close(mfd)
        return rc, out.decode(errors="replace")

    def test_prompt_asks_twice(self):
        rc, out = self.pty_run(["user", "add", "ttyuser"],
                               [(b"Password: ", b"tty secret\n"), (b"Retype password: ", b"tty secret\n")])
        self.assertEqual(rc, 0, out)
        self.assertNotIn("tty secret", out)  # no echo
        self.login("ttyuser", "tty secret").quit()
        rc, out = self.pty_run(["user", "add", "ttyuser2"],
                               [(b"Password: ", b"one\n"), (b"Retype password: ", b"two\n")])
        self.assertEqual(rc, 1, out)
        self.assertIn("do not match", out)
        self.assertNotIn("ttyuser2@localhost", self.users())
        rc, out = self.pty_run(["user", "passwd", "ttyuser"],
                               [(b"Password: ", b"new one\n"), (b"Retype password: ", b"new two\n")])
        self.assertEqual(rc, 1, out)
        self.login("ttyuser", "tty secret").quit()
        rc, out = self.pty_run(["user", "passwd", "ttyuser"],
                               [(b"Password: ", b"new one\n"), (b"Retype password: ", b"new one\n")])
        self.assertEqual(rc, 0, out)
        self.login("ttyuser", "new one").quit()
        rc, out = self.pty_run(["user", "add", "ttyuser3"], [(b"Password: ", b"\n")])
        self.assertEqual(rc, 1, out)
        self.assertIn("empty password refused", out)

    def test_user_set_round_trip(self):
        self.ctl("user", "add", "setme", "-p", "pw", check=True)
        root = os.path.join(self.app.dir, "elsewhere", "setme")
        r = self.ctl("user", "set", "setme", "--quota", "123456", "--uid", "7201", "--gid", "7202",
                     "--mailroot", root, "--disable")
        self.assertEqual(r.returncode, 0, r.stderr)
        show = self.ctl("user", "show", "setme").stdout
        for line in ("status:    disabled", "uid/gid:   7201/7202", "mail root: " + root,
                     "quota:     123456", "scheme:    yescrypt"):
            self.assertIn(line, show)
        with self.assertRaises(poplib.error_proto):
            self.login("setme", "pw")
        self.ctl("user", "set", "setme", "--enable", check=True)
        self.assertIn("status:    enabled", self.ctl("user", "show", "setme").stdout)
        self.assertIn("quota:     123456", self.ctl("user", "show", "setme").stdout)  # kept
        # back to the configured defaults; short options too
        self.ctl("user", "set", "setme", "-u", "0", "-g", "0", "-m", "", "-q", "0", check=True)
        show = self.ctl("user", "show", "setme").stdout
        self.assertIn("uid/gid:   %d/%d" % (7100, 7100), show)
        self.assertIn("mail root: " + self.app.maildir("setme"), show)
        self.assertIn("quota:     0", show)
        self.login("setme", "pw").quit()  # the hash was kept
        for args, why in ((["ghost", "--quota", "1"], "no user ghost@localhost"),
                          (["setme", "--mailroot", "/srv/./x"], "mail root must be"),
                          (["setme", "--mailroot", "relative"], "mail root must be"),
                          (["setme", "--uid", "0", "--gid", "5"], "both 0"),
                          (["setme", "--quota", "lots"], "bad quota")):
            r = self.ctl("user", "set", *args)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(why, r.stderr)
        self.assertIn("mail root: " + self.app.maildir("setme"), self.ctl("user", "show", "setme").stdout)

    def test_backup_while_running_then_restore(self):
        self.ctl("user", "add", "saved", "-p", "saved pw", "-q", "4096", check=True)
        self.app.deliver("saved", make_message("kept", "hello\n", to="saved@localhost"))
        p = self.login("saved", "saved pw")  # a session open while the copy is taken
        bk = os.path.join(self.app.dir, "backup")
        try:
            r = self.ctl("backup", bk)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            p.quit()
        self.assertEqual(stat.S_IMODE(os.stat(bk).st_mode), 0o700)
        self.assertEqual(sorted(os.listdir(bk)), ["POSTERN-BACKUP", "data.mdb", "postern.conf"])
        for f in os.listdir(bk):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(bk, f)).st_mode), 0o600, f)
        with open(os.path.join(bk, "postern.conf")) as a, open(self.app.conf) as b:
            self.assertEqual(a.read(), b.read())
        with open(os.path.join(bk, "POSTERN-BACKUP")) as f:
            self.assertTrue(f.read().startswith("postern-backup 1\nversion %s\n" % built_version()))
        r = self.ctl("backup", bk)
        self.assertEqual(r.returncode, 1)  # never into an existing directory
        r = self.ctl("restore", bk)
        self.assertEqual(r.returncode, 1)  # the live db is never overwritten
        self.assertIn("a user db exists", r.stderr)

        fresh = Appliance(seed=False)
        try:
            r = fresh.ctl("restore", self.app.dir, check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("is not a posternctl backup", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(fresh.dir, "state", "userdb", "data.mdb")))
            r = fresh.ctl("restore", bk)
            self.assertIn("restored", r.stdout)
            self.assertIn("was not installed", r.stdout)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(fresh.dir, "state", "userdb",
                                                               "data.mdb")).st_mode), 0o600)
            self.assertIn("quota:     4096", fresh.ctl("user", "show", "saved").stdout)
            fresh.start()
            q = self.login("saved", "saved pw", app=fresh)
            self.assertEqual(q.stat()[0], 0)  # the mail stays where it was: only the db moved
            q.quit()
            self.login("demo", "demo", app=fresh).quit()
        finally:
            fresh.cleanup()


if __name__ == "__main__":
    unittest.main()
