"""The appliance image: reproducible build, contents, and a real run under runc.

Builds the image twice with image/build.sh (no container engine), checks that
both builds are identical (manifest digest, the whole OCI layout, the erofs and
squashfs images), that the one layer holds the static binaries and empty mount
points and nothing else (no shell, no libc), then unpacks it into a runc bundle
and runs it the way an operator would: read-only root, every capability
dropped but the master's minimal set, empty volumes (first start, no
preparation), config from environment variables only.  posternctl run inside
the container creates the domain and user and delivers a message; Python's
poplib reads it back over plaintext POP3 (loopback) and implicit TLS.

Skipped when umoci/skopeo/runc/mkfs.erofs/mksquashfs are missing or when not
root (`make deps` installs them; CI always has them).
"""
import gzip
import hashlib
import io
import json
import os
import poplib
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tarfile
import tempfile
import time
import unittest

from harness import BIN, TOP, free_port, wait_until

TOOLS_NEEDED = ("umoci", "skopeo", "runc", "mkfs.erofs", "mksquashfs", "unsquashfs", "fsck.erofs")
TAG = "postern:latest"
MAIL_UID = 7100

# The capabilities the master needs, found by dropping each in turn (docs/CONTAINER.md):
#   SETUID SETGID  children switch to their own uids (sandbox_change_id)
#   SETPCAP        children clear their bounding set (CAPNG_CLEAR_BOUNDING)
#   SYS_CHROOT     authd/keyd/pop3d chroot into empty_root, stored into the mail root
#   CHOWN          stored and `posternctl deliver` hand a new Maildir to the mail uid
#   DAC_OVERRIDE   root works inside the mail uid's 0700 Maildir before dropping
#   KILL           the master signals children that run under other uids (stop, limits)
#   NET_BIND_SERVICE  ports 110/995 (not exercised here: the test listens on free high ports)
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]
CAP_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETGID": 6,
            "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_NET_BIND_SERVICE": 10, "CAP_SYS_CHROOT": 18}
# PLATFORM.md's container limit: the daemons only ever lower their own limits.
NOFILE = 1024


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 60)
    r = subprocess.run(cmd, **kw)
    if r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode,
                                                   _text(r.stdout), _text(r.stderr)))
    return r


def _text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_digest(top):
    """Relative path -> sha256 of every file under top (an OCI layout)."""
    out = {}
    for d, _, files in os.walk(top):
        for n in files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, top)] = sha256(p)
    return out


