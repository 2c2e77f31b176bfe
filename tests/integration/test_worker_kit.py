"""The worker kit under pop3d: the event loop, non-blocking TLS, the SASL
session state, the worker's own login deadline and the bounded output
queue (common/worker/wk_client.c, wk_auth.c, wk_boot.c)."""
import base64
import os
import re
import socket
import ssl
import time
import unittest

from harness import Appliance, command, free_port, make_message, wait_until


def tls_client(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
    return s, s.makefile("rb")


def read_lines(f, n):
    return [f.readline() for _ in range(n)]


def plain_b64(user, pw):
    return base64.b64encode(b"\0" + user + b"\0" + pw)


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestEventLoopTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sport = free_port()
        cls.app = Appliance({"pop3s_listen": "127.0.0.1:%d" % cls.sport})
        cls.app.deliver("demo", make_message("kit one", "first body\n"))
        cls.app.deliver("demo", make_message("kit two", "second body\n"))
        cls.app.start()
        wait_until(lambda: "event=tls_ready" in cls.app.log(), 10, "keyd ready")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def check_session(self, f):
        self.assertEqual(f.readline(), b"+OK\r\n")                 # USER
        self.assertTrue(f.readline().startswith(b"+OK Logged in, 2 messages"))
        self.assertTrue(f.readline().startswith(b"+OK 2 "))         # STAT
        self.assertEqual(f.readline(), b"+OK scan listing follows\r\n")
        self.assertTrue(f.readline().startswith(b"1 "))
        self.assertTrue(f.readline().startswith(b"2 "))
        self.assertEqual(f.readline(), b".\r\n")
        self.assertTrue(f.readline().startswith(b"+OK 1 "))         # UIDL 1
        self.assertTrue(f.readline().startswith(b"+OK Bye"))        # QUIT

    def test_pipelined_commands_across_tls_record_boundaries(self):
        for pause in (0, 0.05):
            s, f = tls_client(self.sport)
            self.assertTrue(f.readline().startswith(b"+OK Postern"))
            # three TLS records, each cutting a command in two
            for part in (b"USER demo\r\nPA", b"SS demo\r\nSTAT\r\nLI", b"ST\r\nUIDL 1\r\nQUIT\r\n"):
                s.sendall(part)
                time.sleep(pause)
            self.check_session(f)
            s.close()

    def test_command_trickled_one_byte_per_tls_record(self):
        s, f = tls_client(self.sport)
        self.assertTrue(f.readline().startswith(b"+OK Postern"))
        for b in b"USER demo\r\nPASS demo\r\nSTAT\r\nLIST\r\nUIDL 1\r\nQUIT\r\n":
            s.sendall(bytes([b]))  # one write, one record
            time.sleep(0.002)
        self.check_session(f)
        s.close()

    def test_stls_then_pipelined_login(self):
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        self.assertTrue(command(s, f, "STLS")[0].startswith(b"+OK Begin TLS"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        t = ctx.wrap_socket(s)
        tf = t.makefile("rb")
        t.sendall(b"USER demo\r\nPASS demo\r\nSTAT\r\nLIST\r\nUIDL 1\r\nQUIT\r\n")
        self.check_session(tf)
        t.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestSaslState(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = Appliance({"auth_fail_delay_ms": "300"})
        cls.app.deliver("demo", make_message("sasl", "body\n"))
        cls.app.start()

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_auth_plain_with_a_continuation(self):
        s, f = self.app.connect()
        self.assertEqual(command(s, f, "AUTH PLAIN")[0], b"+ \r\n")
        self.assertTrue(command(s, f, plain_b64(b"demo", b"demo") + b"\r\n")[0]
                        .startswith(b"+OK Logged in, 1 messages"))
        self.assertTrue(command(s, f, "STAT")[0].startswith(b"+OK 1 "))
        self.assertTrue(command(s, f, "QUIT")[0].startswith(b"+OK Bye"))
        s.close()

    def test_continuation_pipelined_behind_the_command(self):
        s, f = self.app.connect()
        s.sendall(b"AUTH PLAIN\r\n" + plain_b64(b"demo", b"demo") + b"\r\nSTAT\r\nQUIT\r\n")
        self.assertEqual(f.readline(), b"+ \r\n")
        self.assertTrue(f.readline().startswith(b"+OK Logged in"))
        self.assertTrue(f.readline().startswith(b"+OK 1 "))
        self.assertTrue(f.readline().startswith(b"+OK Bye"))
        s.close()

    def test_auth_login_two_challenges_and_abort(self):
        s, f = self.app.connect()
        self.assertEqual(command(s, f, "AUTH LOGIN")[0], b"+ VXNlcm5hbWU6\r\n")
        self.assertEqual(command(s, f, base64.b64encode(b"demo") + b"\r\n")[0], b"+ UGFzc3dvcmQ6\r\n")
        self.assertEqual(command(s, f, b"*\r\n")[0], b"-ERR Authentication aborted\r\n")
        # an over-long response aborts too, and the session goes on
        self.assertEqual(command(s, f, "AUTH PLAIN")[0], b"+ \r\n")
        self.assertEqual(command(s, f, b"A" * 70000 + b"\r\n")[0], b"-ERR Authentication aborted\r\n")
        self.assertTrue(command(s, f, "CAPA")[0].startswith(b"+OK"))
        s.close()

    def test_failure_delay_keeps_pipelined_order(self):
        s, f = self.app.connect()
        start = time.monotonic()
        s.sendall(b"USER demo\r\nPASS wrong\r\nUSER demo\r\nPASS demo\r\nSTAT\r\nQUIT\r\n")
        self.assertEqual(read_lines(f, 3)[1:], [b"-ERR [AUTH] Authentication failed\r\n", b"+OK\r\n"])
        self.assertGreater(time.monotonic() - start, 0.25)  # authd held the failure
        self.assertTrue(f.readline().startswith(b"+OK Logged in"))
        self.assertTrue(f.readline().startswith(b"+OK 1 "))
        self.assertTrue(f.readline().startswith(b"+OK Bye"))
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestWorkerLoginDeadline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sport = free_port()
        cls.app = Appliance({"login_timeout": "2",
                             "pop3s_listen": "127.0.0.1:%d" % cls.sport}).start()
        wait_until(lambda: "event=tls_ready" in cls.app.log(), 10, "keyd ready")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def test_worker_says_login_timeout_before_close(self):
        mark = self.app.log_mark()
        s, f = self.app.connect()
        start = time.monotonic()
        s.sendall(b"USER demo\r\n")
        self.assertEqual(f.readline(), b"+OK\r\n")
        self.assertEqual(f.readline(), b"-ERR [SYS/TEMP] login timeout\r\n")
        self.assertEqual(f.readline(), b"")
        self.assertLess(time.monotonic() - start, 2.0)  # ahead of the master's kill
        self.app.wait_log(r"proc=pop3d pid=\d+ \S+ level=info event=disconnect "
                          r"reason=login_timeout ip=127\.0\.0\.1 seconds=2", start=mark)
        s.close()

    def test_login_timeout_inside_tls(self):
        s, f = tls_client(self.sport)
        self.assertTrue(f.readline().startswith(b"+OK"))
        self.assertEqual(f.readline(), b"-ERR [SYS/TEMP] login timeout\r\n")
        s.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestClientNotReading(unittest.TestCase):
    def test_big_retr_never_read_is_cut_at_idle_timeout(self):
        app = Appliance({"pop3_idle_timeout": "2"})
        try:
            line = "x" * 999 + "\n"
            app.deliver("demo", make_message("big", line * 12000))  # 12 MB
            app.start()
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no autotuning
            s.settimeout(10)
            s.connect(("127.0.0.1", app.port))
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            self.assertEqual(command(s, f, "USER demo")[0], b"+OK\r\n")
            self.assertTrue(command(s, f, "PASS demo")[0].startswith(b"+OK Logged in"))
            mark = app.log_mark()
            s.sendall(b"RETR 1\r\n")
            start = time.monotonic()
            m = app.wait_log(r"proc=pop3d .*event=disconnect ip=127\.0\.0\.1 reason=send_timeout "
                             r"queued=\d+ seconds=2", timeout=20, start=mark)
            self.assertIsNotNone(m)
            self.assertLess(time.monotonic() - start, 15)
            # the worker is gone: what was sent ends short of the message
            got = 0
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += len(b)
            self.assertLess(got, 12000 * 1000)
            app.wait_log(r"reason=\"client gone without QUIT\" removed=0", start=mark)
            s.close()
        finally:
            app.cleanup()


if __name__ == "__main__":
    unittest.main()
