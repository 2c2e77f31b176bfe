"""The metrics endpoint (docs/METRICS.md): postern-metricsd on its own
listener, scraped with curl and urllib, parsed by the Python
prometheus-client parsers (Debian's python3-prometheus-client, run under
/usr/bin/python3: Debian's modules import only there), counters that move
by exactly what the test did, /healthz, bad requests, and the worker's
confinement with a hostile stand-in in its place."""
import fcntl
import json
import os
import poplib
import re
import signal
import socket
import ssl
import subprocess
import unittest
import urllib.error
import urllib.request

from harness import TOOLS, Appliance, free_port, proc_status, wait_until

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
# what Prometheus 2.x sends
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

# Parses stdin with the real parsers; prints the samples as JSON.
PARSE = r"""
import json, sys
text = sys.stdin.read()
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        out.append([fam.name, fam.type, s.name, s.labels, s.value])
print(json.dumps(out))
"""

HAVE_PARSER = subprocess.run(["/usr/bin/python3", "-c", "import prometheus_client"],
                             capture_output=True).returncode == 0 if os.path.exists(
                                 "/usr/bin/python3") else False


def parse(text, form):
    """{(sample name, frozenset of labels): value} and {family: type}, from the real parser."""
    r = subprocess.run(["/usr/bin/python3", "-c", PARSE, form], input=text, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("the %s parser refused the page: %s" % (form, r.stderr[-2000:]))
    samples, types = {}, {}
    for fam, typ, name, labels, value in json.loads(r.stdout):
        samples[(name, frozenset(labels.items()))] = value
        types[fam] = typ
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def total(samples, name, **labels):
    """The sum over the samples of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def raw(port, data, timeout=10):
    """Send data, read the whole answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if data:
            s.sendall(data)
        got = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            got += b
    return got


def status_of(answer):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    return int(m.group(1)) if m else None


class MetricsCase(unittest.TestCase):
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.mport = free_port()
        conf = {"metrics_listen": "127.0.0.1:%d" % cls.mport}
        conf.update(cls.overrides)
        cls.app = Appliance(conf).start()
        cls.app.wait_log(r"event=(tls_ready|accepting)")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def get(self, path, accept=None, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.mport, path), method=method)
        if accept:
            req.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            body = e.read().decode()
            e.close()
            return e.code, e.headers.get("Content-Type"), body

    def scrape(self, form="openmetrics"):
        st, ctype, body = self.get("/metrics", PROMETHEUS_ACCEPT if form == "openmetrics" else None)
        self.assertEqual(st, 200)
        self.assertEqual(ctype, OPENMETRICS if form == "openmetrics" else PROMETHEUS)
        return parse(body, form)[0]

    def wait_disconnects(self, mark, n, proto="pop3"):
        """The master counts a session when it reaps its worker: wait for that."""
        wait_until(lambda: len(re.findall(r"event=disconnect child=\S+ .*proto=%s " % proto,
                                          self.app.log()[mark:])) >= n, 20,
                   "%d %s disconnects" % (n, proto))


