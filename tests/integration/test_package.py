"""Packaging: make install/uninstall, the man pages, the bash completion, and
the Debian package installed for real without touching the host.

- TestMakeInstall: `make install DESTDIR=tmp` lays out the tree (the master
  a relative symlink into libexec, the units pointed at the prefix, the
  example config never over an existing one); `make uninstall` removes
  every file again and keeps an edited config.
- TestManPages: groff and man render the three pages without a warning;
  every key of `posternctl config dump` is in postern.conf(5) and every
  command of `posternctl --help` in posternctl(8).
- TestCompletion: the completion file sourced in bash, its function driven
  with COMP_WORDS/COMP_CWORD, against the table of `posternctl --help`.
- TestDebianPackage (root, dpkg-deb and lintian): `make deb`; lintian reports
  no error and only the warnings docs/INSTALL.md lists; then, in a private
  mount namespace with an overlay over / (tmpfs upper dir) and a chroot into
  it, `dpkg -i`, a domain and a user made with the packaged posternctl, the
  installed units checked with systemd-analyze verify and security, the
  packaged master started as postern.service's User= with its capabilities
  on loopback ports the harness picked, a POP3 login with poplib, a clean
  stop, `dpkg --purge`, and a check that what the package installed is gone
  and the mail is kept; and once more with systemd-sysusers and
  systemd-tmpfiles removed, for postinst's useradd/mkdir path.
- TestPackageUnderSystemd (opt-in, PTEST_REAL_SYSTEMD=1): test_systemd's
  TestRealSystemd with Postern installed by `dpkg -i` in its container (its
  CONTAINER_INIT with the install steps replaced), so the packaged units,
  users and directories serve under a real systemd 252 as PID 1; then
  `dpkg --purge` with systemd running stops the service and its sockets.
"""
import hashlib
import os
import poplib
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import test_systemd
from harness import BIN, TOP, free_port, wait_until

CTL = os.path.join(BIN, "posternctl")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


def have(*tools):
    return all(shutil.which(t) for t in tools)


def help_commands():
    """The command words of posternctl's table, as --help prints them."""
    out = subprocess.run([CTL, "--help"], capture_output=True, text=True, check=True).stdout
    cmds, on = [], False
    for line in out.splitlines():
        if line.startswith("commands:"):
            on = True
        elif on and re.match(r"  [a-z]", line):
            words = []
            for w in line.split():
                if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
                    break
                words.append(w)
            cmds.append(" ".join(words))
    return cmds


def config_keys():
    out = subprocess.run([CTL, "-c", "none", "config", "dump"], capture_output=True, text=True,
                         check=True, env=ENV).stdout
    return [line.split(" = ")[0] for line in out.splitlines() if " = " in line]


