"""Recipient-only aliases end to end over SMTP and LMTP: a domain's
catch-all (`posternctl alias add @domain user`) and the system aliases
(`postmaster`, `abuse`: a domain-less alias key, and the `postmaster` config
key).  They are found by recipient lookups only: a POP3 login as any of
those addresses must fail.  docs/SMTP.md "The relay rule" is the operator's
side of the same."""
import glob
import os
import poplib
import shutil
import smtplib
import subprocess
import unittest

from harness import BIN, Appliance, free_port


class AliasBase(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.lport = free_port()
        cls.app = Appliance(dict({"lmtp_listen": "127.0.0.1:%d" % cls.lport}, **cls.overrides))
        ctl = cls.app.ctl
        ctl("domain", "add", "catch.test")
        ctl("domain", "add", "plain.test")
        for u in ("owner@catch.test", "real@catch.test", "admin@plain.test", "boss@plain.test"):
            ctl("user", "add", u, "-p", "pw-" + u)
        ctl("alias", "add", "@catch.test", "owner@catch.test")
        ctl("alias", "add", "al@catch.test", "real@catch.test")
        cls.setup_more(ctl)
        cls.app.start()

    @classmethod
    def setup_more(cls, ctl):
        pass

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def count(self, user, domain):
        return len(glob.glob(os.path.join(self.app.maildir(user, domain), "new", "*")))

    def counts(self):
        return {(u, d): self.count(u, d) for u, d in (
            ("owner", "catch.test"), ("real", "catch.test"), ("admin", "plain.test"),
            ("boss", "plain.test"), ("demo", "localhost"), ("demo2", "localhost"),
            ("x", "both.test"))}

    def smtp(self):
        c = smtplib.SMTP("127.0.0.1", self.app.smtp_port, timeout=20)
        self.assertEqual(c.ehlo("client.test")[0], 250)
        return c

    def lmtp(self):
        c = smtplib.LMTP("127.0.0.1", self.lport, timeout=20)
        self.assertEqual(c.ehlo("client.test")[0], 250)
        return c

    def send(self, client, rcpt, expect=250):
        """One message to rcpt; the RCPT reply code is checked against expect."""
        c = client()
        c.mail("sender@example.org")
        code, text = c.rcpt(rcpt)
        self.assertEqual(code, expect, (rcpt, text))
        if code == 250:
            self.assertEqual(c.data(b"Subject: to %s\r\n\r\nhello\r\n" % rcpt.encode())[0], 250)
        c.quit()
        return text

    def delivered_to(self, client, rcpt, who):
        """rcpt goes to who (user, domain) and nobody else."""
        before = self.counts()
        self.send(client, rcpt)
        after = self.counts()
        want = dict(before)
        want[who] += 1
        self.assertEqual(after, want, rcpt)

    def pop3_login_fails(self, user, password):
        c = poplib.POP3("127.0.0.1", self.app.port, timeout=20)
        try:
            c.user(user)
            with self.assertRaises(poplib.error_proto, msg=user):
                c.pass_(password)
        finally:
            c.close()


class TestCatchAll(AliasBase):
    def test_catchall_takes_every_other_address_smtp_and_lmtp(self):
        for client in (self.smtp, self.lmtp):
            self.delivered_to(client, "anything@catch.test", ("owner", "catch.test"))
            self.delivered_to(client, "Someone.Else@CATCH.test", ("owner", "catch.test"))
            # more specific than the catch-all: a user, an alias, a subaddress
            self.delivered_to(client, "real@catch.test", ("real", "catch.test"))
            self.delivered_to(client, "al@catch.test", ("real", "catch.test"))
            self.delivered_to(client, "real+tag@catch.test", ("real", "catch.test"))
            # a tagged unknown local part is still the catch-all's
            self.delivered_to(client, "nobody+tag@catch.test", ("owner", "catch.test"))

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks_to_the_catchall(self):
        before = self.count("owner", "catch.test")
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.app.smtp_port),
                            "--from", "s@example.org", "--to", "typo@catch.test,other@catch.test"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.count("owner", "catch.test"), before + 1)  # one copy per user

    def test_two_addresses_of_one_user_make_one_copy(self):
        """The master gives one index per user, and each RCPT its reply."""
        for client in (self.smtp, self.lmtp):
            before = self.counts()
            c = client()
            c.mail("s@example.org")
            for rcpt in ("typo@catch.test", "al@catch.test", "other@catch.test", "real+x@catch.test"):
                self.assertEqual(c.rcpt(rcpt)[0], 250, rcpt)
            self.assertEqual(c.data(b"Subject: once\r\n\r\nx\r\n")[0], 250)
            if client == self.lmtp:
                self.assertEqual([c.getreply()[0] for _ in range(3)], [250, 250, 250])
            c.quit()
            want = dict(before)
            want[("owner", "catch.test")] += 1
            want[("real", "catch.test")] += 1
            self.assertEqual(self.counts(), want)

    def test_no_catchall_elsewhere_and_relay_still_refused(self):
        self.assertEqual(self.send(self.smtp, "nobody@plain.test", 550), b"5.1.1 No such user here")
        # neither a system alias nor the postmaster key: postmaster is unknown
        self.assertEqual(self.send(self.smtp, "postmaster@plain.test", 550)[:5], b"5.1.1")
        self.assertEqual(self.send(self.smtp, "Postmaster", 550)[:5], b"5.1.1")
        self.delivered_to(self.smtp, "postmaster@catch.test", ("owner", "catch.test"))
        self.assertEqual(self.send(self.smtp, "nobody@foreign.test", 550), b"5.7.1 Relaying denied")
        self.assertEqual(self.send(self.lmtp, "nobody@plain.test", 550)[:5], b"5.1.1")

    def test_catchall_is_never_a_login(self):
        """A LOGIN as anything@catch.test, with the catch-all user's password,
        must not log in as that user (recipient lookups only)."""
        pw = "pw-owner@catch.test"
        for name in ("anything@catch.test", "@catch.test", "owner+x@catch.test"):
            self.pop3_login_fails(name, pw)
        # the user itself logs in: the password is right
        c = poplib.POP3("127.0.0.1", self.app.port, timeout=20)
        c.user("owner@catch.test")
        self.assertTrue(c.pass_(pw).startswith(b"+OK"))
        c.quit()

    def test_posternctl_catchall_add_list_del(self):
        ctl = self.app.ctl
        r = ctl("alias", "add", "@nohost.test", "owner@catch.test", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not configured", r.stderr)
        r = ctl("alias", "add", "@plain.test", "nobody@plain.test", check=False)
        self.assertIn("is not a user", r.stderr)
        self.assertIn("@catch.test owner@catch.test", ctl("alias", "list").stdout.replace(" -> ", " "))
        ctl("alias", "add", "@PLAIN.test", "boss@plain.test")
        try:
            self.delivered_to(self.smtp, "whoever@plain.test", ("boss", "plain.test"))
        finally:
            ctl("alias", "del", "@plain.test")
        self.assertEqual(self.send(self.smtp, "whoever@plain.test", 550)[:5], b"5.1.1")


class TestSystemAliases(AliasBase):
    """Domain-less alias keys (Courier's aliases/system) apply in every hosted
    domain that has no address of its own for them."""

    @classmethod
    def setup_more(cls, ctl):
        ctl("alias", "add", "postmaster", "admin@plain.test")
        ctl("alias", "add", "Abuse", "boss@plain.test")
        ctl("alias", "add", "abuse@catch.test", "real@catch.test")

    def test_postmaster_and_abuse_in_every_hosted_domain(self):
        for client in (self.smtp, self.lmtp):
            for dom in ("plain.test", "catch.test", "localhost"):
                self.delivered_to(client, "postmaster@" + dom, ("admin", "plain.test"))
            self.delivered_to(client, "PostMaster@Plain.Test", ("admin", "plain.test"))
            self.delivered_to(client, "abuse@localhost", ("boss", "plain.test"))
            # the domain's own abuse address wins
            self.delivered_to(client, "abuse@catch.test", ("real", "catch.test"))
            # RFC 5321 4.1.1.3: <Postmaster> without a domain
            self.delivered_to(client, "Postmaster", ("admin", "plain.test"))
        self.assertEqual(self.send(self.smtp, "postmaster@foreign.test", 550), b"5.7.1 Relaying denied")
        self.assertEqual(self.send(self.smtp, "hostmaster@plain.test", 550)[:5], b"5.1.1")

    def test_system_alias_is_never_a_login(self):
        pw = "pw-admin@plain.test"
        for name in ("postmaster", "postmaster@plain.test", "postmaster@localhost", "Postmaster"):
            self.pop3_login_fails(name, pw)
        r = self.app.ctl("auth", "test", "postmaster", "-p", pw, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown user", r.stdout)

    def test_posternctl_lists_and_deletes_system_aliases(self):
        ctl = self.app.ctl
        out = ctl("alias", "list").stdout
        self.assertIn("postmaster -> admin@plain.test", out)
        self.assertIn("abuse -> boss@plain.test", out)
        ctl("alias", "add", "hostmaster", "demo@localhost")
        self.delivered_to(self.smtp, "hostmaster@plain.test", ("demo", "localhost"))
        ctl("alias", "del", "hostmaster")
        self.assertEqual(self.send(self.smtp, "hostmaster@plain.test", 550)[:5], b"5.1.1")
        r = ctl("alias", "add", "bad name", "demo@localhost", check=False)
        self.assertNotEqual(r.returncode, 0)


class TestPostmasterKey(AliasBase):
    """postmaster = ADDRESS: where postmaster goes when no alias says."""
    overrides = {"postmaster": "demo2@localhost"}

    @classmethod
    def setup_more(cls, ctl):
        ctl("alias", "add", "postmaster@plain.test", "boss@plain.test")

    def test_postmaster_key_when_no_alias_says(self):
        for client in (self.smtp, self.lmtp):
            self.delivered_to(client, "postmaster@localhost", ("demo2", "localhost"))
            self.delivered_to(client, "Postmaster", ("demo2", "localhost"))
            # the key comes before the domain's catch-all
            self.delivered_to(client, "postmaster@catch.test", ("demo2", "localhost"))
            # the domain's own postmaster alias wins
            self.delivered_to(client, "postmaster@plain.test", ("boss", "plain.test"))
        # only postmaster: abuse has no key
        self.assertEqual(self.send(self.smtp, "abuse@localhost", 550)[:5], b"5.1.1")
        self.pop3_login_fails("postmaster@localhost", "demo2")

    def test_config_check_refuses_a_postmaster_that_is_no_address(self):
        conf = os.path.join(self.app.dir, "bad-postmaster.conf")
        for bad in ("admin", "a@b@c", "@x", "x@"):
            with open(conf, "w") as f:
                f.write("".join("%s = %s\n" % kv for kv in self.app.settings.items()
                                if kv[0] != "postmaster"))
                f.write("postmaster = %s\n" % bad)
            r = subprocess.run([os.path.join(BIN, "posternctl"), "-c", conf, "config", "check"],
                               capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("postmaster '%s': not an address" % bad, r.stdout + r.stderr)

class TestLocalDomains(AliasBase):
    """local_domains (Courier's locals): an address in a listed domain that is
    not hosted is the same local part in default_domain (localhost here)."""
    overrides = {"local_domains": "localhost.localdomain, Mail.Local.Test ,both.test"}

    @classmethod
    def setup_more(cls, ctl):
        ctl("domain", "add", "both.test")
        ctl("user", "add", "x@both.test", "-p", "pw-x")
        ctl("alias", "add", "info@localhost", "demo2@localhost")

    def test_local_domains_deliver_to_default_domain(self):
        for client in (self.smtp, self.lmtp):
            self.delivered_to(client, "demo@localhost.localdomain", ("demo", "localhost"))
            self.delivered_to(client, "DEMO2@mail.local.test", ("demo2", "localhost"))
            # then every rule of the default domain: aliases, subaddresses
            self.delivered_to(client, "info@mail.local.test", ("demo2", "localhost"))
            self.delivered_to(client, "demo+tag@localhost.localdomain", ("demo", "localhost"))
        # the resolved user is the copy's Delivered-To
        with open(sorted(glob.glob(os.path.join(self.app.maildir("demo"), "new", "*")))[-1], "rb") as f:
            self.assertIn(b"\nDelivered-To: demo@localhost\n", f.read(200))

    def test_unknown_in_a_local_domain_is_unknown_not_relayed(self):
        self.assertEqual(self.send(self.smtp, "nobody@mail.local.test", 550), b"5.1.1 No such user here")
        self.assertEqual(self.send(self.smtp, "demo@sub.mail.local.test", 550), b"5.7.1 Relaying denied")
        self.assertEqual(self.send(self.smtp, "demo@elsewhere.test", 550), b"5.7.1 Relaying denied")

    def test_a_hosted_domain_keeps_its_own_addresses(self):
        """both.test is listed and hosted: hosted wins, no rewriting."""
        self.delivered_to(self.smtp, "x@both.test", ("x", "both.test"))
        self.assertEqual(self.send(self.smtp, "demo@both.test", 550)[:5], b"5.1.1")

    def test_local_domains_are_never_logins(self):
        self.pop3_login_fails("demo@mail.local.test", "demo")
        self.pop3_login_fails("demo@localhost.localdomain", "demo")


if __name__ == "__main__":
    unittest.main()