def elf_interp(data):
    """True if an ELF image asks for a program interpreter (a dynamic binary)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise AssertionError("not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            return True
    return False


def cap_mask(names):
    return sum(1 << CAP_BITS[n] for n in names)


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = [t for t in TOOLS_NEEDED if shutil.which(t) is None]
        if missing:
            raise unittest.SkipTest("image tools missing: %s (make deps)" % " ".join(missing))
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (runc, file ownership in the image)")
        if not os.path.exists(os.path.join(BIN, "postern-master")):
            raise unittest.SkipTest("build/bin not built (make all)")
        os.makedirs(os.path.join(TOP, "build"), exist_ok=True)
        cls.work = tempfile.mkdtemp(prefix="image-test-", dir=os.path.join(TOP, "build"))
        cls.out = []
        t0 = time.monotonic()
        for name in ("a", "b"):
            out = os.path.join(cls.work, name)
            run(["sh", os.path.join(TOP, "image", "build.sh"), out], timeout=300)
            cls.out.append(out)
        cls.build_seconds = time.monotonic() - t0
        cls.oci = os.path.join(cls.out[0], "oci")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    # -- the build ---------------------------------------------------------
    def test_reproducible(self):
        a, b = self.out
        with open(os.path.join(a, "digest")) as f:
            da = f.read().strip()
        with open(os.path.join(b, "digest")) as f:
            db = f.read().strip()
        self.assertRegex(da, r"^sha256:[0-9a-f]{64}$")
        self.assertEqual(da, db, "two builds, two manifest digests")
        # Not only the manifest: every blob and index.json, byte for byte.
        self.assertEqual(tree_digest(os.path.join(a, "oci")), tree_digest(os.path.join(b, "oci")))
        for img in ("postern.erofs", "postern.squashfs"):
            self.assertEqual(sha256(os.path.join(a, img)), sha256(os.path.join(b, img)), img)
        print("\n    image digest %s, erofs %s, squashfs %s (two builds %.1fs)" % (
            da, sha256(os.path.join(a, "postern.erofs"))[:16],
            sha256(os.path.join(a, "postern.squashfs"))[:16], self.build_seconds))

    def inspect(self, *extra):
        r = run(["skopeo", "inspect"] + list(extra) + ["oci:%s:%s" % (self.oci, TAG)])
        return json.loads(r.stdout)

    def test_inspect_config(self):
        cfg = self.inspect("--config")
        c = cfg["config"]
        self.assertEqual(c["Entrypoint"], ["/usr/libexec/postern/postern-master"])
        # env-only, asked for explicitly (a missing config file is fatal otherwise)
        self.assertIn("POSTERN_CONFIG=none", c["Env"])
        self.assertNotIn("Cmd", c)
        self.assertNotIn("User", c)  # the master starts as root and drops for every child
        for port in ("25/tcp", "110/tcp", "995/tcp"):
            self.assertIn(port, c["ExposedPorts"])
        self.assertEqual(sorted(c["Volumes"]), ["/etc/postern", "/var/lib/postern", "/var/mail"])
        for label in ("org.opencontainers.image.version", "org.opencontainers.image.source",
                      "org.opencontainers.image.revision"):
            self.assertTrue(c["Labels"].get(label), label)
        self.assertEqual(cfg["created"], "1970-01-01T00:00:00Z")
        self.assertTrue(all(h["created"] == "1970-01-01T00:00:00Z" for h in cfg["history"]))
        info = self.inspect()
        self.assertEqual(len(info["Layers"]), 1, info["Layers"])

    def layer(self):
        """The one layer of postern:latest, as (TarInfo, bytes) per member."""
        info = self.inspect()
        algo, hexd = info["Layers"][0].split(":")
        with open(os.path.join(self.oci, "blobs", algo, hexd), "rb") as f:
            raw = f.read()
        self.assertEqual(hashlib.sha256(raw).hexdigest(), hexd)
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        members = []
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            for m in tf.getmembers():
                body = tf.extractfile(m).read() if m.isfile() else None
                members.append((m, body))
        return members

    def test_layer_has_no_shell(self):
        members = self.layer()
        names = [m.name.rstrip("/") for m, _ in members]
        self.assertEqual(names, sorted(names), "layer entries are not sorted")
        dirs = {m.name.rstrip("/") for m, _ in members if m.isdir()}
        self.assertEqual(dirs, {"dev", "etc", "etc/postern", "proc", "run", "sys", "tmp", "usr",
                                "usr/bin", "usr/libexec", "usr/libexec/postern", "var",
                                "var/lib", "var/lib/postern", "var/mail"})
        files = {m.name for m, _ in members if m.isfile()}
        # (the PostgreSQL and LDAP backend helpers link glibc dynamically:
        # image/build.sh leaves them out)
        daemons = sorted(n for n in os.listdir(BIN) if n.startswith("postern-") and
                         n not in ("postern-auth-pgsql", "postern-auth-ldap"))
        self.assertEqual(files, {"usr/bin/posternctl"} |
                         {"usr/libexec/postern/" + d for d in daemons})
        links = {m.name: m.linkname for m, _ in members if m.issym()}
        self.assertEqual(links, {"usr/bin/postern-master": "../libexec/postern/postern-master"})
        self.assertEqual(len(members), len(dirs) + len(files) + len(links), "other entry types")
        for sh in ("bin/sh", "usr/bin/sh", "bin/busybox", "bin/bash", "usr/bin/env",
                   "usr/bin/apt", "usr/bin/dpkg", "sbin/apk"):
            self.assertNotIn(sh, names)
        for m, body in members:
            self.assertFalse(re.search(r"^(usr/)?(lib|lib64)(/|$)|ld-linux|libc\.so", m.name), m.name)
            self.assertEqual((m.uid, m.gid, m.mtime), (0, 0, 0), m.name)
            if m.isfile():
                self.assertEqual(m.mode, 0o755, m.name)
                self.assertFalse(elf_interp(body), "%s is dynamically linked" % m.name)
        self.assertEqual([m.mode for m, _ in members if m.name.rstrip("/") == "tmp"], [0o1777])

    def test_rootfs_images_match_layer(self):
        want = {m.name.rstrip("/") for m, _ in self.layer()}
        r = run(["unsquashfs", "-lln", "-d", "", os.path.join(self.out[0], "postern.squashfs")])
        got = set()
        for line in _text(r.stdout).splitlines():
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                self.assertEqual(parts[1], "0/0", line)
                got.add(parts[5].split(" -> ")[0].lstrip("/"))
        self.assertEqual(got - {""}, want)
        ex = os.path.join(self.work, "erofs-extract")
        run(["fsck.erofs", "--extract=" + ex, os.path.join(self.out[0], "postern.erofs")])
        got = set()
        for d, ds, fs in os.walk(ex):
            for n in ds + fs:
                got.add(os.path.relpath(os.path.join(d, n), ex))
        self.assertEqual(got, want)
        for m, body in self.layer():
            if m.isfile():
                with open(os.path.join(ex, m.name), "rb") as f:
                    self.assertEqual(f.read(), body, m.name)

    # -- a real run under runc ---------------------------------------------
    def bundle(self, vols, pop3, pop3s):
        b = os.path.join(self.work, "bundle")
        run(["umoci", "unpack", "--image", "%s:%s" % (self.oci, TAG), b])
        path = os.path.join(b, "config.json")
        with open(path) as f:
            c = json.load(f)
        p = c["process"]
        self.assertEqual(p["args"][0], "/usr/libexec/postern/postern-master")
        p["terminal"] = False
        p["env"] = [e for e in p["env"] if not e.startswith("TERM=")] + [
            "POSTERN_POP3_LISTEN=127.0.0.1:%d" % pop3,
            "POSTERN_POP3S_LISTEN=127.0.0.1:%d" % pop3s,
            "POSTERN_SMTP_LISTEN=127.0.0.1:%d" % free_port(),  # never the host's port 25
            "POSTERN_TLS_PLAINTEXT_LOOPBACK=yes",
            "POSTERN_AUTH_FAIL_DELAY_MS=0",
        ]
        p["capabilities"] = {"bounding": CAPS, "effective": CAPS, "permitted": CAPS,
                             "inheritable": [], "ambient": []}
        p["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": NOFILE, "soft": NOFILE}]
        p["noNewPrivileges"] = True
        c["hostname"] = "postern"
        c["root"] = {"path": "rootfs", "readonly": True}
        # The host network namespace: the listeners are on 127.0.0.1 of this machine.
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
        mounts = [m for m in c["mounts"] if m["destination"] not in vols]
        for dst, src in vols.items():
            opts = ["rbind", "nosuid", "nodev", "noexec"]
            opts.append("ro" if dst == "/etc/postern" else "rw")
            mounts.append({"destination": dst, "type": "bind", "source": src, "options": opts})
        mounts.append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "noexec", "mode=1777", "size=16m"]})
        c["mounts"] = mounts
        with open(path, "w") as f:
            json.dump(c, f, indent=1)
        return b

    def test_run_under_runc(self):
        t0 = time.monotonic()
        vols = {}
        for dst in ("/var/mail", "/var/lib/postern", "/etc/postern"):
            d = os.path.join(self.work, "vol" + dst.replace("/", "-"))
            os.makedirs(d)  # empty: the first start must need no preparation
            vols[dst] = d
        pop3, pop3s = free_port(), free_port()
        bundle = self.bundle(vols, pop3, pop3s)
        state = os.path.join(self.work, "runc")
        cid = "postern-image-test-%d" % os.getpid()
        runc = ["runc", "--root", state]
        logpath = os.path.join(self.work, "container.log")
        logf = open(logpath, "wb")

        def log():
            with open(logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")

        def exec_ctl(*args, input=b""):
            r = subprocess.run(runc + ["exec", cid, "/usr/bin/posternctl"] + list(args),
                               input=input, capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, "posternctl %s: %s" % (args, _text(r.stderr)))
            return _text(r.stdout)

        def greets(port):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    if port == pop3s:
                        return True
                    return s.recv(100).startswith(b"+OK")
            except OSError:
                return False

        try:
            run(runc + ["run", "--detach", "--bundle", bundle, cid],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, capture_output=False)
            wait_until(lambda: "event=accepting" in log() or "event=fatal" in log(), 15,
                       "master accepting")
            wait_until(lambda: re.search(r"proc=authd .*event=ready", log()), 10, "authd ready")
            self.assertNotIn("event=fatal", log())
            self.assertRegex(log(), r"proc=master .*event=ready config=none .*version=\S+")
            st = json.loads(run(runc + ["state", cid]).stdout)
            self.assertEqual(st["status"], "running")
            pid = st["pid"]

            # The master: root in the container, exactly the minimal capability set,
            # no_new_privs, on a read-only root.
            with open("/proc/%d/status" % pid) as f:
                status = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
            self.assertEqual(int(status["CapEff"], 16), cap_mask(CAPS))
            self.assertEqual(int(status["CapBnd"], 16), cap_mask(CAPS))
            self.assertEqual(status["NoNewPrivs"].strip(), "1")
            with open("/proc/%d/mountinfo" % pid) as f:
                root = [l.split() for l in f if l.split()[4] == "/"]
            self.assertTrue(root and "ro" in root[-1][5].split(","), root)
            # First start made the self-signed certificate in the empty volume.
            wait_until(lambda: os.path.exists(os.path.join(vols["/var/lib/postern"], "tls",
                                                           "selfsigned.pem")), 10, "certificate")

            # The admin work, with the posternctl inside the image.
            self.assertIn("added", exec_ctl("domain", "add", "localhost"))
            self.assertIn("added", exec_ctl("user", "add", "demo", "-p", "demo"))
            msg = b"From: a@example.org\nTo: demo@localhost\nSubject: image\n\nthrough the image\n"
            out = exec_ctl("deliver", "demo", input=msg)
            self.assertIn("/var/mail/localhost/demo/new/", out)
            md = os.path.join(vols["/var/mail"], "localhost", "demo")
            self.assertEqual(os.stat(md).st_uid, MAIL_UID)
            self.assertEqual(len(os.listdir(os.path.join(md, "new"))), 1)

            wait_until(lambda: greets(pop3), 10, "POP3 greeting")
            p = poplib.POP3("127.0.0.1", pop3, timeout=10)
            p.user("demo")
            p.pass_("demo")
            self.assertEqual(p.stat()[0], 1)
            self.assertIn(b"through the image", p.retr(1)[1])
            p.quit()

            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # self-signed, made by keyd on first start
            p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx, timeout=10)
            p.user("demo")
            p.pass_("demo")
            self.assertIn(b"through the image", p.retr(1)[1])
            p.quit()
            wait_until(lambda: re.search(r"event=login service=pop3 ip=127\.0\.0\.1 user=demo@localhost",
                                         log()), 10, "authd's login line")

            # SIGTERM (runc kill, podman stop) stops every child: needs CAP_KILL.
            run(runc + ["kill", cid, "TERM"])
            wait_until(lambda: "event=stopped clean=yes" in log(), 15, "clean stop")
            wait_until(lambda: json.loads(run(runc + ["state", cid]).stdout)["status"] == "stopped",
                       10, "container stopped")
            self.assertNotRegex(log(), r"event=(fatal|ipc_violation)")
        except BaseException:
            print("\n--- container log ---\n" + log()[-4000:])
            raise
        finally:
            subprocess.run(runc + ["kill", cid, "KILL"], capture_output=True, timeout=30)
            subprocess.run(runc + ["delete", "--force", cid], capture_output=True, timeout=30)
            logf.close()
        self.assertLess(time.monotonic() - t0, 60)


if __name__ == "__main__":
    unittest.main()
