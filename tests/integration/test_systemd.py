"""The systemd units in systemd/ (issue 4, item 3).

- TestUnitFiles: `systemd-analyze security --offline=yes` scores postern.service
  1.5 or less, `systemd-analyze verify` prints nothing at all (it exits 0 on
  unknown keys, so any output is a failure), every hardening line the docs
  explain is still there, the socket units name their descriptors, and the
  sysusers file creates the users.
- TestSocketActivated: systemd is not PID 1 here, so the master is started by
  systemd-socket-activate (LISTEN_FDS, LISTEN_FDNAMES=pop3:pop3s) inside a
  reproduction of the unit's sandbox, built from the unit file itself by
  this module run as `python3 test_systemd.py --confine SPEC -- COMMAND`:
  mount namespace with ProtectSystem=strict / ReadWritePaths / PrivateTmp /
  PrivateDevices / ProtectHome / ProtectProc+ProcSubset, private network, IPC
  and UTS namespaces, a private session keyring, UMask, LimitNOFILE, the
  seccomp filters of SystemCallFilter (+ SystemCallErrorNumber),
  RestrictAddressFamilies, MemoryDenyWriteExecute, RestrictNamespaces and
  RestrictSUIDSGID, then setpriv for User=/Group= (a test uid),
  AmbientCapabilities, CapabilityBoundingSet and NoNewPrivileges.
  Not reproduced: the cgroup device ACL (DevicePolicy), IPAddressDeny (BPF),
  LockPersonality, RestrictRealtime (its calls are outside the allow-list
  anyway), ProtectKernel*/ProtectControlGroups beyond a read-only /sys.
  TestConfinementProbe checks that the reproduction really confines.
- TestRealSystemd (opt-in, PTEST_REAL_SYSTEMD=1): the same units under the
  host's real systemd booted as PID 1 of a throw-away container.
"""
import ctypes
import errno
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, TOP, command, free_port, make_message, proc_status, wait_until  # noqa: E402

UNITDIR = os.path.join(TOP, "systemd")
SERVICE = os.path.join(UNITDIR, "postern.service")
SOCKETS = [os.path.join(UNITDIR, n) for n in ("postern.socket", "postern-pop3s.socket")]
SYSUSERS = os.path.join(UNITDIR, "postern.sysusers")
SHIPPED_EXECSTART = "/usr/libexec/postern/postern-master -c /etc/postern/postern.conf"
TEST_UID = 7099          # stands in for the "postern" system user
WORKER_UID, MAIL_UID = 7002, 7100

# The capabilities the tree needs (docs/SYSTEMD.md explains each one).
CAPS = ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_SYS_CHROOT",
        "CAP_DAC_OVERRIDE", "CAP_KILL"]
CAP_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6,
            "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_SYS_CHROOT": 18}

# Every hardening line docs/SYSTEMD.md explains, with its exact value.
# A line removed or weakened fails here even if the score still passes.
HARDENING = {
    "User": "postern",
    "Group": "postern",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "StateDirectory": "postern",
    "StateDirectoryMode": "0700",
    "ReadWritePaths": "/var/mail",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "DevicePolicy": "closed",
    "PrivateMounts": "yes",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "UMask": "0077",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "RestrictNamespaces": "yes",
    "KeyringMode": "private",
    "PrivateIPC": "yes",
    "RemoveIPC": "yes",
    "PrivateNetwork": "yes",
    "RestrictAddressFamilies": "AF_UNIX",
    "IPAddressDeny": "any",
    "SystemCallArchitectures": "native",
    "SystemCallErrorNumber": "EPERM",
    "KillMode": "mixed",
}
SYSCALL_FILTER = ["@system-service chroot seccomp", "~@resources"]
# Groups `systemd-analyze security` scores; none of their calls may be allowed
# except @privileged (chown, setresuid, capset, chroot: the children's drop)
# and @mount (chroot).
FORBIDDEN_GROUPS = ["@clock", "@cpu-emulation", "@debug", "@module", "@obsolete",
                    "@raw-io", "@reboot", "@swap", "@resources"]


def read_unit(path):
    """[(section, key, value)] in file order (no continuation lines are used)."""
    out, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            k, _, v = line.partition("=")
            out.append((section, k.strip(), v.strip()))
    return out


def values(path, key, section="Service"):
    return [v for s, k, v in read_unit(path) if s == section and k == key]


def one(path, key, section="Service"):
    v = values(path, key, section)
    if len(v) != 1:
        raise AssertionError("%s: want exactly one %s=, have %r" % (path, key, v))
    return v[0]