@unittest.skipUnless(HAVE_PARSER, "python3-prometheus-client (Debian) not installed")
class TestMetrics(MetricsCase):
    overrides = {"max_per_ip": "3", "auth_fail_delay_ms": "0"}

    @classmethod
    def setUpClass(cls):
        cls.sport = free_port()
        cls.overrides = dict(TestMetrics.overrides, pop3s_listen="127.0.0.1:%d" % cls.sport)
        super().setUpClass()

    def test_both_formats_parse_with_the_real_parsers(self):
        st, ctype, text = self.get("/metrics")
        self.assertEqual((st, ctype), (200, PROMETHEUS))
        self.assertNotIn("# EOF", text)
        samples, types = parse(text, "prometheus")
        self.assertEqual(types["postern_connections"], "counter")
        self.assertEqual(types["postern_sessions_active"], "gauge")
        # this very connection is open while the snapshot is rendered
        self.assertGreaterEqual(value(samples, "postern_sessions_active", service="metrics"), 1)
        st, ctype, om = self.get("/metrics", PROMETHEUS_ACCEPT)
        self.assertEqual((st, ctype), (200, OPENMETRICS))
        self.assertTrue(om.endswith("# EOF\n"))
        samples, types = parse(om, "openmetrics")
        self.assertIn(("postern_connections_total", frozenset({("service", "pop3")})), samples)
        for name in types:
            self.assertTrue(name.startswith("postern_"), name)

    def test_curl_scrapes_both_formats_and_head(self):
        url = "http://127.0.0.1:%d/metrics" % self.mport
        def curl(*args):
            r = subprocess.run(["curl", "-sS"] + list(args) + [url], capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout.decode()
        out = curl("-i")
        self.assertRegex(out, r"^HTTP/1\.1 200 OK\r\n")
        self.assertIn("Content-Type: %s\r\n" % PROMETHEUS, out)
        self.assertIn("Connection: close\r\n", out)
        out = curl("-i", "-H", "Accept: application/openmetrics-text")
        self.assertIn("Content-Type: %s\r\n" % OPENMETRICS, out)
        self.assertTrue(out.endswith("# EOF\n"))
        length = int(re.search(r"Content-Length: (\d+)\r\n", out).group(1))
        self.assertEqual(length, len(out.split("\r\n\r\n", 1)[1].encode()))
        out = curl("-I")
        self.assertRegex(out, r"^HTTP/1\.1 200 OK\r\n")
        self.assertRegex(out, r"Content-Length: [1-9]\d*\r\n")

    def test_logins_ok_and_failed_move_by_exactly_that(self):
        before = self.scrape()
        mark = self.app.log_mark()
        ok, failed = 3, 2
        for _ in range(ok):
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
            p.user("demo")
            p.pass_("demo")
            p.quit()
        for _ in range(failed):
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
            p.user("demo")
            with self.assertRaises(poplib.error_proto):
                p.pass_("wrong")
            p.quit()
        self.wait_disconnects(mark, ok + failed)
        self.assertEqual(len(re.findall(r"proc=pop3d .*event=login tls=no ",
                                        self.app.log()[mark:])), ok)
        after = self.scrape()
        key = dict(service="pop3", mechanism="user")

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)
        self.assertEqual(delta("postern_logins_total", result="ok", **key), ok)
        self.assertEqual(delta("postern_logins_total", result="credentials", **key), failed)
        self.assertEqual(delta("postern_connections_total", service="pop3"), ok + failed)
        self.assertEqual(delta("postern_worker_exits_total", service="pop3"), ok + failed)
        self.assertEqual(total(after, "postern_sandbox_kills_total"),
                         total(before, "postern_sandbox_kills_total"))

    def test_max_per_ip_refusal_is_counted(self):
        before = self.scrape()
        held = [self.app.connect(source="127.0.0.2") for _ in range(3)]
        try:
            with socket.create_connection(("127.0.0.1", self.app.port), timeout=10,
                                          source_address=("127.0.0.2", 0)) as s:
                line = s.makefile("rb").readline()
            self.assertTrue(line.startswith(b"-ERR [SYS/TEMP] too many connections from your "
                                            b"address"), line)
            after = self.scrape()
        finally:
            for s, f in held:
                f.close()
                s.close()
        self.assertEqual(value(after, "postern_connections_refused_total", service="pop3",
                               reason="max_per_ip") -
                         value(before, "postern_connections_refused_total", service="pop3",
                               reason="max_per_ip"), 1)
        self.assertGreaterEqual(value(after, "postern_sessions_active", service="pop3"), 3)

    def test_tls_handshake_ok_and_failed_are_counted(self):
        before = self.scrape()
        mark = self.app.log_mark()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as raw_s:
            with ctx.wrap_socket(raw_s) as t:
                f = t.makefile("rb")
                self.assertTrue(f.readline().startswith(b"+OK"))
                t.sendall(b"USER demo\r\nPASS demo\r\n")
                self.assertTrue(f.readline().startswith(b"+OK"))
                self.assertTrue(f.readline().startswith(b"+OK"))
                t.sendall(b"QUIT\r\n")
                f.readline()
                f.close()
        self.app.wait_log(r"proc=pop3d .*event=tls version=", start=mark)
        # the worker's login line says the session is under TLS
        self.app.wait_log(r"proc=pop3d .*event=login tls=yes ip=127\.0\.0\.1", start=mark)
        # a client that speaks plaintext to the implicit-TLS port
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as s:
            s.sendall(b"USER demo\r\n" * 8)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
        self.app.wait_log(r"proc=pop3d .*event=tls_failed ", start=mark)
        self.wait_disconnects(mark, 2, "pop3s")
        after = self.scrape()
        self.assertEqual(value(after, "postern_tls_handshakes_total") -
                         value(before, "postern_tls_handshakes_total"), 1)
        self.assertEqual(total(after, "postern_tls_handshake_failures_total") -
                         total(before, "postern_tls_handshake_failures_total"), 1)
        # one ECDHE signature by keyd for the full handshake
        self.assertEqual(total(after, "postern_tls_key_operations_total", operation="sign") -
                         total(before, "postern_tls_key_operations_total", operation="sign"), 1)

    def test_bytes_on_the_disconnect_line_are_the_kernels(self):
        before = self.scrape()
        mark = self.app.log_mark()
        sent = b"USER demo\r\nPASS demo\r\nSTAT\r\nLIST\r\nQUIT\r\n"
        with socket.create_connection(("127.0.0.1", self.app.port), timeout=10) as s:
            f = s.makefile("rb")
            got = f.readline()
            s.sendall(sent)
            last = b""
            while True:
                line = f.readline()
                if not line:
                    break
                got += line
                last = line
        self.assertTrue(last.startswith(b"+OK"), last)
        m = self.app.wait_log(r"event=disconnect child=pop3d .*proto=pop3 duration_ms=\d+ "
                              r"bytes_in=(\d+) bytes_out=(\d+)", start=mark)
        bytes_in, bytes_out = int(m.group(1)), int(m.group(2))
        # The master reads TCP_INFO of its copy of the socket when it reaps
        # the worker, before the connection ends (here the client waits for
        # the server's FIN); on plaintext the numbers are the payload bytes
        # exactly.
        self.assertEqual(bytes_in, len(sent))
        self.assertEqual(bytes_out, len(got))
        after = self.scrape()
        self.assertEqual(value(after, "postern_client_received_bytes_total", service="pop3") -
                         value(before, "postern_client_received_bytes_total", service="pop3"),
                         bytes_in)
        self.assertEqual(value(after, "postern_client_sent_bytes_total", service="pop3") -
                         value(before, "postern_client_sent_bytes_total", service="pop3"),
                         bytes_out)

    def test_bytes_when_the_worker_closes_first(self):
        # metricsd shuts its side down, the client then closes: both FINs
        # are in the kernel's sequence numbers, neither in the counts
        mark = self.app.log_mark()
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        got = raw(self.mport, req)
        m = self.app.wait_log(r"event=disconnect child=metricsd .*proto=metrics duration_ms=\d+ "
                              r"bytes_in=(\d+) bytes_out=(\d+)", start=mark)
        self.assertEqual((int(m.group(1)), int(m.group(2))), (len(req), len(got)))

    def test_healthz_ok(self):
        self.assertEqual(self.get("/healthz")[::2], (200, "ok\n"))
        st, _, body = self.get("/healthz", method="HEAD")
        self.assertEqual((st, body), (200, ""))