def make(*args, umask=None):
    # not the flags of a make that runs the tests (its jobserver fds are closed here)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", "-C", TOP] + list(args),
                          capture_output=True, text=True, timeout=600, env=env,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def files_under(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


class TestMakeInstall(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="postern-destdir-")

    def tearDown(self):
        shutil.rmtree(self.dest, ignore_errors=True)

    def install(self, *extra):
        r = make("install", "DESTDIR=" + self.dest, *extra)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_layout_and_uninstall(self):
        self.install()
        d = os.path.join(self.dest, "usr/local")
        libexec = os.path.join(d, "libexec/postern")
        daemons = sorted(b for b in os.listdir(BIN) if b.startswith("postern-"))
        self.assertEqual(sorted(os.listdir(libexec)), daemons)
        for b in daemons:
            self.assertTrue(os.access(os.path.join(libexec, b), os.X_OK), b)
        self.assertTrue(os.access(os.path.join(d, "sbin/posternctl"), os.X_OK))
        # the master's link is relative and leads to libexec, where its
        # children are (find_libexec resolves /proc/self/exe)
        link = os.path.join(d, "sbin/postern-master")
        self.assertEqual(os.readlink(link), "../libexec/postern/postern-master")
        self.assertEqual(os.path.realpath(link), os.path.join(libexec, "postern-master"))
        units = os.path.join(d, "lib/systemd/system")
        shipped = sorted(u for u in os.listdir(os.path.join(TOP, "systemd"))
                         if u.endswith((".service", ".socket")))
        self.assertEqual(sorted(os.listdir(units)), shipped)
        with open(os.path.join(units, "postern.service")) as f:
            svc = f.read()
        self.assertIn("ExecStart=/usr/local/libexec/postern/postern-master -c "
                      "/etc/postern/postern.conf\n", svc)
        self.assertIn("Documentation=file:/usr/local/share/doc/postern/SYSTEMD.md\n", svc)
        self.assertNotIn("/usr/libexec/", svc)
        for rel in ("lib/sysusers.d/postern.conf", "lib/tmpfiles.d/postern.conf",
                    "share/man/man5/postern.conf.5", "share/man/man8/posternctl.8",
                    "share/man/man8/postern-master.8",
                    "share/bash-completion/completions/posternctl",
                    "share/doc/postern/examples/postern.conf", "share/doc/postern/SYSTEMD.md",
                    "share/doc/postern/examples/fail2ban/postern.conf"):
            self.assertTrue(os.path.isfile(os.path.join(d, rel)), rel)
        conf = os.path.join(self.dest, "etc/postern/postern.conf")
        with open(conf) as f, open(os.path.join(TOP, "packaging/postern.conf")) as g:
            self.assertEqual(f.read(), g.read())
        # the installed example is a valid config
        r = subprocess.run([os.path.join(d, "sbin/posternctl"), "-c", conf, "config", "dump", "-n"],
                           capture_output=True, text=True, env=ENV)
        self.assertEqual(r.returncode, 0, r.stderr)

        # an edited config survives a second install and the uninstall
        with open(conf, "a") as f:
            f.write("max_daemons = 7\n")
        r = self.install()
        self.assertIn("KEEP", r.stdout)
        with open(conf) as f:
            self.assertIn("max_daemons = 7", f.read())
        r = make("uninstall", "DESTDIR=" + self.dest)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(files_under(self.dest), {"etc/postern/postern.conf"})
        self.assertFalse(os.path.exists(libexec))

        # an unedited config goes with the rest
        os.unlink(conf)
        self.install()
        make("uninstall", "DESTDIR=" + self.dest)
        self.assertEqual(files_under(self.dest), set())
        self.assertFalse(os.path.lexists(link))

    def test_other_prefix(self):
        self.install("PREFIX=/opt/postern")
        link = os.path.join(self.dest, "opt/postern/sbin/postern-master")
        self.assertEqual(os.readlink(link), "../libexec/postern/postern-master")
        with open(os.path.join(self.dest, "opt/postern/lib/systemd/system/postern.service")) as f:
            self.assertIn("ExecStart=/opt/postern/libexec/postern/postern-master ", f.read())


class TestVersion(unittest.TestCase):
    """packaging/version.sh in a scratch repository: git describe in Debian's form."""

    def setUp(self):
        self.repo = tempfile.mkdtemp(prefix="postern-version-")
        os.mkdir(os.path.join(self.repo, "packaging"))
        shutil.copy(os.path.join(TOP, "packaging/version.sh"), os.path.join(self.repo, "packaging"))
        self.git("init", "-q")
        self.commit()

    def tearDown(self):
        shutil.rmtree(self.repo, ignore_errors=True)

    def git(self, *args):
        return subprocess.run(["git", "-C", self.repo, "-c", "user.name=t", "-c", "user.email=t@t",
                               "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"] + list(args),
                              capture_output=True, text=True, check=True).stdout.strip()

    def commit(self):
        with open(os.path.join(self.repo, "f"), "a") as f:
            f.write("x\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "c")

    def version(self):
        return subprocess.run(["sh", os.path.join(self.repo, "packaging/version.sh")],
                              capture_output=True, text=True, check=True).stdout.strip()

    def test_forms(self):
        h = self.git("rev-parse", "--short=7", "HEAD")
        self.assertEqual(self.version(), "0~git1.g" + h)
        self.commit()
        h = self.git("rev-parse", "--short=7", "HEAD")
        self.assertEqual(self.version(), "0~git2.g" + h)
        with open(os.path.join(self.repo, "f"), "a") as f:
            f.write("y\n")
        self.assertEqual(self.version(), "0~git2.g%s+dirty" % h)
        self.git("checkout", "-q", "f")
        self.git("tag", "v1.2")
        self.assertEqual(self.version(), "1.2")
        self.commit()
        h = self.git("rev-parse", "--short", "HEAD")
        self.assertEqual(self.version(), "1.2+1.g" + h)
        # every form sorts after the one before it, as dpkg compares versions
        for a, b in (("0~git2.g" + h, "1.2"), ("1.2", "1.2+1.g" + h)):
            self.assertEqual(subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode,
                             0, (a, b))


MAN = os.path.join(TOP, "man")


class TestManPages(unittest.TestCase):
    def render(self, page):
        # no hyphenation and long lines, so that every name stays whole
        r = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", "-rHY=0", "-rLL=250n", "-ww",
                            os.path.join(MAN, page)], capture_output=True, text=True, env=ENV)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", page)
        return re.sub(r"[ \t]+", " ", r.stdout)

    def test_render_without_warnings(self):
        for page in ("posternctl.8", "postern-master.8", "postern.conf.5"):
            r = subprocess.run(["man", "--warnings", "-l", "-Tutf8", os.path.join(MAN, page)],
                               capture_output=True, text=True, env=dict(ENV, MANWIDTH="80"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", page)
            self.assertIn("NAME", re.sub(".\x08", "", r.stdout))
            self.render(page)

    def test_every_config_key_is_in_postern_conf_5(self):
        text = self.render("postern.conf.5")
        keys = config_keys()
        self.assertGreater(len(keys), 50)
        missing = [k for k in keys if not re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % k, text)]
        self.assertEqual(missing, [], "keys missing from man/postern.conf.5")

    def test_every_command_is_in_posternctl_8(self):
        text = self.render("posternctl.8")
        cmds = help_commands()
        self.assertIn("user add", cmds)
        missing = [c for c in cmds if not re.search(r"(?m)^ +%s(?![a-z-])" % re.escape(c), text)]
        self.assertEqual(missing, [], "commands missing from man/posternctl.8")


COMPLETION = os.path.join(TOP, "completion", "posternctl.bash")
DRIVE = r"""
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_posternctl
printf '%s\n' "${COMPREPLY[@]}"
"""


class TestCompletion(unittest.TestCase):
    def complete(self, *words):
        r = subprocess.run(["bash", "-c", DRIVE, "drive", COMPLETION, CTL] + list(words),
                           capture_output=True, text=True, env=ENV, cwd=TOP, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return [w for w in r.stdout.split("\n") if w]

    def test_registered_for_posternctl(self):
        r = subprocess.run(["bash", "-c", 'source "$1"; complete -p posternctl', "x", COMPLETION],
                           capture_output=True, text=True, env=ENV)
        self.assertEqual(r.stdout.strip(), "complete -F _posternctl posternctl")

    def test_first_words_are_the_table(self):
        cmds = help_commands()
        self.assertEqual(sorted(self.complete("")), sorted({c.split()[0] for c in cmds}))
        self.assertEqual(self.complete("us"), ["user"])
        # after -c FILE as well
        self.assertEqual(self.complete("-c", "/etc/postern/x.conf", "dom"), ["domain"])

    def test_subcommands_of_every_group(self):
        cmds = help_commands()
        groups = {}
        for c in cmds:
            w = c.split()
            if len(w) > 1:
                groups.setdefault(w[0], set()).add(w[1])
        self.assertIn("user", groups)
        for g, subs in groups.items():
            self.assertEqual(set(self.complete(g, "")), subs, g)
        self.assertEqual(self.complete("user", "di"), ["disable"])
        # a command without subcommands completes no further words
        self.assertEqual(self.complete("policy", ""), [])

    def test_options(self):
        self.assertEqual(set(self.complete("-")), {"-c", "-h", "--help", "-V", "--version"})
        self.assertEqual(set(self.complete("user", "add", "bob", "-")),
                         {"-p", "-s", "-u", "-g", "-m", "-q", "--help"})
        self.assertEqual(set(self.complete("user", "set", "bob", "--")),
                         {"--quota", "--uid", "--gid", "--mailroot", "--disable", "--enable", "--rename",
                          "--deny", "--allow", "--help"})
        self.assertEqual(set(self.complete("config", "dump", "-")), {"-n", "--help"})

    def test_file_names(self):
        self.assertIn("none", self.complete("-c", "no"))
        self.assertIn("Makefile", self.complete("-c", "Makef"))
        self.assertIn("Makefile", self.complete("backup", "Makef"))   # DIR
        self.assertEqual(self.complete("user", "del", "Makef"), [])     # USER


# The private tree: a tmpfs on S (in this namespace only), an overlay of /
# with its upper dir there, and what a chroot needs.  The host's / is the
# read-only lower layer; everything dpkg writes lands in the tmpfs, which
# goes away with the namespace.
HOLDER = r"""
set -e
S=$1; DEB=$2
mount -t tmpfs -o mode=0755 tmpfs "$S"
mkdir "$S/upper" "$S/work" "$S/root"
R="$S/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$R"
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
# a clean machine: nothing of a Postern from the host; and every file of the
# package installed (a slim image's dpkg filters drop man pages and docs)
rm -rf "$R/etc/postern" "$R/var/lib/postern" "$R/var/mail/localhost"
sed -i '/^path-exclude/d' "$R"/etc/dpkg/dpkg.cfg.d/* 2>/dev/null || true
cp "$DEB" "$R/tmp/postern.deb"
echo ready
exec sleep infinity
"""

class Overlay:
    """The holder of the private mount namespace; sh() runs in its chroot."""

    def __init__(self, deb):
        self.scratch = tempfile.mkdtemp(prefix="postern-dpkg-")
        self.root = os.path.join(self.scratch, "root")
        self.holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                        "/bin/sh", "-c", HOLDER, "holder", self.scratch, deb],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                                       start_new_session=True)
        if self.holder.stdout.readline() != b"ready\n":
            self.holder.wait(30)
            err = self.holder.stderr.read().decode()
            self.close()
            raise AssertionError("namespace setup failed: " + err)

    def argv(self, script):
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--", "chroot", self.root,
                "/bin/sh", "-c", script]

    def sh(self, script, check=True, input=None):
        r = subprocess.run(self.argv(script), capture_output=True, text=True, input=input,
                           env=dict(ENV, DEBIAN_FRONTEND="noninteractive"), timeout=300)
        if check and r.returncode != 0:
            raise AssertionError("%s: exit %d\n%s%s" % (script, r.returncode, r.stdout, r.stderr))
        return r

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait()
        self.holder.stdout.close()
        self.holder.stderr.close()
        # the tmpfs lived only in the namespace: the host's dir is empty
        os.rmdir(self.scratch)


