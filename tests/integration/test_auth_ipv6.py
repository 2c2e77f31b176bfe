"""IPv6 clients count per auth_ipv6_prefix (a /64) for the failure throttle
and for max_per_ip.  Loopback has one IPv6 source (::1), so the scenario runs
in a network namespace this test makes (unshare -n, root only), where lo gets
addresses from three documentation /64s (RFC 3849)."""
import os
import shutil
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Appliance, command  # noqa: E402

NET_A = "2001:db8:1:2::"   # the guesser's /64
NET_B = "2001:db8:1:3::"   # another /64
NET_C = "2001:db8:1:4::"   # for max_per_ip
SOURCES = [NET_A + "1"] + [NET_A + "%x" % i for i in range(0x10, 0x15)] + \
    [NET_B + "10", NET_C + "1", NET_C + "2", NET_C + "3", NET_B + "20"]


def connect6(app, source):
    s = socket.create_connection((NET_A + "1", app.port), timeout=10, source_address=(source, 0))
    return s, s.makefile("rb")


def attempt(app, source, pw):
    s, f = connect6(app, source)
    try:
        assert f.readline().startswith(b"+OK")
        command(s, f, "USER demo")
        return command(s, f, "PASS " + pw)[0]
    finally:
        f.close()
        s.close()


def inside():
    """Runs in the new network namespace; exits non-zero on a failed check."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for a in SOURCES:
        subprocess.run(["ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad"], check=True)
    app = Appliance({"auth_fail_ip_max": "3", "max_per_ip": "2", "pop3_tls_required": "no"})
    app.settings["pop3_listen"] = "127.0.0.1:%d, [%s1]:%d" % (app.port, NET_A, app.port)
    app.write_conf()
    app.start()
    try:
        for i in range(3):  # three addresses of one /64, one failure each
            r = attempt(app, NET_A + "%x" % (0x10 + i), "wrong")
            assert r.startswith(b"-ERR [AUTH]"), r
        r = attempt(app, NET_A + "13", "demo")  # a fresh address of the same /64
        assert b"too many failures" in r, r
        app.wait_log(r'ip=2001:db8:1:2::13 user="demo@localhost" '
                     r'reason="throttled: too many failures from this IP"')
        r = attempt(app, NET_B + "10", "demo")  # another /64 is not affected
        assert r.startswith(b"+OK"), r
        held = [connect6(app, NET_C + "1"), connect6(app, NET_C + "2")]
        for s, f in held:
            assert f.readline().startswith(b"+OK")
        s, f = connect6(app, NET_C + "3")
        r = f.readline()
        assert r.startswith(b"-ERR [SYS/TEMP] too many connections from your address"), r
        f.close()
        s.close()
        app.wait_log(r"event=refused reason=max_per_ip ip=2001:db8:1:4::3 limit=2")
        s, f = connect6(app, NET_B + "20")  # another /64 connects
        assert f.readline().startswith(b"+OK")
        f.close()
        s.close()
        for s, f in held:
            f.close()
            s.close()
    finally:
        app.cleanup()
    print("ipv6 /64 scenario passed")


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"),
                     "needs root, unshare and ip")
class TestIPv6Prefix(unittest.TestCase):
    def test_one_64_counts_as_one_address(self):
        r = subprocess.run(["unshare", "--net", sys.executable, os.path.abspath(__file__), "--inside"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertIn("ipv6 /64 scenario passed", r.stdout)


if __name__ == "__main__":
    if sys.argv[1:] == ["--inside"]:
        inside()
    else:
        unittest.main()
