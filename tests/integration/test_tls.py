"""TLS with keyd: handshakes with real clients, SNI, key isolation, STLS
policy and injection, reload."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import BIN, TOOLS, Appliance, command, free_port, make_message, wait_until


def openssl(*args, input=None):
    return subprocess.run(["openssl"] + list(args), capture_output=True, text=True, input=input,
                          timeout=60)


def make_cert(dir, name, kind, sans):
    """A self-signed certificate for name with SANs; kind 'rsa' or 'ec'."""
    key = os.path.join(dir, "%s-%s.key" % (name, kind))
    crt = os.path.join(dir, "%s-%s.pem" % (name, kind))
    newkey = ["-newkey", "rsa:2048"] if kind == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    r = openssl("req", "-x509", *newkey, "-nodes", "-subj", "/CN=" + name, "-days", "2",
                "-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans),
                "-keyout", key, "-out", crt)
    assert r.returncode == 0, r.stderr
    return crt, key


def subject_cn(pem_text):
    r = openssl("x509", "-noout", "-subject", input=pem_text)
    return r.stdout.strip()


def s_client(port, *extra, input="QUIT\r\n"):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-showcerts", "-ign_eof"] +
                       list(extra), capture_output=True, text=True, input=input, timeout=30)
    return r


def leaf_cn(out):
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    return subject_cn(m.group(0)) if m else None


class TlsBase(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-certs-")
        cls.ec_crt, cls.ec_key = make_cert(cls.tmp, "mail.example.org", "ec",
                                           ["mail.example.org", "*.pop.example.org"])
        cls.rsa_crt, cls.rsa_key = make_cert(cls.tmp, "mail.example.org", "rsa", ["mail.example.org"])
        cls.other_crt, cls.other_key = make_cert(cls.tmp, "other.example.net", "ec", ["other.example.net"])
        # a combined cert+key PEM (what Courier required) for the second name
        cls.combined = os.path.join(cls.tmp, "other-combined.pem")
        with open(cls.combined, "w") as f, open(cls.other_crt) as c, open(cls.other_key) as k:
            f.write(c.read() + k.read())
        cls.sport = free_port()
        o = {"pop3s_listen": "127.0.0.1:%d" % cls.sport,
             "tls_cert_file": "%s,%s,%s" % (cls.ec_crt, cls.rsa_crt, cls.combined),
             "tls_key_file": "%s,%s," % (cls.ec_key, cls.rsa_key),
             "tls_legacy_suites": "yes", "tls_min_version": "10"}
        o.update(cls.overrides)
        cls.app = Appliance(o)
        cls.app.deliver("demo", make_message("over tls", "secret body\n"))
        cls.app.start()
        wait_until(lambda: "event=tls_ready" in cls.app.log(), 10, "keyd ready")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)


class TestHandshakes(TlsBase):
    def test_python_ssl_implicit_and_stls(self):
        ctx = ssl.create_default_context(cafile=self.ec_crt)
        ctx.check_hostname = True
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="mail.example.org") as s:
                f = s.makefile("rb")
                self.assertTrue(f.readline().startswith(b"+OK"))
                command(s, f, "USER demo")
                self.assertTrue(command(s, f, "PASS demo")[0].startswith(b"+OK"))
                first, lines = command(s, f, "RETR 1", multiline=True)
                self.assertIn(b"secret body\r\n", lines)
                command(s, f, "QUIT")
                self.assertEqual(s.version(), "TLSv1.2")
        import poplib
        ctx.check_hostname = False  # poplib would check "127.0.0.1"
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.stls(context=ctx)
        p.user("demo")
        p.pass_("demo")
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        self.app.wait_log(r"event=tls version=TLS1\.2 suite=ECDHE-ECDSA-AES128-GCM-SHA256\(0xc02b\) "
                          r"sni=mail\.example\.org cert=mail\.example\.org resumed=no")

    def test_tls13_only_client_fails_with_a_log_line(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        mark = self.app.log_mark()
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                ctx.wrap_socket(raw, server_hostname="mail.example.org")
        # one line with the session, the reason and the client's address
        self.app.wait_log(r"sid=\w+ level=warn event=tls_failed reason=\"[^\"]+\" .* "
                          r"ip=127\.0\.0\.1", start=mark)

    def test_sni_picks_certificate(self):
        cases = [("mail.example.org", "CN = mail.example.org"),
                 ("x.pop.example.org", "CN = mail.example.org"),  # wildcard SAN
                 ("other.example.net", "CN = other.example.net"),  # combined PEM
                 ("unknown.example.com", "CN = mail.example.org")]  # default
        for name, want in cases:
            out = s_client(self.sport, "-servername", name).stdout
            self.assertIn(want, leaf_cn(out), name)
        out = s_client(self.sport, "-noservername").stdout
        self.assertIn("CN = mail.example.org", leaf_cn(out))
        self.app.wait_log(r"sni=unknown\.example\.com sni_match=none,default")

    def test_rsa_only_and_ecdsa_only_clients(self):
        r = s_client(self.sport, "-servername", "mail.example.org", "-sigalgs", "RSA+SHA256",
                     "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
        self.assertIn("ECDHE-RSA-AES128-GCM-SHA256", r.stdout)
        self.assertIn("Server public key is 2048 bit", r.stdout)
        r = s_client(self.sport, "-servername", "mail.example.org", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
        self.assertIn("ECDHE-ECDSA-AES256-GCM-SHA384", r.stdout)
        self.assertIn("Server public key is 256 bit", r.stdout)
        # RSA key exchange (legacy suites on): keyd decrypts the premaster secret
        r = s_client(self.sport, "-servername", "mail.example.org", "-cipher", "AES128-GCM-SHA256", "-ign_eof")
        self.assertIn("AES128-GCM-SHA256", r.stdout)
        self.assertIn("+OK Postern POP3 ready", r.stdout)
        # an ECDSA client whose only curve is not our certificate's: RSA instead
        r = s_client(self.sport, "-servername", "mail.example.org", "-curves", "X25519:P-384")
        self.assertIn("Server public key is 2048 bit", r.stdout)

    def test_key_exchange_groups(self):
        # X25519 runs in common/net/x25519.c, P-256 and P-384 in BearSSL's
        # m31 code: each group alone, with the OK greeting after it
        for group, temp in (("X25519", "X25519, 253 bits"), ("P-256", "ECDH, prime256v1, 256 bits"),
                            ("P-384", "ECDH, secp384r1, 384 bits")):
            with self.subTest(group=group):
                r = s_client(self.sport, "-servername", "mail.example.org", "-groups", group,
                             "-tls1_2", "-ign_eof")
                self.assertIn("Server Temp Key: " + temp, r.stdout)
                self.assertIn("+OK Postern POP3 ready", r.stdout)

    def test_rsa_key_exchange_handshake(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("AES128-GCM-SHA256")
        mark = self.app.log_mark()
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="mail.example.org") as s:
                self.assertTrue(s.makefile("rb").readline().startswith(b"+OK Postern POP3 ready"))
                self.assertEqual(s.cipher()[0], "AES128-GCM-SHA256")
        self.app.wait_log(r"event=tls version=TLS1\.2 suite=legacy\(0x009c\)", start=mark)

    def test_signature_hashes_keyd_computes(self):
        """keyd hashes the ServerKeyExchange itself: every hash a client may ask for."""
        for sigalg, cipher in (("RSA+SHA1", "ECDHE-RSA-AES128-GCM-SHA256"),
                               ("RSA+SHA384", "ECDHE-RSA-AES128-GCM-SHA256"),
                               ("RSA+SHA512", "ECDHE-RSA-AES128-GCM-SHA256"),
                               ("ECDSA+SHA1", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                               ("ECDSA+SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                               ("ECDSA+SHA512", "ECDHE-ECDSA-AES128-GCM-SHA256")):
            r = s_client(self.sport, "-servername", "mail.example.org", "-sigalgs", sigalg,
                         "-cipher", cipher + ":@SECLEVEL=0", "-tls1_2", "-ign_eof")
            self.assertIn("+OK Postern POP3 ready", r.stdout, sigalg + r.stderr)
            self.assertIn("Peer signing digest: " + sigalg.split("+")[1], r.stdout, sigalg)

    def test_tls10_and_tls11_ecdhe(self):
        """Below TLS 1.2 the hash is fixed: MD5+SHA-1 for RSA, SHA-1 for ECDSA."""
        for version, flag in (("TLS1.0", "-tls1"), ("TLS1.1", "-tls1_1")):
            for cipher in ("ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA"):
                r = s_client(self.sport, "-servername", "mail.example.org", flag,
                             "-cipher", cipher + ":@SECLEVEL=0", "-ign_eof")
                if "no protocols available" in r.stderr or "unsupported protocol" in r.stderr:
                    self.skipTest("this openssl will not speak %s even at SECLEVEL=0" % version)
                self.assertIn("+OK Postern POP3 ready", r.stdout, version + cipher + r.stderr)
                self.assertIn("Cipher is " + cipher, r.stdout)
        self.app.wait_log(r"event=tls version=TLS1\.0 suite=legacy")
        self.app.wait_log(r"event=tls version=TLS1\.1 suite=legacy")

    def test_session_resumption_through_keyd(self):
        sess = os.path.join(self.tmp, "sess.pem")
        # -ign_eof: else s_client may quit at the end of its input before the greeting
        r = s_client(self.sport, "-servername", "mail.example.org", "-sess_out", sess, "-no_ticket",
                     "-ign_eof")
        self.assertIn("+OK", r.stdout)
        r = s_client(self.sport, "-servername", "mail.example.org", "-sess_in", sess, "-no_ticket",
                     "-ign_eof")
        self.assertIn("Reused, TLSv1.2", r.stdout)
        self.app.wait_log(r"event=tls version=TLS1\.2 .* resumed=yes")

    def test_curl_pop3s_and_stls(self):
        base = ["curl", "-sS", "--max-time", "20", "--cacert", self.ec_crt, "--resolve",
                "mail.example.org:%d:127.0.0.1" % self.sport, "--resolve",
                "mail.example.org:%d:127.0.0.1" % self.app.port]
        r = subprocess.run(base + ["pop3s://demo:demo@mail.example.org:%d/1" % self.sport],
                           capture_output=True, timeout=30)
        self.assertIn(b"secret body", r.stdout, r.stderr)
        r = subprocess.run(base + ["--ssl-reqd", "pop3://demo:demo@mail.example.org:%d/1" % self.app.port],
                           capture_output=True, timeout=30)
        self.assertIn(b"secret body", r.stdout, r.stderr)

    def test_gnutls_cli(self):
        if not shutil.which("gnutls-cli"):
            self.skipTest("gnutls-bin not installed")
        r = subprocess.run(["gnutls-cli", "--x509cafile", self.ec_crt, "-p", str(self.sport),
                            "--sni-hostname", "mail.example.org", "--verify-hostname", "mail.example.org",
                            "127.0.0.1"], input=b"QUIT\r\n", capture_output=True, timeout=30)
        out = r.stdout.decode() + r.stderr.decode()
        self.assertIn("Handshake was completed", out)
        self.assertIn("+OK Postern POP3 ready", out)

    def test_fetchmail_over_tls(self):
        if not shutil.which("fetchmail"):
            self.skipTest("fetchmail not installed")
        self.app.ctl("user", "add", "fm", "-p", "fmpw")
        self.app.deliver("fm", make_message("fetched over tls", "tls body\n"))
        home = tempfile.mkdtemp()
        try:
            out = os.path.join(home, "out")
            rc = os.path.join(home, "rc")
            with open(rc, "w") as f:
                f.write('set no syslog\npoll mail.example.org via 127.0.0.1 service %d protocol pop3\n'
                        '  user "fm" password "fmpw" is root here ssl sslcertck sslcertfile "%s"\n'
                        '  sslcommonname "mail.example.org"\n'
                        '  mda "/bin/sh -c \'cat >> %s\'"\n' % (self.sport, self.ec_crt, out))
            os.chmod(rc, 0o600)
            r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v"], capture_output=True, text=True,
                               timeout=60, env=dict(os.environ, HOME=home))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.app.log()[-2000:])
            with open(out, "rb") as got:
                self.assertIn(b"tls body", got.read())
        finally:
            shutil.rmtree(home, ignore_errors=True)


class TestSessionCache(TlsBase):
    """keyd's session cache: sets of 8 chosen by a keyed hash of the id,
    least recently used replaced.  With tls_session_cache = 8 there is one
    set, so a ninth session pushes out the first and keeps the rest."""
    overrides = {"tls_session_cache": "8"}

    def handshake(self, session=None):
        if not hasattr(self, "ctx"):
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            self.ctx.options |= ssl.OP_NO_TICKET
            self.ctx.load_verify_locations(self.ec_crt)
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as raw:
            with self.ctx.wrap_socket(raw, server_hostname="mail.example.org", session=session) as s:
                self.assertTrue(s.recv(64).startswith(b"+OK"))
                return s.session, s.session_reused

    def test_ninth_session_replaces_the_least_recently_used(self):
        sessions = [self.handshake()[0] for _ in range(9)]
        self.assertTrue(self.handshake(sessions[8])[1], "the newest is kept")
        self.assertTrue(self.handshake(sessions[1])[1], "the second is kept")
        self.assertFalse(self.handshake(sessions[0])[1], "the first was replaced")


class TestSessionCacheDefault(TestSessionCache):
    """The default 10000: forty sessions all stay resumable."""
    overrides = {}

    def test_ninth_session_replaces_the_least_recently_used(self):
        sessions = [self.handshake()[0] for _ in range(40)]
        self.assertTrue(all(self.handshake(s)[1] for s in sessions))


class TestTlsRequired(TlsBase):
    overrides = {"tls_plaintext_loopback": "no"}

    def test_no_plaintext_login_before_stls(self):
        s, f = self.app.connect()
        first, lines = command(s, f, "CAPA", multiline=True)
        caps = [l.strip() for l in lines]
        self.assertIn(b"STLS", caps)
        self.assertNotIn(b"USER", caps)
        self.assertFalse(any(c.startswith(b"SASL") for c in caps))
        for c in ("USER demo", "PASS demo", "AUTH PLAIN AGRlbW8AZGVtbw==", "AUTH"):
            self.assertTrue(command(s, f, c)[0].startswith(b"-ERR [AUTH] Plaintext authentication disallowed"), c)
        f.close()
        s.close()
        # after STLS the same login works
        import poplib
        ctx = ssl.create_default_context(cafile=self.ec_crt)
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        ctx.check_hostname = False
        p.stls(context=ctx)
        caps = p.capa()
        self.assertIn("USER", caps)
        self.assertNotIn("STLS", caps)
        p.user("demo")
        p.pass_("demo")
        p.quit()

    def test_stls_injection_discarded(self):
        raw = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
        f = raw.makefile("rb")
        f.readline()
        mark = self.app.log_mark()
        raw.sendall(b"STLS\r\nCAPA\r\n")  # CAPA in the same packet: must never run
        self.assertEqual(f.readline(), b"+OK Begin TLS negotiation\r\n")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(raw, server_hostname="mail.example.org")
        s.settimeout(2)
        with self.assertRaises((socket.timeout, TimeoutError)):
            s.recv(100)  # nothing: the injected CAPA was dropped
        s.sendall(b"NOOP\r\n")
        s.settimeout(10)
        self.assertTrue(s.recv(100).startswith(b"-ERR [AUTH]"))  # a real TLS-side command answers
        s.close()
        self.assertNotIn("Capability", self.app.log()[mark:])


@unittest.skipUnless(os.geteuid() == 0, "needs root to read other processes' memory")
class TestKeyIsolation(TlsBase):
    def private_scalar(self):
        out = openssl("ec", "-in", self.ec_key, "-noout", "-text").stdout
        hexpart = re.search(r"priv:\s*((?:[0-9a-f]{2}:?\s*)+)pub:", out).group(1)
        b = bytes.fromhex(re.sub(r"[^0-9a-f]", "", hexpart))
        return b[-32:].rjust(32, b"\0")

    @staticmethod
    def memory_contains(pid, needle):
        found = False
        with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
            for line in maps:
                addr, perms = line.split()[:2]
                if "r" not in perms or "[vsyscall]" in line or "[vvar]" in line:
                    continue
                lo, hi = (int(x, 16) for x in addr.split("-"))
                try:
                    mem.seek(lo)
                    if needle in mem.read(hi - lo):
                        found = True
                except OSError:
                    continue
        return found

    def test_worker_memory_has_no_private_key_keyd_has(self):
        scalar = self.private_scalar()
        mark = self.app.log_mark()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", self.sport), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="mail.example.org")
        s.recv(100)
        wpid = int(self.app.wait_log(r"proto=pop3s ip=\S+ worker_pid=(\d+)", start=mark).group(1))
        kpid = int(re.findall(r"proc=keyd pid=(\d+) level=info event=ready", self.app.log())[-1])
        self.assertFalse(self.memory_contains(wpid, scalar), "private key bytes in the worker")
        self.assertTrue(self.memory_contains(kpid, scalar), "keyd should hold the key")
        s.close()

    def test_keyd_refuses_unknown_key_and_other_requests(self):
        app = Appliance({"pop3_worker": os.path.join(TOOLS, "hostile_worker")}).start()
        try:
            wait_until(lambda: "event=tls_ready" in app.log(), 10, "keyd ready")
            ske = ske_p256()
            # the configured key (the self-signed P-256 one) signs a real structure
            self.assertTrue(hostile_ask(app.port, stage(ske) + ["KEYD-SIGN-TBS 0 0303 0403"])[-1]
                            .startswith("keyd-signed len="))
            for kid in ("7", "4294967295"):
                self.assertEqual(hostile_ask(app.port, stage(ske) + ["KEYD-SIGN-TBS %s 0303 0403" % kid])[-1],
                                 "keyd-refused")
            self.assertEqual(hostile_ask(app.port, ["KEYD-BADTYPE"])[-1], "keyd-closed")
            app.wait_log(r'proc=keyd .*event=keyd_refused sid=\w+ reason="unknown key id 7"')
            app.wait_log(r"proc=keyd .*sid=\w+ .*event=ipc_violation peer=worker ip=\S+ type=0x0303")
        finally:
            app.cleanup()


# -- keyd as an oracle: what a compromised worker can get from it -----------

# secp256r1's base point (SEC 2 2.4.2): a point on the curve for test structures.
P256_G = bytes.fromhex(
    "04" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")


def ske_p256(point=P256_G, curve=23, plen=None):
    """ServerKeyExchange signed_params (RFC 8422 5.4): randoms, named curve, point."""
    plen = len(point) if plen is None else plen
    return os.urandom(64) + bytes([3, 0, curve, plen]) + point


def stage(data):
    """hostile_worker lines that stage data for the next keyd request."""
    h = data.hex()
    return ["KEYD-DATA-CLEAR"] + ["KEYD-DATA " + h[i:i + 400] for i in range(0, len(h), 400)]


def hostile_ask(port, lines):
    """One new hostile worker (one keyd channel): send each line, return the answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        f = s.makefile("rb")
        assert f.readline() == b"+OK hostile worker ready\n"
        out = []
        for line in lines:
            s.sendall(line.encode() + b"\n")
            out.append(f.readline().decode().strip())
        return out