CAPS_RX = re.compile(r"^AmbientCapabilities=(.*)$", re.M)


# Skipped only without root or without dpkg-deb/lintian; everything else the
# tests use (groff, man, bash, git, unshare, nsenter, setpriv) comes from
# scripts/deps.sh or Debian's essential set, and its absence is a failure.
def can_install():
    if os.geteuid() != 0:
        return "needs root (a mount namespace, dpkg -i in a chroot)"
    if not have("dpkg-deb", "lintian"):
        return "needs dpkg-deb and lintian (make deps)"
    return None


@unittest.skipIf(can_install(), can_install() or "")
class TestDebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = make("deb")
        if r.returncode != 0:
            raise AssertionError("make deb failed: " + r.stdout[-3000:] + r.stderr[-3000:])
        debs = [f for f in os.listdir(os.path.join(TOP, "build/deb")) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(TOP, "build/deb", debs[0])
        # at once: a commit or an edit later would change it
        cls.version = subprocess.run(["sh", os.path.join(TOP, "packaging/version.sh")],
                                     capture_output=True, text=True, check=True).stdout.strip()

    def dpkg_field(self, field):
        return subprocess.run(["dpkg-deb", "-f", self.deb, field], capture_output=True, text=True,
                              check=True).stdout.strip()

    def test_control(self):
        version = self.version
        self.assertRegex(version, r"^[0-9][A-Za-z0-9.+~]*$")
        self.assertEqual(self.dpkg_field("Version"), version)
        self.assertEqual(self.dpkg_field("Package"), "postern")
        self.assertEqual(self.dpkg_field("Architecture"), "amd64")
        self.assertEqual(os.path.basename(self.deb), "postern_%s_amd64.deb" % version)
        ctl = subprocess.run(["dpkg-deb", "--ctrl-tarfile", self.deb], capture_output=True,
                             check=True).stdout
        tmp = tempfile.mkdtemp(prefix="postern-ctrl-")
        try:
            subprocess.run(["tar", "-x", "-C", tmp], input=ctl, check=True)
            with open(os.path.join(tmp, "conffiles")) as f:
                self.assertEqual(f.read().split(), ["/etc/postern/postern.conf"])
            for s in ("postinst", "prerm", "postrm"):
                self.assertTrue(os.access(os.path.join(tmp, s), os.X_OK), s)
        finally:
            shutil.rmtree(tmp)
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True,
                                 check=True).stdout
        for path in ("./usr/sbin/posternctl", "./usr/libexec/postern/postern-master",
                     "./usr/share/man/man5/postern.conf.5.gz", "./usr/share/man/man8/posternctl.8.gz",
                     "./usr/share/man/man8/postern-master.8.gz", "./lib/systemd/system/postern.service",
                     "./usr/lib/sysusers.d/postern.conf", "./usr/lib/tmpfiles.d/postern.conf",
                     "./usr/share/bash-completion/completions/posternctl",
                     "./usr/share/doc/postern/copyright", "./usr/share/doc/postern/changelog.gz"):
            self.assertIn(" " + path, listing)
        self.assertIn("./usr/sbin/postern-master -> ../libexec/postern/postern-master", listing)

    def test_reproducible(self):
        """The same tree gives the same .deb, whatever the time and the umask."""
        first = sha256(self.deb)
        r = make("deb", umask=0o077)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertEqual(sha256(self.deb), first)
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True,
                                 check=True).stdout.splitlines()
        for line in listing:
            mode = line.split()[0]
            self.assertIn(mode, ("drwxr-xr-x", "-rw-r--r--", "-rwxr-xr-x", "lrwxrwxrwx"), line)

    def test_lintian(self):
        r = subprocess.run(["lintian", "--no-tag-display-limit", self.deb], capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        tags = [line for line in r.stdout.splitlines() if re.match(r"[EW]: ", line)]
        errors = [t for t in tags if t.startswith("E: ")]
        self.assertEqual(errors, [], r.stdout)
        with open(os.path.join(TOP, "docs/INSTALL.md")) as f:
            doc = f.read()
        for t in tags:
            name = t.split()[2]
            self.assertIn("`%s`" % name, doc, "lintian warning not listed in docs/INSTALL.md: " + t)

    # -- installed for real, in a throw-away overlay of / -----------------------
    def test_install_serve_purge(self):
        ov = Overlay(self.deb)
        sh = ov.sh
        master = None
        logpath = os.path.join(tempfile.gettempdir(), "postern-dpkg-%d.log" % os.getpid())
        logf = open(logpath, "wb")
        try:
            sh("dpkg -i /tmp/postern.deb")
            # the overlay really is private: the host's dpkg knows nothing
            host = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", "postern"],
                                  capture_output=True, text=True)
            self.assertNotEqual(host.stdout, "installed")
            self.assertEqual(sh("dpkg-query -W -f='${db:Status-Status}' postern").stdout, "installed")
            installed = [p for p in sh("dpkg -L postern").stdout.split("\n") if p]
            files = sh("for p in $(dpkg -L postern); do [ -d \"$p\" ] || echo \"$p\"; done"
                       ).stdout.split()
            self.assertIn("/usr/sbin/posternctl", files)
            self.assertIn("/etc/postern/postern.conf", files)

            # postinst: the users of sysusers.d and the state directory
            for u, uid in (("postern-auth", "7001"), ("postern-worker", "7002"),
                           ("postern-keyd", "7003"), ("postern-mail", "7100")):
                ent = sh("getent passwd %s" % u).stdout.split(":")
                self.assertEqual(ent[2], uid, u)
            master_ent = sh("getent passwd postern").stdout.split(":")
            self.assertEqual(sh("stat -c '%U:%G %a' /var/lib/postern").stdout.strip(),
                             "postern:postern 700")
            self.assertEqual(master_ent[6].strip(), "/usr/sbin/nologin")

            # the installed units as systemd reads them: verify prints nothing
            # (ExecStart= exists, User= exists...), the sandbox scores as in
            # test_systemd
            if sh("command -v systemd-analyze", check=False).returncode == 0:
                units = " ".join(u for u in files if u.startswith("/lib/systemd/system/"))
                self.assertIn("/lib/systemd/system/postern.service", units)
                r = sh("systemd-analyze verify %s 2>&1" % units)
                self.assertEqual(r.stdout, "")
                sh("systemd-analyze security --offline=yes --threshold=15 "
                   "/lib/systemd/system/postern.service")

            # the packaged files work: man pages, completion, the config
            for page in ("posternctl", "postern-master", "postern.conf"):
                text = re.sub(".\x08", "", sh("MANPAGER=cat man %s" % page).stdout)
                self.assertIn("NAME", text, page)
            sh("bash -c '. /usr/share/bash-completion/completions/posternctl; "
               "complete -p posternctl'")
            sh("posternctl config check")

            ports = []
            while len(ports) < 3:
                p = free_port()
                if p not in ports:
                    ports.append(p)
            pop3, imap, smtp = ports
            sh("cat >> /etc/postern/postern.conf", input=(
                "pop3_listen = 127.0.0.1:%d\nimap_listen = 127.0.0.1:%d\n"
                "smtp_listen = 127.0.0.1:%d\ntls_plaintext_loopback = yes\n"
                "auth_fail_delay_ms = 0\n" % (pop3, imap, smtp)))
            sh("/usr/sbin/posternctl domain add localhost")
            sh("/usr/sbin/posternctl user add demo -p 'pack age'")
            sh("/usr/sbin/posternctl deliver demo",
               input="From: a@example.org\nTo: demo@localhost\nSubject: from the package\n\n"
                     "installed by dpkg\n")

            # the master as postern.service runs it: User=, Group=, the
            # ambient and bounding capabilities, no_new_privs, UMask=
            with open(os.path.join(TOP, "systemd/postern.service")) as f:
                unit = f.read()
            caps = ",".join("+" + c[4:].lower() for c in CAPS_RX.search(unit).group(1).split())
            exec_start = re.search(r"^ExecStart=(\S+)", unit, re.M).group(1)
            self.assertEqual(sh("readlink -f /usr/sbin/postern-master").stdout.strip(), exec_start)
            cmd = ("umask 077; exec setpriv --reuid=postern --regid=postern --clear-groups "
                   "--inh-caps=-all,{0} --ambient-caps=-all,{0} --bounding-set=-all,{0} "
                   "--no-new-privs -- /usr/sbin/postern-master -c /etc/postern/postern.conf"
                   ).format(caps)
            master = subprocess.Popen(ov.argv(cmd), stdout=subprocess.DEVNULL, stderr=logf,
                                      env=ENV)

            def log():
                with open(logpath, "rb") as f:
                    return f.read().decode("utf-8", "replace")

            def ready():
                if master.poll() is not None:
                    raise AssertionError("master exited %d: %s" % (master.returncode, log()))
                return "event=ready" in log() and re.search(r"proc=authd pid=\d+ level=info "
                                                            r"event=ready", log())
            wait_until(ready, 60, "the packaged master ready")
            self.assertRegex(log(), r"event=ready config=/etc/postern/postern.conf "
                                    r"libexec=/usr/libexec/postern ")
            self.assertNotIn("event=unprivileged", log())
            # the packaged posternctl finds the master's control socket
            status = sh("/usr/sbin/posternctl status").stdout
            self.assertIn("version", status)

            c = poplib.POP3("127.0.0.1", pop3, timeout=60)
            try:
                c.user("demo")
                c.pass_("pack age")
                self.assertEqual(c.stat()[0], 1)
                body = b"\n".join(c.retr(1)[1])
                self.assertIn(b"Subject: from the package", body)
                self.assertIn(b"installed by dpkg", body)
            finally:
                c.quit()
            self.assertRegex(log(), r"event=login .*user=demo@localhost")

            master.send_signal(signal.SIGTERM)
            self.assertEqual(master.wait(60), 0, log())
            self.assertIn("event=stopped clean=yes", log())
            master = None
            state = set(sh("ls -A /var/lib/postern").stdout.split())
            self.assertLessEqual(state, {"userdb", "tls", "authd.secret", "empty", "control"},
                                 "postrm would keep these")

            # purge: the package's files, its conffile and its state go; the
            # mail and the system users stay (postrm says why)
            sh("dpkg --purge postern")
            self.assertIn(sh("dpkg-query -W -f='${db:Status-Status}' postern 2>/dev/null",
                             check=False).stdout, ("", "not-installed"))
            left = sh("for p in %s; do [ -e \"$p\" ] || [ -L \"$p\" ] && echo \"$p\"; done; true"
                      % " ".join(files)).stdout.split()
            self.assertEqual(left, [])
            for d in ("/var/lib/postern", "/etc/postern", "/usr/libexec/postern",
                      "/usr/share/doc/postern"):
                self.assertNotEqual(sh("test -e %s" % d, check=False).returncode, 0, d)
                self.assertTrue(d == "/var/lib/postern" or d in installed, d)
            self.assertEqual(sh("find /var/mail/localhost/demo/new /var/mail/localhost/demo/cur "
                                "-type f | wc -l").stdout.strip(), "1")
            sh("getent passwd postern-mail")
        finally:
            if master is not None and master.poll() is None:
                master.kill()
                master.wait()
            logf.close()
            os.unlink(logpath)
            ov.close()

    def test_postinst_without_systemd_tools(self):
        """useradd/groupadd and mkdir where systemd-sysusers and -tmpfiles are missing."""
        ov = Overlay(self.deb)
        try:
            ov.sh("rm -f $(command -v systemd-sysusers) $(command -v systemd-tmpfiles)")
            self.assertNotEqual(ov.sh("command -v systemd-sysusers", check=False).returncode, 0)
            ov.sh("dpkg -i /tmp/postern.deb")
            for u, uid in (("postern-auth", "7001"), ("postern-worker", "7002"),
                           ("postern-keyd", "7003"), ("postern-mail", "7100")):
                ent = ov.sh("getent passwd %s" % u).stdout.strip().split(":")
                self.assertEqual((ent[2], ent[3], ent[5], ent[6]),
                                 (uid, uid, "/nonexistent", "/usr/sbin/nologin"), u)
                self.assertEqual(ov.sh("getent group %s" % u).stdout.split(":")[2], uid)
            self.assertEqual(ov.sh("stat -c '%U:%G %a' /var/lib/postern").stdout.strip(),
                             "postern:postern 700")
            # a second configure (dpkg-reconfigure, upgrade) finds them all there
            ov.sh("dpkg -i /tmp/postern.deb")
            ov.sh("dpkg --purge postern")
            self.assertNotEqual(ov.sh("test -e /var/lib/postern", check=False).returncode, 0)
        finally:
            ov.close()