def pop3_login(app, user="demo", password="demo", source="127.0.0.1"):
    """One POP3 USER/PASS session from source (poplib has no source
    address); True if the login succeeded."""
    with socket.create_connection(("127.0.0.1", app.port), timeout=10,
                                  source_address=(source, 0)) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"+OK")
        s.sendall(b"USER %s\r\nPASS %s\r\nQUIT\r\n" % (user.encode(), password.encode()))
        f.readline()
        ok = f.readline().startswith(b"+OK")
        f.readline()
        f.close()
    return ok


@unittest.skipUnless(HAVE_PARSER, "python3-prometheus-client (Debian) not installed")
class TestBrokerAndMasterCounters(MetricsCase):
    overrides = {"test_triggers": "yes", "auth_fail_ip_max": "3", "auth_fail_delay_ms": "0"}

    @classmethod
    def setUpClass(cls):
        cls.sport = free_port()
        cls.overrides = dict(TestBrokerAndMasterCounters.overrides,
                             pop3s_listen="127.0.0.1:%d" % cls.sport)
        super().setUpClass()

    def tls_session(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", self.sport), timeout=10) as raw_s:
            with ctx.wrap_socket(raw_s) as t:
                f = t.makefile("rb")
                self.assertTrue(f.readline().startswith(b"+OK"))
                t.sendall(b"QUIT\r\n")
                f.readline()
                f.close()

    def test_sandbox_kill_is_counted_by_process(self):
        before = self.scrape()
        mark = self.app.log_mark()
        s, f = self.app.connect()
        s.sendall(b"XSYSCALLTEST\r\n")
        self.assertEqual(f.readline(), b"+OK calling socket(2)\r\n")
        self.assertEqual(f.readline(), b"")
        f.close()
        s.close()
        self.app.wait_log(r"event=disconnect child=pop3d pid=\d+ signal=31 ", start=mark)
        after = self.scrape()
        self.assertEqual(value(after, "postern_sandbox_kills_total", process="pop3d") -
                         value(before, "postern_sandbox_kills_total", process="pop3d"), 1)
        self.assertEqual(total(after, "postern_sandbox_kills_total") -
                         total(before, "postern_sandbox_kills_total"), 1)

    def test_throttle_hits_are_counted(self):
        before = self.scrape()
        mark = self.app.log_mark()
        # auth_fail_ip_max = 3 failures from one address, then it is throttled
        for _ in range(4):
            self.assertFalse(pop3_login(self.app, password="wrong", source="127.0.0.3"))
        self.wait_disconnects(mark, 4)
        after = self.scrape()
        key = dict(service="pop3", mechanism="user")

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)
        self.assertEqual(delta("postern_logins_total", result="credentials", **key), 3)
        self.assertEqual(delta("postern_logins_total", result="throttled", **key), 1)
        self.assertEqual(delta("postern_auth_throttled_total", kind="ip"), 1)

    def test_broker_counters_survive_a_restart_and_a_keyd_reload(self):
        before = self.scrape()
        self.assertTrue(pop3_login(self.app))
        self.tls_session()
        mark = self.app.log_mark()
        old = self.app.authd_pid()
        os.kill(old, signal.SIGKILL)
        self.app.wait_log(r"event=child_died child=authd signal=9", start=mark)
        wait_until(lambda: self.app.authd_pid() not in (None, old), 15, "new authd")
        # a new keyd takes over; the old one finishes and exits: each wrote
        # a page of its own, and the exited ones' numbers are kept
        self.app.proc.send_signal(signal.SIGHUP)
        self.app.wait_log(r"event=tls_reloaded ", start=mark)
        self.tls_session()
        self.app.wait_log(r"proc=master .*event=child_exit child=keyd pid=\d+ exit=0 reason=retired",
                          start=mark)
        self.assertTrue(pop3_login(self.app))
        after = self.scrape()
        key = dict(service="pop3", mechanism="user", result="ok")
        self.assertEqual(value(after, "postern_logins_total", **key) -
                         value(before, "postern_logins_total", **key), 2)
        self.assertEqual(total(after, "postern_tls_key_operations_total", operation="sign") -
                         total(before, "postern_tls_key_operations_total", operation="sign"), 2)
        self.assertEqual(value(after, "postern_broker_restarts_total", broker="authd") -
                         value(before, "postern_broker_restarts_total", broker="authd"), 1)


