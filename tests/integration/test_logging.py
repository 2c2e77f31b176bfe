"""log_level, log_output and the syslog socket, on a live appliance: the
master drops what is below the level (its own lines and its children's),
and sends every line to a syslog datagram socket as facility mail with
the line's severity, without ever waiting for it."""
import os
import poplib
import re
import socket
import subprocess
import threading
import unittest

from harness import BIN, Appliance, wait_until


def fail_login(app):
    p = poplib.POP3("127.0.0.1", app.port, timeout=10)
    p.user("demo")
    try:
        p.pass_("wrong")
    except poplib.error_proto:
        pass
    p.quit()


def good_login(app, user="demo"):
    p = poplib.POP3("127.0.0.1", app.port, timeout=10)
    p.user(user)
    p.pass_(user)
    p.stat()
    p.quit()


class SyslogSink:
    """A datagram socket standing in for /dev/log.  A unix datagram queue
    holds only net.unix.max_dgram_qlen (10) datagrams: a syslog daemon reads
    all the time, so with reader=True a thread does too (the master drops
    what does not fit rather than wait)."""

    def __init__(self, path, reader=True):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.lines = []
        self.lock = threading.Lock()
        self.thread = None
        if reader:
            self.sock.settimeout(0.1)
            self.stop = threading.Event()
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.sock.setblocking(False)

    def _read(self):
        while not self.stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace"))

    def drain(self):
        if self.thread is None:
            try:
                while True:
                    self.lines.append(self.sock.recv(4096).decode("utf-8", "replace"))
            except BlockingIOError:
                pass
        with self.lock:
            return list(self.lines)

    def wait(self, pattern, timeout=10):
        rx = re.compile(pattern)
        return wait_until(lambda: next((l for l in self.drain() if rx.search(l)), None),
                          timeout, "syslog line /%s/" % pattern)

    def close(self):
        if self.thread is not None:
            self.stop.set()
            self.thread.join()
        self.sock.close()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestLogLevel(unittest.TestCase):
    def test_warn_drops_info_lines_of_every_process(self):
        app = Appliance({"log_level": "warn"}).start()
        try:
            good_login(app)
            fail_login(app)
            wait_until(lambda: "event=auth_failed" in app.log(), 10, "auth_failed")
            log = app.log()
            self.assertNotIn("level=info", log)
            self.assertIn("proc=authd", log)  # a child's warn line passed through
        finally:
            app.cleanup()

    def test_debug_shows_the_debug_lines(self):
        app = Appliance({"log_level": "debug"}).start()
        try:
            good_login(app)
            app.wait_log(r"proc=stored pid=\d+ sid=\w+ level=debug event=ready")
        finally:
            app.cleanup()

    def test_bad_values_name_the_key(self):
        for key, value, want in (("log_level", "loud", "log_level 'loud': use debug, info, "
                                  "warn or error"),
                                 ("log_output", "file", "log_output 'file': use stderr, "
                                  "syslog or both")):
            app = Appliance({key: value}, seed=False)
            try:
                r = app.ctl("config", "check", check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn(want, r.stderr)
            finally:
                app.cleanup()

    def test_reload_changes_the_level(self):
        app = Appliance().start()
        try:
            good_login(app)
            self.assertIn("level=info event=login", app.log())
            app.settings["log_level"] = "error"
            app.write_conf()
            mark = app.log_mark()
            app.ctl("reload")
            good_login(app)
            fail_login(app)
            app.settings["log_level"] = "info"
            app.write_conf()
            app.ctl("reload")
            app.wait_log(r"event=reloaded", start=mark)
            between = app.log()[mark:].split("event=reloaded")[0]
            self.assertNotIn("event=login", between)
            self.assertNotIn("event=auth_failed", between)
        finally:
            app.cleanup()


@unittest.skipUnless(os.geteuid() == 0, "privilege separation needs root")
class TestSyslog(unittest.TestCase):
    def test_both_sends_each_line_with_its_severity(self):
        app = Appliance({"log_output": "both"})
        sink = SyslogSink(os.path.join(app.dir, "log.sock"))
        app.settings["log_syslog_socket"] = sink.path
        app.write_conf()
        try:
            app.start()
            fail_login(app)
            ready = sink.wait(r"proc=master pid=\d+ level=info event=ready")
            # facility mail (2): info 2*8+6, warn 2*8+4
            self.assertRegex(ready, r"^<22>postern\[%d\]: ts=\S+ proc=master " % app.proc.pid)
            failed = sink.wait(r"proc=authd .*event=auth_failed")
            self.assertTrue(failed.startswith("<20>postern["), failed)
            self.assertNotIn("\n", failed)
            self.assertIn("event=auth_failed", app.log())  # stderr too
        finally:
            app.cleanup()
            sink.close()

    def test_syslog_only_and_a_sink_that_never_reads(self):
        """The master never waits for syslog: with the sink's queue full it
        goes on serving (the lines that do not fit are lost)."""
        app = Appliance({"log_output": "syslog"})
        sink = SyslogSink(os.path.join(app.dir, "log.sock"), reader=False)
        app.settings["log_syslog_socket"] = sink.path
        app.write_conf()
        logf = open(os.path.join(app.dir, "stderr"), "wb")
        proc = subprocess.Popen([os.path.join(BIN, "postern-master"), "-c", app.conf],
                                stdout=subprocess.DEVNULL, stderr=logf)
        try:
            # never drained until the end: the queue is full from the start
            wait_until(lambda: os.path.exists(os.path.join(app.dir, "state", "control")), 10,
                       "the control socket")
            wait_until(lambda: app.ctl("health", check=False).returncode == 0, 10, "health")
            for i in range(30):
                if i % 10 == 0:
                    fail_login(app)
                good_login(app, "demo2")
            self.assertIsNone(proc.poll())
            with open(os.path.join(app.dir, "stderr"), "rb") as f:
                self.assertEqual(f.read(), b"")  # nothing on stderr
            lines = sink.drain()
            # about max_dgram_qlen (10) of the hundreds of lines: the rest were dropped
            self.assertTrue(0 < len(lines) <= 20, len(lines))
            self.assertTrue(lines[0].startswith("<22>postern["), lines[0])
            good_login(app, "demo2")  # the queue has room again: lines flow
            wait_until(lambda: any("event=login" in l for l in sink.drain()), 10, "a login line")
        finally:
            proc.terminate()
            proc.wait(10)
            logf.close()
            app.cleanup()
            sink.close()

    def test_unreachable_socket_keeps_stderr(self):
        app = Appliance({"log_output": "syslog"})
        app.settings["log_syslog_socket"] = os.path.join(app.dir, "missing.sock")
        app.write_conf()
        try:
            app.start()
            self.assertRegex(app.log(), r"event=syslog_unavailable path=\S+missing\.sock "
                             r"errno=2 reason=\"logging to stderr instead\"")
            good_login(app)
            app.wait_log(r"event=login")
        finally:
            app.cleanup()


if __name__ == "__main__":
    unittest.main()