# Opt-in (PTEST_REAL_SYSTEMD=1): test_systemd's container with a real systemd
# as PID 1, Postern installed there by `dpkg -i` instead of by hand, so that
# test_systemd's end-to-end checks run against the packaged units, users and
# directories; then `dpkg --purge` under the running systemd (prerm's stop).
PACKAGE_INSTALL = r"""
# the package instead of the install steps of docs/SYSTEMD.md
cp "/oldroot%s" /tmp/postern.deb
sed -i '/^path-exclude/d' /etc/dpkg/dpkg.cfg.d/* 2>/dev/null || true
rm -rf /etc/postern /var/lib/postern /var/mail/localhost
# a container image's policy-rc.d (exit 101) forbids maintainer scripts to
# touch services; a host has none
rm -f /usr/sbin/policy-rc.d
DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/postern.deb
printf 'tls_plaintext_loopback = yes\nauth_fail_delay_ms = 0\n' >> /etc/postern/postern.conf
"""


class TestPackageUnderSystemd(test_systemd.TestRealSystemd):
    @classmethod
    def setUpClass(cls):
        if can_install():
            raise unittest.SkipTest(can_install())
        r = make("deb")
        if r.returncode != 0:
            raise AssertionError("make deb failed: " + r.stdout[-3000:] + r.stderr[-3000:])
        deb = [f for f in os.listdir(os.path.join(TOP, "build/deb")) if f.endswith(".deb")][0]
        init = test_systemd.CONTAINER_INIT
        start = init.index("# the install steps of docs/SYSTEMD.md")
        end = init.index("posternctl domain add localhost")
        test_systemd.CONTAINER_INIT = (init[:start] +
                                       PACKAGE_INSTALL % os.path.join(TOP, "build/deb", deb) +
                                       init[end:])
        try:
            super().setUpClass()
        finally:
            test_systemd.CONTAINER_INIT = init

    def test_a_installed_by_dpkg(self):
        self.assertEqual(self.sh("dpkg-query -W -f='${db:Status-Status}' postern").stdout,
                         "installed")
        self.assertEqual(self.sh("systemctl show -p FragmentPath --value postern.service"
                                 ).stdout.strip(), "/lib/systemd/system/postern.service")

    def test_d_purge_under_systemd(self):
        self.pop3()                               # the service runs
        self.sh("DEBIAN_FRONTEND=noninteractive dpkg --purge postern")
        for u in ("postern.service", "postern.socket", "postern-pop3s.socket"):
            state = self.sh("systemctl is-active %s" % u, check=False).stdout.strip()
            self.assertIn(state, ("inactive", "unknown"), u)
        for d in ("/var/lib/postern", "/etc/postern", "/usr/libexec/postern"):
            self.assertNotEqual(self.sh("test -e %s" % d, check=False).returncode, 0, d)
        r = subprocess.run(["nsenter", "-t", str(self.init), "-n", "python3", "-c",
                            "import socket; socket.create_connection(('127.0.0.1', 110), 5)"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, "port 110 still served after the purge")


if __name__ == "__main__":
    unittest.main()