def rsa_public(crt):
    """(n, e) of an RSA certificate."""
    text = openssl("x509", "-in", crt, "-noout", "-text").stdout
    n = int(openssl("x509", "-in", crt, "-noout", "-modulus").stdout.strip().split("=")[1], 16)
    e = int(re.search(r"Exponent: (\d+)", text).group(1))
    return n, e


def rsa_encrypt_pkcs1(n, e, msg):
    """RSAES-PKCS1-v1_5 (RFC 8017 7.2.1): 00 02 nonzero-padding 00 msg."""
    k = (n.bit_length() + 7) // 8
    ps = bytes(b % 255 + 1 for b in os.urandom(k - 3 - len(msg)))
    em = b"\x00\x02" + ps + b"\x00" + msg
    return pow(int.from_bytes(em, "big"), e, n).to_bytes(k, "big")


class TestKeydOracle(unittest.TestCase):
    """keyd answers a worker with no more than one TLS handshake step needs:
    one private-key operation per channel, the RSA-kx countermeasure in keyd,
    signatures over ServerKeyExchange structures only, no session cache
    shared behind PROXY.  Key 0 is RSA, key 1 ECDSA P-256."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-oracle-")
        cls.rsa_crt, cls.rsa_key = make_cert(cls.tmp, "mail.example.org", "rsa", ["mail.example.org"])
        cls.ec_crt, cls.ec_key = make_cert(cls.tmp, "mail.example.org", "ec", ["mail.example.org"])
        cls.sport = free_port()
        base = {"pop3_worker": os.path.join(TOOLS, "hostile_worker"),
                "tls_cert_file": "%s,%s" % (cls.rsa_crt, cls.ec_crt),
                "tls_key_file": "%s,%s" % (cls.rsa_key, cls.ec_key)}
        cls.on = Appliance(dict(base, tls_legacy_suites="yes", tls_min_version="10",
                                pop3s_listen="127.0.0.1:%d" % cls.sport, pop3s_proxy_protocol="yes",
                                proxy_trusted="127.0.0.1"))
        cls.off = Appliance(dict(base, tls_legacy_suites="no", pop3s_listen="127.0.0.1:%d" % free_port()))
        try:
            for app in (cls.on, cls.off):
                app.start()
                wait_until(lambda: "event=tls_ready" in app.log(), 10, "keyd ready")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.on.cleanup()
        cls.off.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def keyx(self, app, ct, version="0303"):
        return hostile_ask(app.port, stage(ct) + ["KEYD-KEYX 0 " + version])[-1]

    def test_keyx_refused_without_rsa_key_exchange(self):
        n, e = rsa_public(self.rsa_crt)
        ct = rsa_encrypt_pkcs1(n, e, b"\x03\x03" + os.urandom(46))
        # not in the layout before the fix either (it answered with a validity flag)
        self.assertIn(hostile_ask(self.off.port, stage(ct) + ["KEYD-KEYX-V0 0"])[-1],
                      ("keyd-refused", "keyd-closed"))
        mark = self.off.log_mark()
        self.assertEqual(self.keyx(self.off, ct), "keyd-refused")
        self.off.wait_log(r'proc=keyd .*event=keyd_refused sid=\w+ reason="RSA key exchange not '
                          r'configured', start=mark)

    def test_keyx_countermeasure_in_keyd(self):
        n, e = rsa_public(self.rsa_crt)
        k = (n.bit_length() + 7) // 8
        pms = b"\x03\x03" + os.urandom(46)
        got = self.keyx(self.on, rsa_encrypt_pkcs1(n, e, pms))
        # exactly one 48-byte string (4-byte length + 48), no flag: the premaster
        self.assertEqual(got, "keyx payload=52 " + pms.hex())
        # a valid block whose version bytes differ: keyd forces client_max_version
        self.assertEqual(self.keyx(self.on, rsa_encrypt_pkcs1(n, e, pms), "0302"),
                         "keyx payload=52 0302" + pms[2:].hex())
        # invalid paddings: a wrong block type, a wrong length, random bytes
        bad = [pow(int.from_bytes(b"\x00\x01" + b"\xff" * (k - 51) + b"\x00" + pms, "big"), e, n)
               .to_bytes(k, "big"), rsa_encrypt_pkcs1(n, e, pms + b"x"), b"\x00" + os.urandom(k - 1)]
        answers = []
        for ct in bad:
            a = self.keyx(self.on, ct, "0302")
            self.assertRegex(a, r"^keyx payload=52 0302[0-9a-f]{92}$")
            self.assertEqual(self.keyx(self.on, ct, "0302"), a, "same ciphertext, same answer")
            answers.append(a)
        self.assertEqual(len(set(answers)), len(answers), "different ciphertexts, different answers")
        self.assertNotIn(pms[2:].hex(), " ".join(answers))

    def test_one_private_key_operation_per_channel(self):
        n, e = rsa_public(self.rsa_crt)
        ct = rsa_encrypt_pkcs1(n, e, b"\x03\x03" + os.urandom(46))
        mark = self.on.log_mark()
        out = hostile_ask(self.on.port, stage(ske_p256()) + ["KEYD-SIGN-TBS 1 0303 0403",
                                                               "KEYD-SIGN-TBS 1 0303 0403"])
        self.assertTrue(out[-2].startswith("keyd-signed"), out)
        self.assertEqual(out[-1], "keyd-refused")
        out = hostile_ask(self.on.port, stage(ct) + ["KEYD-KEYX 0 0303"] + stage(ske_p256()) +
                          ["KEYD-SIGN-TBS 1 0303 0403"])
        self.assertTrue(out[-4].startswith("keyx payload=52"), out)
        self.assertEqual(out[-1], "keyd-refused")
        self.on.wait_log(r'proc=keyd .*event=keyd_refused sid=\w+ reason="second private-key '
                         r'operation on one channel', start=mark)

    def test_sign_only_server_key_exchange_structures(self):
        on, off = self.on.port, self.off.port
        # the request layout before the fix: any ready 32-byte SHA-256 value
        for line in ("KEYD-SIGN-V0 1 ff04", "KEYD-SIGN-V0 0 ff04"):
            self.assertIn(hostile_ask(on, stage(os.urandom(32)) + [line])[-1],
                          ("keyd-refused", "keyd-closed"), line)
        self.assertIn(hostile_ask(on, ["KEYD-SIGN 1"])[-1], ("keyd-refused", "keyd-closed"))
        ske = ske_p256()
        x25519 = os.urandom(64) + bytes([3, 0, 29, 32]) + os.urandom(32)
        ok = [(on, ske, "1 0303 0403"), (on, ske, "0 0303 0401"), (on, ske, "0 0303 0601"),
              (on, ske, "1 0303 0203"), (on, x25519, "1 0303 0503"),
              (on, ske, "0 0301 0001"), (on, ske, "1 0302 0203")]  # TLS 1.0/1.1 hashes
        for port, data, args in ok:
            self.assertRegex(hostile_ask(port, stage(data) + ["KEYD-SIGN-TBS " + args])[-1],
                             r"^keyd-signed len=\d+$", args)
        off_curve = P256_G[:-1] + bytes([P256_G[-1] ^ 1])
        refused = [
            (on, ske, "0 0303 0001"),        # MD5+SHA-1 with TLS 1.2
            (on, ske, "0 0303 0101"),        # MD5 alone
            (on, ske, "0 0303 0403"),        # ECDSA with the RSA key
            (on, ske, "1 0303 0401"),        # RSA with the ECDSA key
            (on, ske, "1 0301 0403"),        # TLS 1.0 has no SHA-256 signatures
            (on, ske, "0 0304 0401"),        # a version we do not speak
            (off, ske, "0 0301 0001"),       # below tls_min_version
            (on, os.urandom(32), "1 0303 0403"),           # a bare hash value
            (on, ske[:-1], "1 0303 0403"),                  # point shorter than its length byte
            (on, ske_p256(curve=22), "1 0303 0403"),        # a curve we do not offer
            (on, ske_p256(point=off_curve), "1 0303 0403"),  # not on the curve
            (on, ske_p256(point=b"\x02" + P256_G[1:33], plen=33), "1 0303 0403"),  # compressed
            (on, ske[:64] + bytes([1, 0, 23, 65]) + P256_G, "1 0303 0403"),  # explicit_prime
        ]
        mark = self.on.log_mark()
        for port, data, args in refused:
            self.assertEqual(hostile_ask(port, stage(data) + ["KEYD-SIGN-TBS " + args])[-1],
                             "keyd-refused", "%s %s" % (args, data.hex()))
        self.on.wait_log(r'proc=keyd .*event=keyd_refused sid=\w+ reason="not an ECDHE '
                         r'ServerKeyExchange structure', start=mark)
        self.on.wait_log(r'proc=keyd .*event=keyd_refused sid=\w+ reason="signature algorithm '
                         r'0x0001 at version 0x0303', start=mark)

    def test_no_session_cache_behind_proxy(self):
        sid, ms = os.urandom(32).hex(), os.urandom(48).hex()
        # on the plain listener (the client's own address) the cache works...
        out = hostile_ask(self.on.port, ["KEYD-CACHE-SAVE %s %s" % (sid, ms), "KEYD-CACHE-LOAD " + sid])
        self.assertEqual(out, ["sent", "cache-hit " + ms])
        self.assertEqual(hostile_ask(self.on.port, ["KEYD-CACHE-LOAD " + sid]), ["cache-hit " + ms])
        # ...behind PROXY every session comes from the proxy's address: none
        sid2 = os.urandom(32).hex()
        out = hostile_ask(self.sport, ["KEYD-CACHE-SAVE %s %s" % (sid2, ms), "KEYD-CACHE-LOAD " + sid2])
        self.assertEqual(out, ["sent", "cache-miss"])
        self.assertEqual(hostile_ask(self.sport, ["KEYD-CACHE-LOAD " + sid2]), ["cache-miss"])
        self.assertEqual(hostile_ask(self.sport, ["KEYD-CACHE-LOAD " + sid]), ["cache-miss"])


class TestReload(unittest.TestCase):
    def test_sighup_new_certificate_open_session_survives_broken_refused(self):
        tmp = tempfile.mkdtemp(prefix="postern-certs-")
        try:
            crt1, key1 = make_cert(tmp, "one.example.org", "ec", ["one.example.org"])
            crt2, key2 = make_cert(tmp, "two.example.org", "ec", ["two.example.org"])
            live_crt, live_key = os.path.join(tmp, "live.pem"), os.path.join(tmp, "live.key")
            shutil.copy(crt1, live_crt)
            shutil.copy(key1, live_key)
            sport = free_port()
            app = Appliance({"pop3s_listen": "127.0.0.1:%d" % sport, "tls_cert_file": live_crt,
                             "tls_key_file": live_key}).start()
            try:
                wait_until(lambda: "event=tls_ready" in app.log(), 10, "keyd ready")
                self.assertIn("one.example.org", leaf_cn(s_client(sport, "-noservername").stdout))
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                old = ctx.wrap_socket(socket.create_connection(("127.0.0.1", sport), timeout=10))
                old.recv(100)
                plain = socket.create_connection(("127.0.0.1", app.port), timeout=10)  # STLS later
                plain.recv(100)
                shutil.copy(crt2, live_crt)
                shutil.copy(key2, live_key)
                mark = app.log_mark()
                app.proc.send_signal(signal.SIGHUP)
                app.wait_log(r"event=tls_reloaded keys=1", start=mark)
                self.assertIn("two.example.org", leaf_cn(s_client(sport, "-noservername").stdout))
                old.sendall(b"CAPA\r\n")  # the session opened before the reload goes on
                self.assertTrue(old.recv(100).startswith(b"+OK"))
                old.close()
                # one opened before the reload can still start TLS: the old keyd serves it
                plain.sendall(b"STLS\r\n")
                self.assertTrue(plain.recv(100).startswith(b"+OK Begin TLS"))
                tls = ctx.wrap_socket(plain, server_hostname="one.example.org")
                self.assertEqual(tls.getpeercert(binary_form=True) is not None, True)
                tls.sendall(b"NOOP\r\n")
                self.assertTrue(tls.recv(100).startswith(b"-ERR"))  # NOOP before login
                tls.close()
                # a broken certificate is refused and the current one keeps serving
                with open(live_crt, "w") as f:
                    f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
                mark = app.log_mark()
                app.proc.send_signal(signal.SIGHUP)
                app.wait_log(r"event=tls_reload_failed", start=mark)
                app.wait_log(r'event=tls_load_failed reason=".*live\.pem: ', start=mark)
                self.assertIn("two.example.org", leaf_cn(s_client(sport, "-noservername").stdout))
            finally:
                app.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class TestCertificateAtStart(unittest.TestCase):
    """Issue 11: a certificate that does not load at the first start stops the
    master with one clear line (exit 1); at a reload the old one keeps serving
    (TestReload)."""

    def test_missing_certificate_is_fatal_at_start(self):
        for keys in ({"tls_cert_file": "/nonexistent/cert.pem"},
                     {"tls_cert_file": __file__}):   # a file that is no PEM
            app = Appliance(keys)
            try:
                r = subprocess.run([os.path.join(BIN, "postern-master"), "-c", app.conf],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr[-2000:])
                self.assertIn("event=tls_load_failed", r.stderr)
                self.assertIn('event=fatal reason="keyd could not load the certificates at start',
                              r.stderr)
                self.assertNotIn("restart_in=", r.stderr)     # no retry loop
                self.assertNotIn("ipc_violation", r.stderr)
                self.assertIn("event=stopped", r.stderr)
            finally:
                app.cleanup()


class TestSelfSigned(unittest.TestCase):
    def test_first_start_makes_a_p256_certificate_with_safe_modes(self):
        sport = free_port()
        app = Appliance({"pop3s_listen": "127.0.0.1:%d" % sport, "hostname": "demo.postern.test"}).start()
        try:
            wait_until(lambda: "event=tls_ready" in app.log(), 10, "keyd ready")
            d = os.path.join(app.dir, "state", "tls")
            st_key = os.stat(os.path.join(d, "selfsigned.key"))
            self.assertEqual(st_key.st_mode & 0o777, 0o600)
            self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
            text = openssl("x509", "-in", os.path.join(d, "selfsigned.pem"), "-noout", "-text").stdout
            self.assertIn("ASN1 OID: prime256v1", text)
            self.assertIn("DNS:demo.postern.test", text)
            self.assertIn("CN = demo.postern.test", leaf_cn(s_client(sport, "-noservername").stdout))
        finally:
            app.cleanup()



class TestTlsIdle(unittest.TestCase):
    def test_idle_timeout_inside_tls_is_logged(self):
        sport = free_port()
        app = Appliance({"pop3s_listen": "127.0.0.1:%d" % sport, "pop3_idle_timeout": "1"}).start()
        try:
            wait_until(lambda: "event=tls_ready" in app.log(), 10, "keyd ready")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", sport), timeout=10))
            self.assertTrue(s.recv(100).startswith(b"+OK"))
            try:
                self.assertEqual(s.recv(100), b"")  # closed by the server after 1 s
            except (ssl.SSLError, ConnectionResetError):
                pass
            s.close()
            app.wait_log(r"event=disconnect reason=idle_timeout tls=yes")
        finally:
            app.cleanup()


class TestMixedKeyTypesSni(unittest.TestCase):
    def test_name_with_only_an_rsa_certificate(self):
        tmp = tempfile.mkdtemp(prefix="postern-mixed-")
        try:
            ec_crt, ec_key = make_cert(tmp, "default.example.org", "ec", ["default.example.org"])
            rsa_crt, rsa_key = make_cert(tmp, "rsaonly.example.net", "rsa", ["rsaonly.example.net"])
            sport = free_port()
            app = Appliance({"pop3s_listen": "127.0.0.1:%d" % sport,
                             "tls_cert_file": "%s, %s" % (ec_crt, rsa_crt),
                             "tls_key_file": "%s, %s" % (ec_key, rsa_key)}).start()
            try:
                # an ECDSA-capable client asking for the RSA-only name gets that name
                self.assertIn("rsaonly.example.net",
                              leaf_cn(s_client(sport, "-servername", "rsaonly.example.net").stdout))
                self.assertIn("default.example.org",
                              leaf_cn(s_client(sport, "-servername", "nobody.example").stdout))
            finally:
                app.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class TestSniDir(unittest.TestCase):
    """Per-name files, like Courier's TLS_CERTFILE.<name>: DIR/NAME.pem
    (certificate and key in one file) serves server name NAME."""

    def test_per_name_file(self):
        tmp = tempfile.mkdtemp(prefix="postern-sni-")
        try:
            d = os.path.join(tmp, "sni")
            os.mkdir(d)
            crt, key = make_cert(tmp, "imap.customer.example", "ec", ["imap.customer.example"])
            with open(os.path.join(d, "pop.customer.example.pem"), "w") as f, open(crt) as c, open(key) as k:
                f.write(c.read() + k.read())
            sport = free_port()
            app = Appliance({"pop3s_listen": "127.0.0.1:%d" % sport, "tls_sni_dir": d,
                             "hostname": "default.postern.test"}).start()
            try:
                wait_until(lambda: "event=tls_ready" in app.log(), 10, "keyd ready")
                # the file name selects it, even though the certificate says another name
                out = s_client(sport, "-servername", "pop.customer.example").stdout
                self.assertIn("CN = imap.customer.example", leaf_cn(out))
            finally:
                app.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
