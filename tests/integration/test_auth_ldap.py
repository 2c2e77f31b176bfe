"""authd's LDAP backend (docs/AUTH.md#ldap) against a real OpenLDAP slapd
from Debian, started on loopback in a temp dir with test users: bind as
the user (the directory checks the password) and search (authd checks the
{CRYPT} hash), logins over IMAP and POP3, recipient lookups over SMTP,
RFC 4515 escaping of names that would change the filter, the live
privilege proof of postern-auth-ldap, and the directory down: a
temporary failure until it is back."""
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile
import unittest

from harness import (BIN, Appliance, free_port, proc_status, wait_until, imap_login_result,
                     pop3_login_result)

SLAPD = "/usr/sbin/slapd"
HELPER = os.path.join(BIN, "postern-auth-ldap")
BASE = "dc=example,dc=com"


def sha512_crypt(password):
    return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                          check=True).stdout.strip()


def make_certs(d):
    """A CA and a server certificate for 127.0.0.1 (an IP address SAN)."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60, cwd=d)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test ldap ca")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=another ca")


class Slapd:
    def __init__(self, tls=False):
        self.dir = tempfile.mkdtemp(prefix="postern-ldap-")
        os.chmod(self.dir, 0o755)
        os.mkdir(os.path.join(self.dir, "db"))
        self.port = free_port()
        self.uri = "ldap://127.0.0.1:%d/" % self.port
        self.conf = os.path.join(self.dir, "slapd.conf")
        tlsconf = ""
        if tls:  # (global directives: before the database)
            make_certs(self.dir)
            tlsconf = ("TLSCACertificateFile %(d)s/ca.pem\nTLSCertificateFile %(d)s/server.pem\n"
                       "TLSCertificateKeyFile %(d)s/server.key\n" % {"d": self.dir})
        with open(self.conf, "w") as f:
            f.write(tlsconf)
            f.write("""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile %(d)s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "%(b)s"
rootdn "cn=admin,%(b)s"
rootpw adminpw
directory %(d)s/db
access to attrs=userPassword by dn.exact="cn=reader,%(b)s" read by anonymous auth by * none
access to * by * read
""" % {"d": self.dir, "b": BASE})
        self.pid = None
        self.secret = os.path.join(self.dir, "reader.secret")
        with open(self.secret, "w") as f:
            f.write("readerpw\n")
        os.chmod(self.secret, 0o600)

    def start(self):
        subprocess.run([SLAPD, "-f", self.conf, "-h", self.uri], check=True, timeout=30)
        self.pid = int(wait_until(self.read_pid, 10, "slapd's pid file"))
        wait_until(self.answers, 10, "slapd answers")

    def read_pid(self):
        try:
            with open(os.path.join(self.dir, "slapd.pid")) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def answers(self):
        return subprocess.run(["ldapsearch", "-x", "-H", self.uri, "-b", "", "-s", "base"],
                              capture_output=True, timeout=10).returncode == 0

    def stop(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
                wait_until(lambda: not os.path.exists("/proc/%d" % self.pid), 10, "slapd gone")
            except ProcessLookupError:
                pass
            self.pid = None

    def add(self, ldif):
        subprocess.run(["ldapadd", "-x", "-H", self.uri, "-D", "cn=admin," + BASE, "-w", "adminpw"],
                       input=ldif, text=True, capture_output=True, check=True, timeout=30)

    def count(self):
        r = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.uri, "-b", BASE, "(objectClass=*)",
                            "dn"], capture_output=True, text=True, timeout=30)
        return r.stdout.count("dn: ")

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def person(uid, mail, password, extra=""):
    return """dn: uid=%s,ou=people,%s
objectClass: inetOrgPerson
objectClass: posixAccount
uid: %s
cn: %s
sn: %s
mail: %s
uidNumber: 7100
gidNumber: 7100
homeDirectory: /nonexistent/%s
userPassword: {CRYPT}%s
%s
""" % (uid, BASE, uid, uid, uid, mail, uid, sha512_crypt(password), extra)


def have_ldap():
    return os.path.exists(SLAPD) and os.path.exists(HELPER) and shutil.which("ldapadd")


class LdapCase(unittest.TestCase):
    auth = "bind"
    tls = {}  # the appliance's TLS settings (a slapd with a certificate when set)

    @classmethod
    def setUpClass(cls):
        cls.ldap = Slapd(tls=bool(cls.tls))
        try:
            cls.ldap.start()
            cls.ldap.add("""dn: %(b)s
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,%(b)s
objectClass: organizationalUnit
ou: people

