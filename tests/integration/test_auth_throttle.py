"""Throttling that a guesser with many addresses cannot step around, a cap
on password checks per second, and long config values that reach authd.

All of 127/8 is local, so each attempt can come from a fresh address.  The
IPv6 /64 aggregation cannot be shown here: the only IPv6 source on loopback
is ::1, so tests/unit/test_throttle.c checks the key derivation instead."""
import os
import re
import socket
import unittest

from harness import Appliance, command, make_message


def attempt(app, source, user, pw):
    s, f = app.connect(source=source)
    try:
        command(s, f, "USER " + user)
        return command(s, f, "PASS " + pw)[0]
    finally:
        f.close()
        s.close()


class TestDistributedGuessing(unittest.TestCase):
    USER_MAX = 5

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_user_max": str(cls.USER_MAX),
                             "auth_fail_ip_max": "10"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_fresh_addresses_get_no_check_once_the_user_is_backed_off(self):
        # the owner's usual address, before the attack
        self.assertTrue(attempt(self.app, "127.0.0.2", "demo", "demo").startswith(b"+OK"))
        mark = self.app.log_mark()
        answers = [attempt(self.app, "127.0.0.%d" % i, "demo", "guess%d" % i) for i in range(3, 201)]
        auth = [a for a in answers if a.startswith(b"-ERR [AUTH]")]
        throttled = [a for a in answers if b"too many failures" in a]
        self.assertEqual(len(auth), self.USER_MAX, answers[:10])
        self.assertEqual(len(throttled), len(answers) - self.USER_MAX)
        # the right password from a fresh address is refused during the back-off ...
        self.assertIn(b"too many failures", attempt(self.app, "127.0.1.1", "demo", "demo"))
        self.app.wait_log(r'ip=127\.0\.1\.1 user="demo@localhost" '
                          r'reason="throttled: too many failures for this user"', start=mark)
        # ... and from the address that logged in before, it works
        self.assertTrue(attempt(self.app, "127.0.0.2", "demo", "demo").startswith(b"+OK"))
        log = self.app.log()[mark:]
        checks = len(re.findall(r'user="demo@localhost" reason="wrong password"', log))
        print("\n  real password checks for demo from 198 addresses: %d" % checks)
        self.assertEqual(checks, self.USER_MAX)
        # another user is not affected
        self.assertTrue(attempt(self.app, "127.0.1.2", "demo2", "demo2").startswith(b"+OK"))


class TestCheckRateCap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_max_checks_per_second": "5", "auth_fail_user_max": "1000",
                             "auth_fail_ip_max": "1000"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_many_concurrent_checks_are_refused_over_the_cap(self):
        mark = self.app.log_mark()
        conns = []
        for i in range(40):
            s, f = self.app.connect(source="127.0.2.%d" % (i + 1))
            command(s, f, "USER demo")
            conns.append((s, f))
        for i, (s, f) in enumerate(conns):  # all at once: authd sees a burst
            s.sendall(b"PASS wrong%d\r\n" % i)
        answers = [f.readline() for s, f in conns]
        for s, f in conns:
            f.close()
            s.close()
        temp = [a for a in answers if a.startswith(b"-ERR [SYS/TEMP] Temporary")]
        wrong = [a for a in answers if a.startswith(b"-ERR [AUTH]")]
        self.assertEqual(len(temp) + len(wrong), len(answers), answers)
        self.assertGreaterEqual(len(temp), 20, answers)
        self.assertGreaterEqual(len(wrong), 5, answers)  # the first second's worth
        self.app.wait_log(r'ip=127\.0\.2\.\d+ user="demo@localhost" '
                          r'reason="throttled: over auth_max_checks_per_second"', start=mark)
        print("\n  40 concurrent wrong passwords at a cap of 5/s: %d checked, %d refused"
              % (len(wrong), len(temp)))


class TestLongConfigValues(unittest.TestCase):
    def test_long_mail_root_reaches_authd_and_logins_work(self):
        app = Appliance()
        try:
            long_root = app.mail + "/" + "a" * 140 + "/" + "b" * 140 + "/%d/%n"
            self.assertGreaterEqual(len(long_root), 300)
            app.settings["mail_root"] = long_root
            app.write_conf()
            self.assertEqual(app.ctl("config", "check").returncode, 0)
            app.deliver("demo", make_message("long root", "hello\n"))
            app.start()
            s, f = app.connect()
            command(s, f, "USER demo")
            self.assertTrue(command(s, f, "PASS demo")[0].startswith(b"+OK"))
            self.assertTrue(command(s, f, "STAT")[0].startswith(b"+OK 1 "))
            f.close()
            s.close()
            self.assertNotIn("child_died child=authd", app.log())
        finally:
            app.cleanup()

    def test_long_default_domain_is_refused_by_config_check(self):
        app = Appliance()
        try:
            app.settings["default_domain"] = ("x" * 60 + ".") * 5 + "org"  # 308 bytes
            app.write_conf()
            r = app.ctl("config", "check", check=False)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("default_domain", r.stderr)
        finally:
            app.cleanup()


if __name__ == "__main__":
    unittest.main()
