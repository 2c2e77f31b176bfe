"""DNSBL checks in smtpd through postern-resolverd (docs/SMTP.md#dnsbl-checks):
a real DNS server from Debian (dnsmasq) on loopback serves the test zones; a
small UDP responder in the test plays the resolvers that answer wrong
(silence, a compression loop, a spoofed id).  The client is always
127.0.0.1, so its question is 1.0.0.127.<zone>."""
import os
import re
import select
import shutil
import signal
import smtplib
import socket
import struct
import subprocess
import threading
import unittest

from harness import Appliance, free_port, make_message, proc_status, wait_until

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "tests")

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
LISTED = "1.0.0.127.bl.test"


def start_dnsmasq(port):
    p = subprocess.Popen([DNSMASQ, "--no-daemon", "--port=%d" % port, "--listen-address=127.0.0.1",
                          "--bind-interfaces", "--no-resolv", "--no-hosts", "--log-facility=-",
                          "--address=/%s/127.0.0.2" % LISTED,
                          "--txt-record=%s,listed for the test, see https://bl.test/" % LISTED,
                          "--local=/bl.test/", "--local=/clean.test/"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.settimeout(0.2)
    query = struct.pack(">6H", 1, 0x0100, 1, 0, 0, 0) + b"\x02x1\x05clean\x04test\x00\x00\x01\x00\x01"

    def answers():
        if p.poll() is not None:
            raise AssertionError("dnsmasq exited %s" % p.returncode)
        try:
            probe.sendto(query, ("127.0.0.1", port))
            return probe.recv(512)[:2] == b"\x00\x01"
        except OSError:
            return False
    try:
        wait_until(answers, 10, "dnsmasq answering on port %d" % port)
    except BaseException:
        p.kill()
        p.wait()
        raise
    finally:
        probe.close()
    return p


class FakeResolver:
    """Answers each question as self.mode says: "silent" (never), "loop" (the
    right id and question, then an answer whose owner name points at
    itself), "spoof" (first a listing with another id, then NXDOMAIN with the
    right one)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.port = self.s.getsockname()[1]
        self.mode = "silent"
        self.r, self.w = os.pipe()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            ready, _, _ = select.select([self.s, self.r], [], [])
            if self.r in ready:
                return
            q, peer = self.s.recvfrom(512)
            qend = 12 + q[12:].index(b"\x00") + 5
            question = q[12:qend]
            head = lambda i, flags, an: struct.pack(">6H", i, flags, 1, an, 0, 0)
            a = struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 2])
            qid = struct.unpack(">H", q[:2])[0]
            if self.mode == "loop":
                self.s.sendto(head(qid, 0x8180, 1) + question + struct.pack(">H", 0xc000 | qend) + a, peer)
            elif self.mode == "spoof":
                self.s.sendto(head(qid ^ 0x5a5a, 0x8180, 1) + question + b"\xc0\x0c" + a, peer)
                self.s.sendto(head(qid, 0x8183, 0) + question, peer)

    def close(self):
        os.write(self.w, b"x")
        self.t.join(5)
        self.s.close()
        os.close(self.r)
        os.close(self.w)


def send(app, to="demo@localhost", subject="dnsbl"):
    with smtplib.SMTP("127.0.0.1", app.smtp_port, timeout=30) as c:
        c.ehlo("client.example")
        c.mail("sender@example.net")
        code, text = c.rcpt(to)
        if code == 250:
            code, text = c.data(make_message(subject, "body\n", to=to))
        return code, text.decode()


def delivered(app, subject):
    new = os.path.join(app.maildir(), "new")
    for n in os.listdir(new) if os.path.isdir(new) else []:
        with open(os.path.join(new, n), "rb") as f:
            if ("Subject: %s\n" % subject).encode() in f.read():
                return True
    return False


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
@unittest.skipUnless(os.path.exists(DNSMASQ), "dnsmasq is not installed (scripts/deps.sh)")
class DnsblTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns_port = free_port()
        cls.dnsmasq = start_dnsmasq(cls.dns_port)
        cls.fake = FakeResolver()
        cls.apps = []

    @classmethod
    def tearDownClass(cls):
        for a in cls.apps:
            a.cleanup()
        cls.fake.close()
        cls.dnsmasq.terminate()
        cls.dnsmasq.wait(10)

    def app(self, **over):
        a = Appliance(dict({"dns_resolvers": "127.0.0.1:%d" % self.dns_port}, **over))
        self.apps.append(a)
        a.start()
        wait_until(lambda: a.child_pid("postern-resolve"), 10, "resolverd running")
        a.wait_log(r"proc=resolverd pid=\d+ level=info event=ready")
        return a

    def test_listed_client_refused_with_zone_and_text(self):
        a = self.app(smtp_dnsbl="clean.test bl.test")
        mark = a.log_mark()
        code, text = send(a, subject="listed")
        self.assertEqual(code, 554)
        self.assertIn("5.7.1", text)
        self.assertIn("client [127.0.0.1] listed in bl.test (127.0.0.2)", text)
        self.assertIn("listed for the test", text)
        m = a.wait_log(r"sid=(\w+) level=info event=dnsbl_hit ip=127\.0\.0\.1 zone=bl\.test "
                       r"answer=127\.0\.0\.2 text=\"listed for the test", start=mark)
        self.assertEqual(len(m.group(1)), 24)
        self.assertFalse(delivered(a, "listed"))
        # the resolver process: its own uid, no capabilities, no_new_privs,
        # seccomp, an empty root; no socket of its own making
        pid = a.child_pid("postern-resolve")
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), ["7005"] * 4)
        self.assertEqual(st["Gid"].split(), ["7005"] * 4)
        self.assertEqual(st["Groups"], "")
        self.assertEqual(int(st["CapEff"], 16), 0)
        self.assertEqual(int(st["CapPrm"], 16), 0)
        self.assertEqual(int(st["CapBnd"], 16), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), a.empty)
        self.assertEqual(os.listdir("/proc/%d/root/" % pid), [])
        # its fds: the master channel and the one UDP socket, connected to
        # dnsmasq (the master made it); no listening or other socket
        socks = [os.readlink("/proc/%d/fd/%s" % (pid, n)) for n in os.listdir("/proc/%d/fd" % pid)]
        self.assertEqual(len([x for x in socks if x.startswith("socket:")]), 2, socks)
        with open("/proc/net/udp") as f:
            peer = "0100007F:%04X" % self.dns_port
            inodes = [l.split()[9] for l in f.readlines()[1:] if l.split()[2] == peer]
        self.assertTrue(any("socket:[%s]" % i in socks for i in inodes), (inodes, socks))

    def test_unlisted_client_delivers_filter_applies(self):
        # bl.test answers 127.0.0.2, which the filter does not take
        a = self.app(smtp_dnsbl="clean.test bl.test=127.0.0.3,127.0.0.4")
        mark = a.log_mark()
        self.assertEqual(send(a, subject="clean")[0], 250)
        wait_until(lambda: delivered(a, "clean"), 10, "delivery")
        self.assertNotIn("event=dnsbl_", a.log()[mark:])

    def test_dead_resolver_accepts_or_tempfails(self):
        dead = free_port()
        a = self.app(smtp_dnsbl="bl.test", dns_resolvers="127.0.0.1:%d" % dead)
        mark = a.log_mark()
        self.assertEqual(send(a, subject="dead-accept")[0], 250)
        a.wait_log(r"sid=\w+ level=warn event=dnsbl_error ip=127\.0\.0\.1 zone=bl\.test "
                   r"reason=\"resolver unreachable.*then=accept", start=mark)
        a.settings["smtp_dnsbl_fail"] = "tempfail"
        a.write_conf()
        mark = a.log_mark()
        a.ctl("reload")
        a.wait_log(r"proc=resolverd pid=\d+ level=info event=ready", start=mark)
        code, text = send(a, subject="dead-tempfail")
        self.assertEqual(code, 451)
        self.assertIn("4.7.1", text)
        self.assertIn("could not be checked against bl.test", text)
        self.assertFalse(delivered(a, "dead-tempfail"))
        # a dead resolver first, then dnsmasq: every check goes on to the
        # next resolver when the first one's port is unreachable
        a.settings["dns_resolvers"] = "127.0.0.1:%d, 127.0.0.1:%d" % (dead, self.dns_port)
        a.write_conf()
        mark = a.log_mark()
        a.ctl("reload")
        a.wait_log(r"proc=resolverd pid=\d+ level=info event=ready", start=mark)
        for i in range(3):
            code, text = send(a, subject="failover-%d" % i)
            self.assertEqual(code, 554, text)
            self.assertIn("listed in bl.test", text)

    def test_timeout_malformed_and_spoofed_answers(self):
        a = self.app(smtp_dnsbl="bl.test", smtp_dnsbl_fail="tempfail", dns_timeout_ms="400",
                     dns_resolvers="127.0.0.1:%d" % self.fake.port)
        self.fake.mode = "silent"
        mark = a.log_mark()
        self.assertEqual(send(a, subject="silent")[0], 451)
        a.wait_log(r"event=dnsbl_error .*reason=\"no answer within dns_timeout_ms\" then=tempfail",
                   start=mark)
        self.fake.mode = "loop"
        mark = a.log_mark()
        self.assertEqual(send(a, subject="loop")[0], 451)
        a.wait_log(r"sid=\w+ level=warn event=dns_refused zone=bl\.test reason=\"malformed "
                   r"answer: compression pointer", start=mark)
        a.wait_log(r"event=dnsbl_error .*reason=\"malformed answer\"", start=mark)
        # a listing under a wrong id is dropped; the real NXDOMAIN counts
        self.fake.mode = "spoof"
        mark = a.log_mark()
        self.assertEqual(send(a, subject="spoof")[0], 250)
        wait_until(lambda: delivered(a, "spoof"), 10, "delivery")
        a.wait_log(r"event=dns_ignored", start=0)
        self.assertNotIn("event=dnsbl_hit", a.log()[mark:])
        # resolverd stopped: the master does not wait for it; its own
        # timer answers the session (dns_timeout_ms + 1 s)
        pid = a.child_pid("postern-resolve")
        os.kill(pid, signal.SIGSTOP)
        try:
            mark = a.log_mark()
            code, text = send(a, subject="stopped")
            self.assertEqual(code, 451, text)
            a.wait_log(r"sid=\w+ level=warn event=dnsbl_timeout id=\d+ reason=\"resolverd did "
                       r"not answer\"", start=mark)
            a.wait_log(r"event=dnsbl_error .*reason=\"resolverd did not answer\" then=tempfail",
                       start=mark)
        finally:
            os.kill(pid, signal.SIGCONT)

    def test_compromised_smtpd_asks_once_about_its_own_client(self):
        # the hostile worker in smtpd's place, with smtpd's fds and sandbox
        a = self.app(smtp_dnsbl="bl.test", smtp_worker=os.path.join(TOOLS, "hostile_worker"))
        mark = a.log_mark()
        s = socket.create_connection(("127.0.0.1", a.smtp_port), timeout=15)
        f = s.makefile("rb")
        self.addCleanup(s.close)
        self.addCleanup(f.close)
        self.assertEqual(f.readline(), b"+OK hostile worker ready\n")
        sid = a.wait_log(r"sid=(\w+) level=info event=connect proto=smtp", start=mark).group(1)
        s.sendall(b"INTAKE-DNSBL\n")
        # the question was the master's: the address it accepted, the zones configured
        self.assertEqual(f.readline().strip(), b"dnsbl status=1 zone=bl.test answer=127.0.0.2")
        s.sendall(b"INTAKE-DNSBL\n")
        self.assertIn(f.readline().strip(), (b"ctl-closed", b""))
        a.wait_log(r"sid=%s level=error event=ipc_violation peer=worker .*type=0x0207" % sid,
                   start=mark)


if __name__ == "__main__":
    unittest.main()