dn: cn=reader,%(b)s
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: readerpw
""" % {"b": BASE})
            cls.ldap.add(person("lara", "lara@localhost", "larapw") + "\n" +
                         person("star", "*@localhost", "starpw"))
            cls.app = Appliance({"auth_backends": "userdb authldap", "ldap_uri": cls.ldap.uri,
                                 "ldap_base": BASE, "ldap_bind_dn": "cn=reader," + BASE,
                                 "ldap_bind_password_file": cls.ldap.secret, "ldap_auth": cls.auth,
                                 "ldap_filter": "(&(objectClass=posixAccount)(mail=$login))",
                                 "restart_backoff_max": "1", "auth_fail_ip_max": "1000",
                                 # so that the escaping, not the character set, meets them
                                 "auth_username_chars": "a-zA-Z0-9._@+*()\\\\-",
                                 **{k: v.replace("@DIR@", cls.ldap.dir) for k, v in cls.tls.items()}})
            cls.app.settings["mail_root"] = cls.app.mail + "/%d/%n"
            cls.app.start()
            cls.app.wait_log(r"proc=auth-ldap pid=\d+ level=info event=ready backend=ldap")
        except BaseException:
            if getattr(cls, "app", None):
                cls.app.cleanup()
            cls.ldap.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()
        cls.ldap.cleanup()

    def imap_login(self, user, password):
        return imap_login_result(self.app, user, password)

    def pop3_login(self, user, password):
        return pop3_login_result(self.app, user, password)


@unittest.skipUnless(have_ldap(), "slapd, ldap-utils or postern-auth-ldap missing")
class TestLdapBind(LdapCase):
    auth = "bind"

    def test_logins(self):
        mark = self.app.log_mark()
        self.assertEqual(self.imap_login("lara", "larapw"), "OK")
        self.assertEqual(self.pop3_login("lara@localhost", "larapw"), "OK")
        self.app.wait_log(r"event=login service=pop3 ip=127\.0\.0\.1 user=lara@localhost mech=USER "
                          r"backend=ldap", start=mark)
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("lara", "wrong"))
        self.app.wait_log(r"event=auth_failed service=imap .*user=\"lara@localhost\" "
                          r"reason=\"wrong password \(ldap\)\"", start=mark)
        self.assertIn("-ERR", self.pop3_login("lara", ""))   # never an unauthenticated bind
        self.assertEqual(self.imap_login("demo", "demo"), "OK")

    def test_filter_escaping(self):
        # "*" would match every mail attribute; escaped it matches only the
        # entry whose mail is a literal "*@localhost"
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("*", "larapw"))
        self.assertEqual(self.imap_login("*", "starpw"), "OK")
        # (POP3: the parentheses are not IMAP atom characters)
        self.assertIn("-ERR", self.pop3_login("*)(uid=*", "larapw"))
        self.assertIn("-ERR", self.pop3_login("lara@localhost)(mail=*", "larapw"))
        self.assertIn("-ERR", self.pop3_login("*)(|(mail=*", "larapw"))
        self.assertEqual(self.ldap.count(), 5)

    def test_recipient_lookup(self):
        msg = b"From: x@example.net\r\nSubject: via ldap\r\n\r\nhello\r\n"
        with smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=30) as c:
            self.assertEqual(c.sendmail("x@example.net", ["lara@localhost"], msg), {})

    def test_helper_privileges(self):
        pid = self.app.child_pid("postern-auth-ldap")
        self.assertIsNotNone(pid)
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), ["7004"] * 4)
        self.assertEqual(st["CapEff"], "0000000000000000")
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), self.app.empty)

    def test_z_directory_down(self):
        self.ldap.stop()
        try:
            self.assertIn("[UNAVAILABLE]", self.imap_login("lara", "larapw"))
            self.assertIn("[SYS/TEMP]", self.pop3_login("lara", "larapw"))
        finally:
            self.ldap.start()
        wait_until(lambda: self.pop3_login("lara", "larapw") == "OK", 30, "ldap back")


@unittest.skipUnless(have_ldap(), "slapd, ldap-utils or postern-auth-ldap missing")
class TestLdapSearch(LdapCase):
    auth = "search"

    def test_hash_checked_by_authd(self):
        mark = self.app.log_mark()
        self.assertEqual(self.imap_login("lara", "larapw"), "OK")
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login("lara", "wrong"))
        self.app.wait_log(r"event=auth_failed service=imap .*user=\"lara@localhost\" "
                          r"reason=\"wrong password\" mech=\S+ backend=ldap", start=mark)


@unittest.skipUnless(have_ldap(), "slapd, ldap-utils or postern-auth-ldap missing")
class TestLdapStartTLS(LdapCase):
    """StartTLS to the directory: the CA file is read before the sandbox,
    the handshake made after it, the server's certificate checked."""
    tls = {"ldap_starttls": "yes", "ldap_tls_ca_file": "@DIR@/ca.pem"}

    def test_login_over_starttls(self):
        self.assertEqual(self.imap_login("lara", "larapw"), "OK")
        pid = self.app.child_pid("postern-auth-ldap")
        self.assertEqual(proc_status(pid)["Seccomp"], "2")

    def test_another_ca_is_refused(self):
        mark = self.app.log_mark()
        self.app.settings["ldap_tls_ca_file"] = os.path.join(self.ldap.dir, "other-ca.pem")
        self.app.write_conf()
        try:
            os.kill(self.app.proc.pid, signal.SIGHUP)
            self.app.wait_log(r"event=reload", start=mark)
            os.kill(self.app.child_pid("postern-auth-ldap"), signal.SIGKILL)
            self.app.wait_log(r"proc=auth-ldap .*event=ldap_connect_failed reason=\"StartTLS: ",
                              start=mark)
            self.assertIn("[UNAVAILABLE]", self.imap_login("lara", "larapw"))
        finally:
            self.app.settings["ldap_tls_ca_file"] = os.path.join(self.ldap.dir, "ca.pem")
            self.app.write_conf()
            os.kill(self.app.proc.pid, signal.SIGHUP)
        wait_until(lambda: self.imap_login("lara", "larapw") == "OK", 30, "StartTLS again")


if __name__ == "__main__":
    unittest.main()