def analyze(*args, cwd=None):
    return subprocess.run(["systemd-analyze"] + list(args), capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def syscall_groups():
    """{"@group": [members...]} from `systemd-analyze syscall-filter`."""
    r = analyze("syscall-filter")
    groups, cur = {}, None
    for line in r.stdout.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if line.startswith("@"):
            cur = groups.setdefault(s.split()[0], [])
        elif cur is not None:
            cur.append(s.split()[0])
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            if n not in groups:
                raise AssertionError("unknown syscall group " + n)
            out |= expand(groups[n], groups, seen)
        else:
            out.add(n)
    return out


def allowed_syscalls(lines, groups):
    """The allow-list systemd builds from SystemCallFilter= lines: the first
    non-~ line starts it (with @default implied), ~ lines remove from it."""
    allow = None
    for line in lines:
        deny = line.startswith("~")
        items = line.lstrip("~").split()
        if allow is None:
            if deny:
                raise AssertionError("SystemCallFilter must start with an allow-list")
            allow = expand(["@default"], groups)
        if deny:
            allow -= expand(items, groups)
        else:
            allow |= expand(items, groups)
    return allow


def have_tools(*tools):
    return all(shutil.which(t) for t in tools)


@unittest.skipUnless(have_tools("systemd-analyze"), "systemd-analyze not installed")
class TestUnitFiles(unittest.TestCase):
    def test_security_score_at_most_1_5(self):
        r = analyze("security", "--offline=yes", "--threshold=15", SERVICE)
        m = re.search(r"Overall exposure level for postern\.service: (\d+)\.(\d)", r.stdout)
        self.assertIsNotNone(m, r.stdout[-2000:] + r.stderr)
        score = int(m.group(1)) * 10 + int(m.group(2))
        self.assertLessEqual(score, 15, "score %d.%d:\n%s" % (score // 10, score % 10,
                                                             "\n".join(l for l in r.stdout.splitlines() if "\u2717" in l)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "the unit must load without any warning")

    def test_verify_prints_nothing(self):
        # verify wants ExecStart= to exist: the same units with only the
        # master's path pointed at build/bin (the shipped line is checked below).
        master = os.path.join(BIN, "postern-master")
        self.assertTrue(os.access(master, os.X_OK), "build the binaries first (make all)")
        d = tempfile.mkdtemp(prefix="postern-verify-")
        try:
            for p in SOCKETS:
                shutil.copy(p, d)
            with open(SERVICE) as f:
                text = f.read()
            self.assertEqual(text.count("ExecStart=" + SHIPPED_EXECSTART), 1)
            with open(os.path.join(d, "postern.service"), "w") as f:
                f.write(text.replace("ExecStart=/usr/libexec/postern/postern-master",
                                     "ExecStart=" + master))
            names = ["postern.socket", "postern-pop3s.socket", "postern.service"]
            r = analyze("verify", *[os.path.join(d, n) for n in names], cwd=d)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_verify_catches_a_bad_key(self):
        # The check above is only worth something if verify's complaints reach
        # stderr: an unknown key must show up there.
        d = tempfile.mkdtemp(prefix="postern-verify-")
        try:
            with open(os.path.join(d, "postern.service"), "w") as f:
                f.write("[Service]\nExecStart=%s\nProtectSystm=strict\n" % os.path.join(BIN, "postern-master"))
            r = analyze("verify", os.path.join(d, "postern.service"), cwd=d)
            self.assertIn("ProtectSystm", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_service_basics(self):
        self.assertEqual(one(SERVICE, "Type"), "simple")
        self.assertEqual(one(SERVICE, "ExecStart"), SHIPPED_EXECSTART)
        self.assertEqual(one(SERVICE, "ExecReload"), "kill -HUP $MAINPID")
        self.assertEqual(one(SERVICE, "Restart"), "on-failure")
        self.assertEqual(one(SERVICE, "Sockets").split(), ["postern.socket", "postern-pop3s.socket"])

    def test_every_hardening_line_is_present(self):
        for key, want in HARDENING.items():
            with self.subTest(key=key):
                self.assertEqual(one(SERVICE, key), want)
        self.assertEqual(values(SERVICE, "SystemCallFilter"), SYSCALL_FILTER)

    def test_capabilities_are_exactly_what_the_tree_needs(self):
        self.assertEqual(sorted(one(SERVICE, "CapabilityBoundingSet").split()), sorted(CAPS))
        self.assertEqual(sorted(one(SERVICE, "AmbientCapabilities").split()), sorted(CAPS))

    def test_syscall_allow_list(self):
        groups = syscall_groups()
        allow = allowed_syscalls(values(SERVICE, "SystemCallFilter"), groups)
        # what the process tree calls outside @system-service
        for needed in ("chroot", "seccomp", "setresuid", "setgroups", "capset", "chown",
                       "fchown", "prlimit64", "memfd_create", "socketpair", "accept4", "kill",
                       "execve", "prctl"):
            self.assertIn(needed, allow)
        for g in FORBIDDEN_GROUPS:
            with self.subTest(group=g):
                self.assertEqual(allow & expand([g], groups), set())
        self.assertEqual(allow & expand(["@mount"], groups), {"chroot"})
        # socket, unshare and setns stay allowed here: RestrictAddressFamilies=
        # and RestrictNamespaces= narrow them with their own filters
        for call in ("ptrace", "mount", "pivot_root", "setrlimit", "sethostname",
                     "init_module", "bpf", "reboot", "swapon", "settimeofday", "syslog"):
            self.assertNotIn(call, allow)

    def test_socket_units_name_their_descriptors(self):
        for path, port, name in ((SOCKETS[0], 110, "pop3"), (SOCKETS[1], 995, "pop3s")):
            with self.subTest(unit=os.path.basename(path)):
                self.assertEqual(values(path, "ListenStream", "Socket"),
                                 ["0.0.0.0:%d" % port, "[::]:%d" % port])
                self.assertEqual(one(path, "BindIPv6Only", "Socket"), "ipv6-only")
                self.assertEqual(one(path, "FileDescriptorName", "Socket"), name)
                self.assertEqual(one(path, "Service", "Socket"), "postern.service")
                self.assertEqual(one(path, "WantedBy", "Install"), "sockets.target")
        self.assertEqual(one(SOCKETS[0], "Also", "Install"), "postern-pop3s.socket")

    def test_every_socket_unit_names_an_enabled_service(self):
        """Each shipped .socket names a row the master adopts (FileDescriptorName=)
        and postern.service; the optional ones are off until enabled."""
        r = subprocess.run([os.path.join(BIN, "posternctl"), "services"], capture_output=True,
                           text=True, timeout=30)
        enabled = {l.split()[0] for l in r.stdout.splitlines()[1:] if " enabled " in l}
        units = sorted(n for n in os.listdir(UNITDIR) if n.endswith(".socket"))
        self.assertGreaterEqual(set(units), {"postern.socket", "postern-pop3s.socket",
                                             "postern-smtp.socket", "postern-imap.socket",
                                             "postern-imaps.socket", "postern-lmtp.socket",
                                             "postern-metrics.socket"})
        for u in units:
            with self.subTest(unit=u):
                path = os.path.join(UNITDIR, u)
                self.assertIn(one(path, "FileDescriptorName", "Socket"), enabled)
                self.assertEqual(one(path, "Service", "Socket"), "postern.service")
                self.assertEqual(one(path, "WantedBy", "Install"), "sockets.target")
                self.assertTrue(values(path, "ListenStream", "Socket"))
        self.assertEqual(values(os.path.join(UNITDIR, "postern-metrics.socket"), "ListenStream",
                                "Socket"), ["127.0.0.1:9154"])

    @unittest.skipUnless(have_tools("systemd-sysusers"), "systemd-sysusers not installed")
    def test_sysusers_creates_the_users(self):
        root = tempfile.mkdtemp(prefix="postern-sysusers-")
        try:
            os.makedirs(os.path.join(root, "etc"))
            os.makedirs(os.path.join(root, "usr/lib/sysusers.d"))
            shutil.copy(SYSUSERS, os.path.join(root, "usr/lib/sysusers.d/postern.conf"))
            r = subprocess.run(["systemd-sysusers", "--root=" + root], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(root, "etc/passwd")) as f:
                users = {l.split(":")[0]: int(l.split(":")[2]) for l in f if l.strip()}
            self.assertIn("postern", users)
            self.assertNotIn(users["postern"], (0, 7001, 7002, 7003, 7100))
            self.assertEqual([users.get(n) for n in ("postern-auth", "postern-worker",
                                                     "postern-keyd", "postern-mail")],
                             [7001, 7002, 7003, 7100])
        finally:
            shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------
# The sandbox reproduction.

def sandbox_spec(scratch, rw_paths, stage):
    """What the service asks for, read from the unit file, for --confine."""
    def yes(key):
        v = values(SERVICE, key)
        return bool(v) and v[-1] in ("yes", "true", "on", "1", "strict", "invisible", "pid", "private")
    caps = one(SERVICE, "AmbientCapabilities").split()
    umask = int(one(SERVICE, "UMask"), 8)
    return {
        "scratch": scratch,
        "stage": stage,
        "rw_paths": rw_paths,
        "uid": TEST_UID,
        "gid": TEST_UID,
        "ambient": caps,
        "bounding": one(SERVICE, "CapabilityBoundingSet").split(),
        "no_new_privs": yes("NoNewPrivileges"),
        "protect_system": one(SERVICE, "ProtectSystem"),
        "protect_home": yes("ProtectHome"),
        "private_tmp": yes("PrivateTmp"),
        "private_devices": yes("PrivateDevices"),
        "protect_proc": one(SERVICE, "ProtectProc"),
        "proc_subset": one(SERVICE, "ProcSubset"),
        "private_network": yes("PrivateNetwork"),
        "private_ipc": yes("PrivateIPC"),
        "protect_hostname": yes("ProtectHostname"),
        "keyring_private": one(SERVICE, "KeyringMode") == "private",
        "umask": umask,
        "syscalls": sorted(allowed_syscalls(values(SERVICE, "SystemCallFilter"), syscall_groups())),
        "syscall_errno": one(SERVICE, "SystemCallErrorNumber"),
        "address_families": one(SERVICE, "RestrictAddressFamilies"),
        "mdwe": yes("MemoryDenyWriteExecute"),
        "restrict_namespaces": yes("RestrictNamespaces"),
        "restrict_suid_sgid": yes("RestrictSUIDSGID"),
    }


def confine_argv(spec_path, cmd):
    return [sys.executable, os.path.abspath(__file__), "--confine", spec_path, "--"] + cmd


def can_reproduce():
    if os.geteuid() != 0:
        return "needs root (mount namespace, setpriv, seccomp)"
    if not have_tools("systemd-analyze", "systemd-socket-activate", "setpriv"):
        return "needs systemd-analyze, systemd-socket-activate and setpriv"
    try:
        ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return "needs libseccomp.so.2"
    if not os.access(os.path.join(BIN, "postern-master"), os.X_OK):
        return "build the binaries first (make all)"
    return None


# What the unit hides (ProtectHome=, PrivateTmp=): a checkout there (a CI
# clone in /tmp, a home directory) gets its binaries and scratch trees
# copied to a place the confined master can see.
HIDDEN = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")
_visible = {}


def hidden(path):
    return any(path == d or path.startswith(d + "/") for d in HIDDEN)


def visible_base():
    """A directory the confined master sees: build/ of the checkout, or a
    copy of its binaries under /var/lib when the checkout is hidden."""
    if not _visible:
        if not hidden(TOP):
            _visible.update(base=os.path.join(TOP, "build"), bin=BIN, own=False)
        else:
            base = tempfile.mkdtemp(prefix="postern-systemd-test-", dir="/var/lib")
            os.chmod(base, 0o755)
            shutil.copytree(BIN, os.path.join(base, "bin"))
            _visible.update(base=base, bin=os.path.join(base, "bin"), own=True)
    return _visible


def tearDownModule():
    if _visible.get("own"):
        shutil.rmtree(_visible["base"], ignore_errors=True)


class Scratch:
    """Config, state and mail under build/ (PrivateTmp hides /tmp from the
    master), laid out as on a host: state owned by the service user
    (StateDirectory= chowns it), mail dir root:mail 2775 as Debian ships it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="systemd-test-", dir=visible_base()["base"])
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "postern.conf")
        self.state = os.path.join(self.dir, "state")
        self.mail = os.path.join(self.dir, "mail")
        self.empty = os.path.join(self.state, "empty")
        self.stage = os.path.join(self.dir, "stage")
        for d in (self.state, self.mail, self.stage):
            os.makedirs(d)
        os.chown(self.mail, 0, 8)
        os.chmod(self.mail, 0o2775)
        with open(self.conf, "w") as f:
            f.write("state_dir = %s\nuserdb = %s/userdb\nmail_root = %s/%%d/%%n\n"
                    "empty_root = %s\ndefault_domain = localhost\nauth_fail_delay_ms = 0\n"
                    "tls_plaintext_loopback = yes\n" % (self.state, self.state, self.mail, self.empty))
        os.chmod(self.conf, 0o644)
        self.ctl("domain", "add", "localhost")
        self.ctl("user", "add", "demo", "-p", "demo")
        self.ctl("deliver", "demo", input=make_message("socket activated", "hello from systemd\n"))
        # no mail yet, in a domain without a directory: stored creates both
        self.ctl("domain", "add", "fresh.test")
        self.ctl("user", "add", "new@fresh.test", "-p", "new")
        for root, dirs, files in os.walk(self.state):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, TEST_UID, TEST_UID)
        os.chmod(self.state, 0o700)
        spec = sandbox_spec(self.dir, [self.state, self.mail], self.stage)
        self.spec = os.path.join(self.dir, "sandbox.json")
        with open(self.spec, "w") as f:
            json.dump(spec, f)

    def ctl(self, *args, input=None):
        r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", self.conf] + list(args),
                           capture_output=True, text=True, input=input, timeout=60)
        if r.returncode != 0:
            raise AssertionError("posternctl %s: %s" % (args, r.stderr))
        return r

    def cleanup(self):
        # the confined processes' mounts live in their own namespace: nothing to unmount
        shutil.rmtree(self.dir, ignore_errors=True)


def status_caps(st, key):
    return int(st[key], 16)


def cap_mask(names):
    return sum(1 << CAP_BITS[n] for n in names)


@unittest.skipIf(can_reproduce(), can_reproduce())
class TestConfinementProbe(unittest.TestCase):
    """The reproduction is not a no-op: a shell inside it sees what the unit
    promises (read-only system, private /dev and /proc, no sockets)."""

    @classmethod
    def setUpClass(cls):
        cls.s = Scratch()

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    def test_probe(self):
        port = free_port()
        script = "; ".join([
            "touch /usr/lib/postern-probe 2>/dev/null && echo WROTE_USR",
            "touch %s 2>/dev/null && echo WROTE_CONFDIR" % os.path.join(self.s.dir, "probe"),
            "touch %s && echo WROTE_STATE" % os.path.join(self.s.state, "probe"),
            "touch /tmp/probe && echo WROTE_TMP",
            "test -e /proc/cpuinfo && echo PROC_FULL",
            "test -e /proc/1/status && echo SEES_PID1",
            "echo DEV $(ls /dev | tr '\\n' ' ')",
            "test -e /dev/null && echo DEVNULL",
            "(exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null && echo SOCKET" % port,
            "grep -E '^(Uid|Gid|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status",
        ])
        r = subprocess.run(confine_argv(self.s.spec, ["/bin/bash", "-c", script]),
                           capture_output=True, text=True, timeout=60)
        out = r.stdout
        self.assertEqual(r.returncode, 0, r.stderr + out)
        self.assertNotIn("WROTE_USR", out)
        self.assertNotIn("WROTE_CONFDIR", out)
        self.assertIn("WROTE_STATE", out)
        self.assertIn("WROTE_TMP", out)          # a private, writable /tmp
        self.assertFalse(os.path.exists("/tmp/probe") and os.stat("/tmp/probe").st_uid == TEST_UID)
        self.assertNotIn("PROC_FULL", out)
        self.assertNotIn("SEES_PID1", out)
        self.assertIn("DEVNULL", out)
        dev = re.search(r"^DEV (.*)$", out, re.M).group(1).split()
        self.assertNotIn("sda", dev)
        self.assertNotIn("kmsg", dev)
        self.assertNotIn("SOCKET", out)
        st = dict(l.split(":\t", 1) for l in out.splitlines() if ":\t" in l)
        self.assertEqual(st["Uid"].split(), [str(TEST_UID)] * 4)
        self.assertEqual(int(st["CapAmb"], 16), cap_mask(CAPS))
        self.assertEqual(int(st["CapBnd"], 16), cap_mask(CAPS))
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")


@unittest.skipIf(can_reproduce(), can_reproduce())
class TestSocketActivated(unittest.TestCase):
    """systemd-socket-activate passes a pop3 and a pop3s socket; the master
    adopts them inside the reproduced sandbox of postern.service."""

    @classmethod
    def setUpClass(cls):
        cls.s = Scratch()
        cls.port, cls.tls_port = free_port(), free_port()
        cls.logpath = os.path.join(cls.s.dir, "master.log")
        cls.logf = open(cls.logpath, "ab")
        cmd = ["systemd-socket-activate",
               "-l", "127.0.0.1:%d" % cls.port, "--fdname=pop3",
               "-l", "127.0.0.1:%d" % cls.tls_port, "--fdname=pop3s"]
        cmd += confine_argv(cls.s.spec, [os.path.join(visible_base()["bin"], "postern-master"),
                                         "-c", cls.s.conf])
        # systemd-socket-activate execs its command on the first connection,
        # in its own process: LISTEN_PID is this pid all the way to the master.
        cls.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=cls.logf)
        try:
            wait_until(cls._greets, 20, "POP3 greeting through the socket-activated master")
            wait_until(lambda: re.search(r"proc=authd pid=\d+ level=info event=ready", cls.log()),
                       10, "authd ready")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(15)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        cls.logf.close()
        cls.s.cleanup()

    @classmethod
    def log(cls):
        with open(cls.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @classmethod
    def _greets(cls):
        if cls.proc.poll() is not None:
            raise AssertionError("master exited %s: %s" % (cls.proc.returncode, cls.log()[-3000:]))
        try:
            with socket.create_connection(("127.0.0.1", cls.port), timeout=5) as s:
                return s.makefile("rb").readline().startswith(b"+OK")
        except OSError:
            return False

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        return s, f

    def login(self):
        s, f = self.connect()
        self.assertEqual(command(s, f, "USER demo")[0], b"+OK\r\n")
        first, _ = command(s, f, "PASS demo")
        self.assertTrue(first.startswith(b"+OK Logged in"), first)
        return s, f

    def last_pid(self, pattern):
        m = re.findall(pattern, self.log())
        return int(m[-1]) if m else None

    def require_privileged_mode(self):
        if "event=unprivileged" in self.log():
            self.fail("the master fell back to the unprivileged mode (no chroot, no uid "
                      "separation): it must treat a non-root uid holding CAP_SETUID as "
                      "privileged, see docs/SYSTEMD.md 'What the master needs'")

    def test_master_runs_as_the_unit_says(self):
        self.require_privileged_mode()
        pid = self.proc.pid
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), [str(TEST_UID)] * 4)
        self.assertEqual(st["Gid"].split(), [str(TEST_UID)] * 4)
        self.assertEqual(st["Groups"], "")
        for key in ("CapEff", "CapPrm", "CapAmb", "CapBnd"):
            self.assertEqual(status_caps(st, key), cap_mask(CAPS), key)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertGreaterEqual(int(st["Seccomp_filters"]), 4)
        for ns in ("mnt", "net", "ipc", "uts"):
            self.assertNotEqual(os.readlink("/proc/%d/ns/%s" % (pid, ns)),
                                os.readlink("/proc/self/ns/" + ns), ns)
        # the addresses systemd bound, not the fd numbers
        self.assertIn("proto=pop3 addr=127.0.0.1:%d fd=3" % self.port, self.log())
        self.assertIn("proto=pop3s addr=127.0.0.1:%d fd=4" % self.tls_port, self.log())

    def test_plain_login_and_retr(self):
        s, f = self.login()
        first, lines = command(s, f, "RETR 1", multiline=True)
        self.assertTrue(first.startswith(b"+OK"), first)
        self.assertIn(b"hello from systemd\r\n", lines)
        self.assertTrue(command(s, f, "QUIT")[0].startswith(b"+OK"))
        s.close()

    def test_tls_on_the_pop3s_descriptor(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as t:
                self.assertEqual(t.version(), "TLSv1.2")
                f = t.makefile("rb")
                self.assertTrue(f.readline().startswith(b"+OK"))
                first, _ = command(t, f, "USER demo")
                self.assertEqual(first, b"+OK\r\n")
                first, _ = command(t, f, "PASS demo")
                self.assertTrue(first.startswith(b"+OK Logged in"), first)
                command(t, f, "QUIT")
        # keyd wrote its self-signed pair into the writable state directory
        self.assertTrue(os.path.exists(os.path.join(self.s.state, "tls", "selfsigned.pem")))

    def test_children_drop_everything_under_the_unit(self):
        self.require_privileged_mode()
        s, f = self.login()
        try:
            worker = self.last_pid(r"event=connect proto=pop3 ip=127\.0\.0\.1 worker_pid=(\d+)")
            stored = wait_until(lambda: self.last_pid(r"event=stored_spawn user=demo@localhost "
                                                      r"stored_pid=(\d+)"), 10, "stored")
            maildir = os.path.join(self.s.mail, "localhost", "demo")
            for pid, uid, root in ((worker, WORKER_UID, self.s.empty), (stored, MAIL_UID, maildir)):
                with self.subTest(pid=pid, uid=uid):
                    st = proc_status(pid)
                    self.assertEqual(st["Uid"].split(), [str(uid)] * 4)
                    for key in ("CapEff", "CapPrm", "CapAmb", "CapBnd", "CapInh"):
                        self.assertEqual(status_caps(st, key), 0, key)
                    self.assertEqual(st["NoNewPrivs"], "1")
                    self.assertEqual(st["Seccomp"], "2")
                    # its own filter on top of the unit's
                    self.assertGreater(int(st["Seccomp_filters"]),
                                       int(proc_status(self.proc.pid)["Seccomp_filters"]))
                    a, b = os.stat("/proc/%d/root" % pid), os.stat(root)
                    self.assertEqual((a.st_dev, a.st_ino), (b.st_dev, b.st_ino))
            authd = self.last_pid(r"proc=authd pid=(\d+) level=info event=ready")
            self.assertEqual(proc_status(authd)["Uid"].split(), ["7001"] * 4)
        finally:
            command(s, f, "QUIT")
            s.close()
        st = os.stat(maildir)
        self.assertEqual((st.st_uid, st.st_gid), (MAIL_UID, 7100))

    def test_first_login_creates_the_maildir(self):
        # stored, under the unit: parent directory and Maildir created in the
        # setgid /var/mail stand-in (RestrictSUIDSGID=, UMask=), made by the user's uid
        self.require_privileged_mode()
        s, f = self.connect()
        self.assertEqual(command(s, f, "USER new@fresh.test")[0], b"+OK\r\n")
        first, _ = command(s, f, "PASS new")
        self.assertEqual(first, b"+OK Logged in, 0 messages\r\n")
        command(s, f, "QUIT")
        s.close()
        parent = os.stat(os.path.join(self.s.mail, "fresh.test"))
        self.assertEqual((parent.st_uid, parent.st_mode & 0o777), (TEST_UID, 0o700))
        for sub in ("", "cur", "new", "tmp"):
            st = os.stat(os.path.join(self.s.mail, "fresh.test", "new", sub))
            self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (MAIL_UID, 7100, 0o700))

    def test_no_error_was_logged(self):
        # SystemCallErrorNumber=EPERM turns a missing syscall into an error
        # return, not a kill: any error line here would be one.
        self.login()[0].close()
        bad = [l for l in self.log().splitlines() if "level=error" in l]
        self.assertEqual(bad, [])

    def test_reload_with_sighup(self):
        mark = len(self.log())
        os.kill(self.proc.pid, signal.SIGHUP)   # what ExecReload= does
        wait_until(lambda: "event=reloaded" in self.log()[mark:], 10, "event=reloaded")
        s, f = self.login()
        command(s, f, "QUIT")
        s.close()

    def test_z_sigterm_stops_cleanly(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(15), 0)
        self.assertIn("event=stopped clean=yes", self.log())


# ---------------------------------------------------------------------------
# Opt-in (PTEST_REAL_SYSTEMD=1): the units under a real systemd 252 booted as
# PID 1 of a throw-away container (private pid/mount/net/uts/ipc/cgroup
# namespaces, an overlay over / on tmpfs, /proc/sys and /sys read-only, no
# CAP_SYS_MODULE/TIME/BOOT), installed with the commands of docs/SYSTEMD.md.
# It creates one cgroup under the host's hierarchy and removes it again.

CONTAINER_INIT = r"""#!/bin/bash
set -e
S="$1"; CGMODE="$2"
B="$S/mnt"; mkdir -p "$B"; mount -t tmpfs tmpfs "$B"
mkdir "$B/upper" "$B/work" "$B/root"; R="$B/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$B/upper,workdir=$B/work" "$R"
mount -t proc proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"; mount -o remount,bind,ro "$R/proc/sys"
mount -t sysfs -o ro sysfs "$R/sys"
if [ "$CGMODE" = unified ]; then
  mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
else
  mount -t tmpfs -o mode=755 tmpfs "$R/sys/fs/cgroup"
  mkdir "$R/sys/fs/cgroup/systemd" "$R/sys/fs/cgroup/unified"
  mount -t cgroup -o none,name=systemd,xattr cgroup "$R/sys/fs/cgroup/systemd"
  mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/unified"
  mount -o remount,ro "$R/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
touch "$R/dev/console"; mount --bind /dev/null "$R/dev/console"
mkdir "$R/dev/pts" "$R/dev/shm"; ln -s pts/ptmx "$R/dev/ptmx"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "$R/run"; mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
cd "$R"; mkdir -p oldroot; pivot_root . oldroot; cd /
# the install steps of docs/SYSTEMD.md, from the tree mounted at /oldroot
T="/oldroot$TOP"
for b in master authd keyd stored pop3d; do install -D -m 0755 "$T/build/bin/postern-$b" "/usr/libexec/postern/postern-$b"; done
install -D -m 0755 "$T/build/bin/posternctl" /usr/bin/posternctl
install -D -m 0644 "$T/systemd/postern.sysusers" /usr/lib/sysusers.d/postern.conf
systemd-sysusers /usr/lib/sysusers.d/postern.conf
install -m 0644 "$T/systemd/postern.service" "$T/systemd/postern.socket" "$T/systemd/postern-pop3s.socket" /etc/systemd/system/
install -d -m 0755 /etc/postern
printf 'tls_plaintext_loopback = yes\nauth_fail_delay_ms = 0\n' > /etc/postern/postern.conf
posternctl domain add localhost
posternctl user add demo -p demo
printf 'From: a@example.org\nTo: demo@localhost\nSubject: pid 1\n\nhello from systemd\n' | posternctl deliver demo
# boot only what the test needs: the units' own lines are unchanged
for u in postern.socket postern-pop3s.socket postern.service; do
  mkdir -p "/etc/systemd/system/$u.d"; printf '[Unit]\nDefaultDependencies=no\n' > "/etc/systemd/system/$u.d/test.conf"
done
printf '[Unit]\nDefaultDependencies=no\nWants=postern.socket postern-pop3s.socket systemd-journald.service\n' > /etc/systemd/system/postern-test.target
: > /etc/fstab
umount -l /oldroot
exec setpriv --bounding-set=-sys_module,-sys_time,-sys_boot,-sys_rawio,-syslog,-wake_alarm,-block_suspend,-mac_admin,-mac_override,-audit_control,-audit_read \
  env -i container=postern-test PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd --system --unit=postern-test.target
"""

POP3_CLIENT = r"""
import json, socket, ssl, sys
def session(s):
    f = s.makefile("rb"); out = [f.readline()]
    for c in (b"USER demo", b"PASS demo", b"RETR 1"):
        s.sendall(c + b"\r\n"); out.append(f.readline())
    while out[-1].startswith(b"+OK") and not out[-1].startswith(b"+OK Bye"):
        l = f.readline()
        if l in (b".\r\n", b""):
            break
        if l.startswith(b"hello"):
            out.append(l)
    s.sendall(b"QUIT\r\n"); out.append(f.readline())
    return [x.decode().strip() for x in out]
res = {}
for name, fam, addr, port in (("v4", socket.AF_INET, "127.0.0.1", 110), ("v6", socket.AF_INET6, "::1", 110)):
    s = socket.socket(fam); s.settimeout(20); s.connect((addr, port)); res[name] = session(s); s.close()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", 995), timeout=20))
res["tls"] = [t.version()] + session(t); t.close()
print(json.dumps(res))
"""


@unittest.skipUnless(os.environ.get("PTEST_REAL_SYSTEMD") == "1",
                     "set PTEST_REAL_SYSTEMD=1 to boot a real systemd in a container")
class TestRealSystemd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = can_reproduce()
        if why or not have_tools("unshare", "nsenter") or not os.path.exists("/lib/systemd/systemd"):
            raise unittest.SkipTest(why or "needs unshare, nsenter and /lib/systemd/systemd")
        cls.scratch = tempfile.mkdtemp(prefix="systemd-real-", dir=os.path.join(TOP, "build"))
        name = os.path.basename(cls.scratch)
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            cls.cgmode, cls.cgroups = "unified", ["/sys/fs/cgroup/" + name]
        else:
            cls.cgmode = "hybrid"
            cls.cgroups = ["/sys/fs/cgroup/systemd/" + name, "/sys/fs/cgroup/unified/" + name]
        init = os.path.join(cls.scratch, "init.sh")
        with open(init, "w") as f:
            f.write(CONTAINER_INIT)
        outer = "; ".join(["mkdir -p %s" % " ".join(cls.cgroups)] +
                          ["echo $$ > %s/cgroup.procs" % c for c in cls.cgroups] +
                          ["exec unshare --pid --fork --mount --uts --ipc --net --cgroup "
                           "--propagation private /bin/bash %s %s %s" % (init, cls.scratch, cls.cgmode)])
        cls.logf = open(os.path.join(cls.scratch, "init.log"), "wb")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TOP": TOP}
        cls.unshare = subprocess.Popen(["/bin/bash", "-c", outer], stdout=cls.logf, stderr=cls.logf,
                                       env=env, start_new_session=True)
        try:
            cls.init = wait_until(cls._child, 20, "the container's init")
            wait_until(lambda: cls.sh("systemctl is-active postern.socket postern-pop3s.socket",
                                      check=False).stdout.split() == ["active", "active"],
                       60, "postern sockets active under systemd")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def _child(cls):
        if cls.unshare.poll() is not None:
            with open(os.path.join(cls.scratch, "init.log")) as f:
                raise AssertionError("container exited: " + f.read()[-3000:])
        try:
            with open("/proc/%d/task/%d/children" % (cls.unshare.pid, cls.unshare.pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        if not kids:
            return None
        with open("/proc/%s/comm" % kids[0]) as f:
            return int(kids[0]) if f.read().strip() == "systemd" else None

    @classmethod
    def sh(cls, script, net_only=False, check=True):
        ns = ["-n"] if net_only else ["-a"]
        r = subprocess.run(["nsenter", "-t", str(cls.init)] + ns + ["/bin/sh", "-c", script],
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("%s: %s %s" % (script, r.stdout, r.stderr))
        return r

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "unshare", None) is not None:
            init = getattr(cls, "init", None) or cls._child_quiet()
            if init:
                try:
                    os.kill(init, signal.SIGKILL)   # PID 1 of the namespace: all of it dies
                except ProcessLookupError:
                    pass
            try:
                cls.unshare.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(cls.unshare.pid, signal.SIGKILL)
                cls.unshare.wait()
            cls.logf.close()
        for cg in getattr(cls, "cgroups", []):
            for root, dirs, _ in os.walk(cg, topdown=False):
                try:
                    os.rmdir(root)
                except OSError:
                    pass
        shutil.rmtree(getattr(cls, "scratch", "/nonexistent"), ignore_errors=True)

    @classmethod
    def _child_quiet(cls):
        try:
            return cls._child()
        except AssertionError:
            return None

    def journal(self):
        return self.sh("journalctl -u postern.service -o cat --no-pager").stdout

    def pop3(self):
        r = subprocess.run(["nsenter", "-t", str(self.init), "-n", sys.executable, "-c", POP3_CLIENT],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_a_socket_activation_plain_v4_v6_and_tls(self):
        res = self.pop3()
        for k in ("v4", "v6", "tls"):
            s = res[k][1:] if k == "tls" else res[k]
            self.assertTrue(s[0].startswith("+OK"), res)
            self.assertTrue(s[2].startswith("+OK Logged in"), res)
            self.assertIn("hello from systemd", s)
        self.assertEqual(res["tls"][0], "TLSv1.2")
        log = self.journal()
        self.assertIn("ip=::1 ", log)            # IPv6 clients are not ::ffff:-mapped
        self.assertNotIn("event=unprivileged", log)
        self.assertNotIn("level=error", log)

    def test_b_process_tree(self):
        out = self.sh("for p in $(pgrep -f /usr/libexec/postern/postern-); do "
                      "echo \"$(cat /proc/$p/comm) $(awk '/^(Uid|CapEff|CapBnd|NoNewPrivs):/{printf \"%s \", $2}' /proc/$p/status)\"; "
                      "done").stdout
        rows = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.strip()}
        master = rows["postern-master"]
        self.assertNotEqual(master[0], "0")
        self.assertEqual(int(master[1], 16), cap_mask(CAPS))
        self.assertEqual(master[3], "1")
        for child, uid in (("postern-authd", "7001"), ("postern-keyd", "7003")):
            self.assertEqual(rows[child], [uid, "0" * 16, "0" * 16, "1"], child)

    def test_c_reload_stop_restart(self):
        self.sh("systemctl reload postern.service")
        wait_until(lambda: "event=reloaded" in self.journal(), 10, "reload")
        self.sh("systemctl stop postern.service")
        self.assertIn("event=stopped clean=yes", self.journal())
        res = self.pop3()                         # the sockets start it again
        self.assertTrue(res["v4"][2].startswith("+OK Logged in"), res)
        pid = self.sh("systemctl show -p MainPID --value postern.service").stdout.strip()
        self.sh("kill -9 " + pid)                # Restart=on-failure
        wait_until(lambda: self.sh("systemctl show -p NRestarts --value postern.service").stdout.strip() == "1",
                   20, "restart after SIGKILL")
        res = self.pop3()
        self.assertTrue(res["tls"][3].startswith("+OK Logged in"), res)


# ---------------------------------------------------------------------------
# --confine: the sandbox of postern.service, then exec COMMAND (same pid).

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x40000000
NS_FLAGS = [0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000, 0x80]
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MNT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
             "noatime": 1024, "nodiratime": 2048, "relatime": 1 << 21}
SCMP_ACT_ALLOW = 0x7fff0000
SCMP_CMP_NE, SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ = 1, 4, 7


def SCMP_ACT_ERRNO(e):
    return 0x00050000 | (e & 0xffff)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _confine(spec, argv):
    libc = ctypes.CDLL(None, use_errno=True)

    def check(rc, what):
        if rc != 0:
            e = ctypes.get_errno()
            raise OSError(e, "%s: %s" % (what, os.strerror(e)))

    def mount(src, dst, fstype, flags, data=None):
        enc = lambda s: s.encode() if s is not None else None
        check(libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data)),
              "mount %s on %s" % (src, dst))

    ns = CLONE_NEWNS
    ns |= CLONE_NEWNET if spec["private_network"] else 0
    ns |= CLONE_NEWIPC if spec["private_ipc"] else 0
    ns |= CLONE_NEWUTS if spec["protect_hostname"] else 0
    check(libc.unshare(ns), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    if spec["private_network"]:     # systemd brings up lo in the private namespace
        import fcntl
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", 0x1 | 0x8 | 0x40))

    with open("/proc/self/mountinfo") as f:
        table = [(l.split()[4], l.split()[5].split(",")) for l in f]

    if spec["private_devices"]:     # a tmpfs /dev with the pseudo devices only
        stage = spec["stage"]
        mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755")
        for d in ("null", "zero", "full", "random", "urandom", "tty"):
            open(os.path.join(stage, d), "w").close()
            mount("/dev/" + d, os.path.join(stage, d), None, MS_BIND)
        os.mkdir(os.path.join(stage, "shm"))
        mount("tmpfs", os.path.join(stage, "shm"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(target, os.path.join(stage, name))
        mount(stage, "/dev", None, MS_MOVE)

    if spec["protect_system"] == "strict":   # every mount read-only, API file systems aside
        for mp, opts in table:
            if mp in ("/proc", "/dev") or mp.startswith(("/proc/", "/dev/")):
                continue
            flags = MS_BIND | MS_REMOUNT | MS_RDONLY
            for o in opts:
                flags |= MNT_FLAGS.get(o, 0) & ~MS_RDONLY
            try:
                mount(None, mp, None, flags)
            except OSError as e:
                if e.errno not in (errno.ENOENT, errno.EINVAL) or mp == "/":
                    raise   # only mounts hidden under others may be skipped

    if spec["protect_proc"] != "default" or spec["proc_subset"] != "all":
        opts = ["hidepid=" + spec["protect_proc"]]
        if spec["proc_subset"] == "pid":
            opts.append("subset=pid")
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ",".join(opts))
    if spec["private_tmp"]:
        for d in ("/tmp", "/var/tmp"):
            mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if spec["protect_home"]:
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                mount("tmpfs", d, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000")
    for p in spec["rw_paths"]:      # ReadWritePaths=, StateDirectory=
        mount(p, p, None, MS_BIND | MS_REC)
        mount(None, p, None, MS_BIND | MS_REMOUNT | MS_NOSUID)

    if spec["keyring_private"]:     # keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)
        if libc.syscall(250, 1, None) < 0:
            raise OSError(ctypes.get_errno(), "keyctl")
    os.umask(spec["umask"])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]     # systemd's default: 1024:524288
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, min(hard, 524288)))
    _load_seccomp(spec)

    caps = ",".join("+" + c[4:].lower() for c in spec["ambient"])
    bnd = ",".join("+" + c[4:].lower() for c in spec["bounding"])
    setpriv = [shutil.which("setpriv"), "--reuid=%d" % spec["uid"], "--regid=%d" % spec["gid"],
               "--clear-groups", "--inh-caps=-all," + caps, "--ambient-caps=-all," + caps,
               "--bounding-set=-all," + bnd]
    if spec["no_new_privs"]:
        setpriv.append("--no-new-privs")
    os.execv(setpriv[0], setpriv + ["--"] + argv)


def _load_seccomp(spec):
    """One filter per setting, as systemd stacks them."""
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]

    def nr(name):
        return lib.seccomp_syscall_resolve_name(name.encode())

    def load(default, rules):
        ctx = lib.seccomp_init(default)
        if not ctx:
            raise OSError("seccomp_init")
        for action, name, conds in rules:
            n = nr(name)
            if n < 0:        # not a call of this architecture: systemd skips it too
                continue
            arr = (ArgCmp * max(1, len(conds)))(*[ArgCmp(*c) for c in conds])
            rc = lib.seccomp_rule_add_array(ctx, action, n, len(conds), arr)
            if rc < 0:
                raise OSError(-rc, "seccomp rule %s: %s" % (name, os.strerror(-rc)))
        rc = lib.seccomp_load(ctx)
        lib.seccomp_release(ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load")

    eperm = SCMP_ACT_ERRNO(errno.EPERM)
    if spec["address_families"] == "none":      # socket(2) only; socketpair(2) is unaffected
        load(SCMP_ACT_ALLOW, [(SCMP_ACT_ERRNO(errno.EAFNOSUPPORT), "socket", [])])
    elif spec["address_families"] == "AF_UNIX":  # the control socket, nothing else
        load(SCMP_ACT_ALLOW, [(SCMP_ACT_ERRNO(errno.EAFNOSUPPORT), "socket",
                               [(0, SCMP_CMP_NE, socket.AF_UNIX, 0)])])
    else:
        raise AssertionError("RestrictAddressFamilies=%s is not emulated" % spec["address_families"])
    if spec["mdwe"]:
        wx = 0x2 | 0x4
        load(SCMP_ACT_ALLOW, [
            (eperm, "mmap", [(2, SCMP_CMP_MASKED_EQ, wx, wx)]),
            (eperm, "mprotect", [(2, SCMP_CMP_MASKED_EQ, 0x4, 0x4)]),
            (eperm, "pkey_mprotect", [(2, SCMP_CMP_MASKED_EQ, 0x4, 0x4)]),
            (eperm, "shmat", [(2, SCMP_CMP_MASKED_EQ, 0o100000, 0o100000)]),
        ])
    if spec["restrict_namespaces"]:
        rules = [(eperm, "setns", []), (SCMP_ACT_ERRNO(errno.ENOSYS), "clone3", [])]
        for fl in NS_FLAGS:
            rules.append((eperm, "unshare", [(0, SCMP_CMP_MASKED_EQ, fl, fl)]))
            rules.append((eperm, "clone", [(0, SCMP_CMP_MASKED_EQ, fl, fl)]))
        load(SCMP_ACT_ALLOW, rules)
    if spec["restrict_suid_sgid"]:
        rules = []
        for bit in (0o4000, 0o2000):
            for call, arg in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("mkdir", 1),
                              ("mkdirat", 2), ("mknod", 1), ("mknodat", 2), ("creat", 1)):
                rules.append((eperm, call, [(arg, SCMP_CMP_MASKED_EQ, bit, bit)]))
            rules.append((eperm, "open", [(1, SCMP_CMP_MASKED_EQ, 0o100, 0o100),
                                          (2, SCMP_CMP_MASKED_EQ, bit, bit)]))
            rules.append((eperm, "openat", [(2, SCMP_CMP_MASKED_EQ, 0o100, 0o100),
                                            (3, SCMP_CMP_MASKED_EQ, bit, bit)]))
        load(SCMP_ACT_ALLOW, rules)
    # SystemCallFilter= + SystemCallErrorNumber= (+ SystemCallArchitectures=native:
    # a libseccomp filter holds the native architecture only).  Last, as
    # systemd does, so that loading the filters above was still allowed.
    err = getattr(errno, spec["syscall_errno"])
    load(SCMP_ACT_ERRNO(err), [(SCMP_ACT_ALLOW, s, []) for s in spec["syscalls"]])


if __name__ == "__main__":
    if len(sys.argv) > 4 and sys.argv[1] == "--confine" and sys.argv[3] == "--":
        with open(sys.argv[2]) as f:
            _confine(json.load(f), sys.argv[4:])
    else:
        unittest.main()
