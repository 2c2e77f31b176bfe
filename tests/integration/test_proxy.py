"""PROXY protocol v1/v2 on listeners: the address a trusted proxy names is
the session's (logs, MAXPERIP, auth throttling); anyone else is refused."""
import re
import socket
import ssl
import struct
import unittest

from harness import Appliance, command, free_port, make_message, wait_until

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, dst="192.0.2.1", sport=40000, dport=110):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def v2(src=None, dst="2001:db8::2", sport=40000, dport=110, local=False):
    if local:
        return V2_SIG + b"\x20\x00\x00\x00"
    af = socket.AF_INET6 if ":" in src else socket.AF_INET
    if af == socket.AF_INET:
        dst = "192.0.2.1"
    body = socket.inet_pton(af, src) + socket.inet_pton(af, dst) + struct.pack(">HH", sport, dport)
    body += b"\x04\x00\x02ok"  # a TLV, skipped
    return V2_SIG + bytes([0x21, 0x21 if af == socket.AF_INET6 else 0x11]) + struct.pack(">H", len(body)) + body


class TestProxyProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sport = free_port()
        cls.app = Appliance({"pop3_proxy_protocol": "yes", "pop3s_proxy_protocol": "yes",
                             "pop3s_listen": "127.0.0.1:%d" % cls.sport,
                             "proxy_trusted": "127.0.0.1, 10.0.0.0/8", "max_per_ip": "2",
                             "auth_fail_ip_max": "3", "tls_plaintext_loopback": "no",
                             "pop3_tls_required": "no"})
        cls.app.deliver("demo", make_message("via proxy", "hello\n"))
        cls.app.start(greeting_probe=v1("192.0.2.99"))

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def conn(self, header, source=None):
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10,
                                     source_address=(source, 0) if source else None)
        s.sendall(header)
        return s, s.makefile("rb")

    def test_v1_address_used_for_session_and_login(self):
        mark = self.app.log_mark()
        s, f = self.conn(v1("203.0.113.7"))
        self.assertTrue(f.readline().startswith(b"+OK"))
        command(s, f, "USER demo")
        self.assertTrue(command(s, f, "PASS demo")[0].startswith(b"+OK"))
        f.close()
        s.close()
        self.app.wait_log(r"event=proxy ip=203\.0\.113\.7 proxy=127\.0\.0\.1", start=mark)
        self.app.wait_log(r"event=login service=pop3 ip=203\.0\.113\.7 user=demo@localhost", start=mark)

    def test_v2_ipv6_with_tlv_and_local(self):
        mark = self.app.log_mark()
        s, f = self.conn(v2("2001:db8::7"))
        self.assertTrue(f.readline().startswith(b"+OK"))
        f.close()
        s.close()
        self.app.wait_log(r"event=proxy ip=2001:db8::7 proxy=127\.0\.0\.1", start=mark)
        s, f = self.conn(v2(local=True))  # a health check: keeps the proxy's own address
        self.assertTrue(f.readline().startswith(b"+OK"))
        f.close()
        s.close()
        self.app.wait_log(r"event=proxy ip=127\.0\.0\.1 proxy=127\.0\.0\.1 header=local", start=mark)

    def test_max_per_ip_counts_the_named_client(self):
        held = []
        for _ in range(2):
            s, f = self.conn(v1("198.51.100.5"))
            self.assertTrue(f.readline().startswith(b"+OK"))
            held.append((s, f))
        s, f = self.conn(v1("198.51.100.5"))
        self.assertEqual(f.readline(),
                         b"-ERR [SYS/TEMP] too many connections from your address, try again later\r\n")
        f.close()
        s.close()
        s, f = self.conn(v1("198.51.100.6"))  # another client through the same proxy: fine
        self.assertTrue(f.readline().startswith(b"+OK"))
        held.append((s, f))
        self.app.wait_log(r"event=refused reason=max_per_ip ip=198\.51\.100\.5 limit=2 via=proxy")
        for hs, hf in held:
            hf.close()
            hs.close()

    def test_throttle_is_per_named_client(self):
        for _ in range(4):
            mark = self.app.log_mark()
            s, f = self.conn(v1("192.0.2.66"))
            f.readline()
            command(s, f, "USER demo")
            command(s, f, "PASS wrong")
            f.close()
            s.close()
            # max_per_ip is 2: let the master reap this session before the next
            sid = self.app.wait_log(r"sid=(\w+) level=info event=proxy ip=192\.0\.2\.66", start=mark).group(1)
            self.app.wait_log(r"sid=%s level=info event=disconnect" % sid, start=mark)
        s, f = self.conn(v1("192.0.2.66"))
        f.readline()
        command(s, f, "USER demo")
        self.assertIn(b"too many failures", command(s, f, "PASS demo")[0])
        f.close()
        s.close()
        s, f = self.conn(v1("192.0.2.67"))  # same proxy, other client: not throttled
        f.readline()
        command(s, f, "USER demo")
        self.assertTrue(command(s, f, "PASS demo")[0].startswith(b"+OK"))
        f.close()
        s.close()

    def test_untrusted_peer_and_malformed_header_close(self):
        mark = self.app.log_mark()
        s = socket.create_connection(("127.0.0.1", self.app.port), timeout=10, source_address=("127.0.0.2", 0))
        s.sendall(v1("203.0.113.9"))
        try:
            got = s.recv(100)
        except ConnectionResetError:  # closed with our header unread
            got = b""
        self.assertEqual(got, b"")
        s.close()
        self.app.wait_log(r"event=refused reason=proxy_untrusted ip=127\.0\.0\.2", start=mark)
        for bad in (b"PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n", b"USER demo\r\n", V2_SIG + b"\x31\x11\x00\x00",
                    b"PROXY TCP4 " + b"1" * 200 + b"\r\n"):
            s, f = self.conn(bad)
            try:
                got = f.readline()
            except ConnectionResetError:  # closed with bytes unread
                got = b""
            self.assertEqual(got, b"", bad)
            f.close()
            s.close()
        self.app.wait_log(r'event=proxy_failed peer=127\.0\.0\.1 reason="malformed PROXY header"', start=mark)

    def test_header_before_implicit_tls(self):
        raw = socket.create_connection(("127.0.0.1", self.sport), timeout=10)
        raw.sendall(v2("203.0.113.44", dport=995))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(raw, server_hostname="mail.example.org")
        self.assertTrue(s.recv(100).startswith(b"+OK"))
        s.close()
        self.app.wait_log(r"event=proxy ip=203\.0\.113\.44")

    def test_no_tls_resumption_behind_proxy(self):
        """keyd learns the client's address only at spawn time, before the
        PROXY header: its session cache is off for these sessions, so a
        client behind the proxy gets a full handshake every time."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        session = None
        mark = self.app.log_mark()
        for _ in range(2):
            raw = socket.create_connection(("127.0.0.1", self.sport), timeout=10)
            raw.sendall(v1("203.0.113.45", dport=995))
            s = ctx.wrap_socket(raw, server_hostname="mail.example.org", session=session)
            self.assertTrue(s.recv(100).startswith(b"+OK"))
            self.assertFalse(s.session_reused)
            session = s.session
            self.assertIsNotNone(session.id)
            s.close()
        wait_until(lambda: len(re.findall(r"event=tls version=TLS1\.2 .*resumed=no",
                                          self.app.log()[mark:])) == 2, 10, "two full handshakes")
        self.assertNotIn("resumed=yes", self.app.log()[mark:])


if __name__ == "__main__":
    unittest.main()
