"""Login failures must not tell an unknown user from a wrong password by
their timing: both get a password check (a dummy hash for unknown users),
and a refusal goes out auth_fail_delay_ms after the request arrived, not
after the check.  This test measures real POP3 USER/PASS round trips; the
timing is what is tested, so here (only) the clock is the assertion."""
import statistics
import time
import unittest

from harness import Appliance, command

N = 15  # per kind, interleaved


def pass_time(app, user, pw):
    """Seconds from sending PASS to its -ERR line (a fresh connection each)."""
    s, f = app.connect()
    try:
        command(s, f, "USER " + user)
        t0 = time.perf_counter()
        reply = command(s, f, "PASS " + pw)[0]
        dt = time.perf_counter() - t0
    finally:
        f.close()
        s.close()
    assert reply.startswith(b"-ERR [AUTH]"), reply
    return dt


def measure(app):
    unknown, wrong = [], []
    pass_time(app, "demo", "warm-up")  # page in the db and crypt's code
    for i in range(N):
        unknown.append(pass_time(app, "nosuch%d" % i, "guess%d" % i))
        wrong.append(pass_time(app, "demo", "guess%d" % i))
    return unknown, wrong


def describe(name, xs):
    return "%s median %.2f ms range %.2f-%.2f ms" % (
        name, statistics.median(xs) * 1000, min(xs) * 1000, max(xs) * 1000)


# no throttling here: every attempt must reach the password check
LIMITS = {"auth_fail_ip_max": "1000", "auth_fail_user_max": "1000",
          "auth_max_checks_per_second": "100000"}


class TestTimingWithDelay(unittest.TestCase):
    DELAY_MS = 100

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(dict(LIMITS, auth_fail_delay_ms=str(cls.DELAY_MS))).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_unknown_user_and_wrong_password_take_the_same_time(self):
        unknown, wrong = measure(self.app)
        msg = describe("unknown user", unknown) + "; " + describe("wrong password", wrong)
        print("\n  delay %d ms: %s" % (self.DELAY_MS, msg))
        # the reply is due at arrival + delay whatever the check cost
        self.assertGreaterEqual(min(unknown + wrong), self.DELAY_MS / 1000.0 * 0.95, msg)
        # a crypt costs ~15 ms here: 10% of the delay is below it
        self.assertLess(abs(statistics.median(unknown) - statistics.median(wrong)),
                        self.DELAY_MS / 1000.0 * 0.10, msg)
        self.assertTrue(min(unknown) <= max(wrong) and min(wrong) <= max(unknown),
                        "ranges do not overlap: " + msg)


class TestTimingWithoutDelay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance(dict(LIMITS, auth_fail_delay_ms="0")).start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_unknown_user_gets_a_password_check_too(self):
        unknown, wrong = measure(self.app)
        msg = describe("unknown user", unknown) + "; " + describe("wrong password", wrong)
        print("\n  delay 0: %s" % msg)
        self.assertGreaterEqual(statistics.median(unknown), 0.5 * statistics.median(wrong), msg)


if __name__ == "__main__":
    unittest.main()