@unittest.skipUnless(os.geteuid() == 0 and HAVE_PARSER, "needs root and prometheus-client")
class TestLoginTimeoutCounted(MetricsCase):
    """The master's login_timeout kill (a worker that does not end the
    session itself: here one held stopped) is counted."""
    overrides = {"login_timeout": "2"}

    def test_master_kill_at_login_timeout_is_counted(self):
        before = self.scrape()
        mark = self.app.log_mark()
        s, f = self.app.connect()
        pid = int(self.app.wait_log(r"event=connect proto=pop3 ip=\S+ worker_pid=(\d+)",
                                    start=mark).group(1))
        os.kill(pid, signal.SIGSTOP)
        self.app.wait_log(r"proc=master .*event=disconnect reason=login_timeout ", start=mark,
                          timeout=20)
        self.app.wait_log(r"event=disconnect child=pop3d pid=%d signal=9 " % pid, start=mark)
        f.close()
        s.close()
        after = self.scrape()
        self.assertEqual(value(after, "postern_login_timeouts_total", service="pop3") -
                         value(before, "postern_login_timeouts_total", service="pop3"), 1)


class TestBadRequests(MetricsCase):
    overrides = {"metrics_max_request": "1024", "metrics_max_headers": "8"}

    def test_bad_requests_get_their_status(self):
        p = self.mport
        self.assertEqual(status_of(raw(p, b"GARBAGE\r\n\r\n")), 400)
        self.assertEqual(status_of(raw(p, b"GET /metrics HTTP/1.1\r\n\r\n")), 400)  # no Host
        self.assertEqual(status_of(raw(p, b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n")), 400)
        a = raw(p, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
        self.assertEqual(status_of(a), 405)
        self.assertIn(b"\r\nAllow: GET, HEAD\r\n", a)
        self.assertEqual(status_of(raw(p, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")), 404)
        a = raw(p, b"HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status_of(a), 404)
        self.assertTrue(a.endswith(b"\r\n\r\n"))  # HEAD: no body
        self.assertEqual(status_of(raw(p, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n\r\n")), 414)
        self.assertEqual(status_of(raw(p, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"b" * 2000 +
                                       b"\r\n\r\n")), 431)
        many = b"".join(b"X%d: y\r\n" % i for i in range(9))
        self.assertEqual(status_of(raw(p, b"GET / HTTP/1.1\r\n" + many + b"\r\n")), 431)
        self.assertEqual(status_of(raw(p, b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n")), 505)
        a = raw(p, b"HEAD /metrics HTTP/1.0\r\n\r\n")
        self.assertEqual(status_of(a), 200)
        self.assertTrue(a.endswith(b"\r\n\r\n"))  # no body after the head
        # one request per connection: the second is never answered
        a = raw(p, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(a.count(b"HTTP/1.1 "), 1)
        self.assertTrue(a.endswith(b"\r\n\r\nok\n"))


class TestHealth(MetricsCase):
    """/healthz says 503 while authd is not running: killed, with the
    master's restart back-off pending (a stopped authd still runs)."""
    overrides = {"restart_backoff_max": "30"}

    def test_503_while_authd_waits_for_its_restart(self):
        self.assertEqual(self.get("/healthz")[0], 200)
        # each quick death doubles the back-off: 0 s, 1 s, 2 s, 4 s
        for delay in (0, 1, 2, 4):
            old = self.app.authd_pid()
            mark = self.app.log_mark()
            os.kill(old, signal.SIGKILL)
            self.app.wait_log(r"event=child_died child=authd signal=9 restart_in=%ds" % delay,
                              start=mark)
            if delay < 4:
                wait_until(lambda: self.app.authd_pid() not in (None, old), 15, "new authd")
        st, _, body = self.get("/healthz")
        self.assertEqual((st, body), (503, "authd not running\n"))
        if HAVE_PARSER:
            samples = self.scrape()
            self.assertEqual(value(samples, "postern_broker_up", broker="authd"), 0)
            self.assertEqual(value(samples, "postern_healthy"), 0)
            self.assertEqual(value(samples, "postern_broker_restarts_total", broker="authd"), 4)
        wait_until(lambda: self.app.authd_pid(), 20, "authd back")
        wait_until(lambda: self.get("/healthz")[0] == 200, 20, "healthy again")


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestMetricsWorkerConfined(MetricsCase):
    overrides = {"metrics_idle_timeout": "5"}

    def test_worker_confined_before_it_reads(self):
        mark = self.app.log_mark()
        with socket.create_connection(("127.0.0.1", self.mport), timeout=10) as s:
            m = self.app.wait_log(r"event=connect proto=metrics ip=\S+ worker_pid=(\d+)", start=mark)
            pid = int(m.group(1))
            # confined before a byte arrived (the sandbox is entered first)
            wait_until(lambda: proc_status(pid)["Seccomp"] == "2", 10, "metricsd sandboxed")
            st = proc_status(pid)
            self.assertEqual(st["Uid"].split(), ["7002"] * 4)
            self.assertEqual(st["Groups"], "")
            self.assertEqual(int(st["CapEff"], 16), 0)
            self.assertEqual(int(st["CapBnd"], 16), 0)
            self.assertEqual(st["NoNewPrivs"], "1")
            self.assertEqual(os.readlink("/proc/%d/root" % pid), self.app.empty)
            self.assertEqual(os.listdir("/proc/%d/root/" % pid), [])
            fds = {int(n): os.readlink("/proc/%d/fd/%s" % (pid, n))
                   for n in os.listdir("/proc/%d/fd" % pid)}
            # the client and the snapshot, beside the log pipe (the config
            # snapshot was read and closed; no broker, no control channel)
            self.assertTrue(fds[3].startswith("socket:"), fds)
            self.assertTrue(fds[4].startswith("/memfd:postern-metrics"), fds)
            self.assertEqual(set(fds) - {0, 1, 2}, {3, 4}, fds)
            # sealed against writes, growth, shrinking and new seals
            snap = os.open("/proc/%d/fd/4" % pid, os.O_RDONLY)
            try:
                seals = fcntl.fcntl(snap, 1034)  # F_GET_SEALS
            finally:
                os.close(snap)
            self.assertEqual(seals, 0x0001 | 0x0002 | 0x0004 | 0x0008)
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200 OK\r\n"))

    def test_idle_client_gets_408(self):
        with socket.create_connection(("127.0.0.1", self.mport), timeout=20) as s:
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        self.assertEqual(status_of(got), 408)


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestHostileMetricsWorker(MetricsCase):
    """A compromised metrics worker (tests/tools/hostile_metricsd.c, in the
    exact metricsd sandbox) cannot change the snapshot or reach anything."""
    overrides = {"metrics_worker": os.path.join(TOOLS, "hostile_metricsd")}

    def ask(self, cmd):
        with socket.create_connection(("127.0.0.1", self.mport), timeout=10) as s:
            f = s.makefile("rb")
            self.assertEqual(f.readline(), b"hostile metricsd ready\n")
            s.sendall(cmd + b"\n")
            return f.readline().decode().strip()

    def test_snapshot_is_sealed_and_nothing_else_is_held(self):
        said = self.ask(b"PROBE")
        # (a write(2) is refused before the seal is looked at: a worker's
        # RLIMIT_FSIZE is 0; the writable mapping is what the seal stops)
        self.assertRegex(said, r"^write=(EPERM|EFBIG) mmap_write=EPERM fds=0,1,2,3,4$")

    def test_a_forbidden_call_kills_it_and_is_counted(self):
        mark = self.app.log_mark()
        self.assertEqual(self.ask(b"SOCKET"), "")
        self.app.wait_log(r"event=sandbox_kill child=metricsd pid=\d+ signal=31", start=mark)
        self.app.wait_log(r"event=disconnect child=metricsd ", start=mark)
        # nothing else is affected: the mail services go on
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user("demo")
        p.pass_("demo")
        p.quit()


if __name__ == "__main__":
    unittest.main()
