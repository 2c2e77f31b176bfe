"""bench/lib's pure helpers: percentiles, number formats, tables, rows, the
interleaved round order, the doc section writer, source addresses, the IMAP
client (against a scripted in-process server), the IMAP bench's folder
files, --quick settings, rows and targets.  No mail servers are started
(benches are never timed tests)."""
import os
import sys
import tempfile
import unittest
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from lib import measure, report                       # noqa: E402
from lib.data import make_message, message_sizes      # noqa: E402


class _S:
    def __init__(self, name):
        self.name = name


class TestReport(unittest.TestCase):
    def test_pct_nearest_rank(self):
        vals = list(range(1, 101))
        self.assertEqual(report.pct(vals, 0.5), 50)
        self.assertEqual(report.pct(vals, 0.99), 99)
        self.assertEqual(report.pct(vals, 1.0), 100)
        self.assertEqual(report.pct([7], 0.99), 7)
        self.assertTrue(report.isnan(report.pct([], 0.5)))

    def test_fmt_and_ratio(self):
        self.assertEqual(report.fmt(1234.567, 1), "1,234.6")
        self.assertEqual(report.fmt(float("nan")), "n/a")
        self.assertEqual(report.ratio(1.0, 4.0), "0.25")
        self.assertEqual(report.ratio(1.0, 0), "n/a")
        self.assertEqual(report.clients(1), "1 client")
        self.assertEqual(report.clients(8), "8 clients")

    def test_two_server_table_keeps_the_old_layout(self):
        rows = [report.num_row("a) sessions/s, 8 clients", [197.0, 77.3], 1, "higher"),
                report.text_row("a) failed sessions, 8 clients", ["0", "0"], "lower")]
        md = report.table_md(rows, ["Postern", "Dovecot"], ["P", "D"]).splitlines()
        self.assertEqual(md[0], "| metric | Postern | Dovecot | ratio P/D | better |")
        self.assertEqual(md[1], "|---|---:|---:|---:|---|")
        self.assertEqual(md[2], "| a) sessions/s, 8 clients | 197.0 | 77.3 | 2.55 | higher |")
        self.assertEqual(md[3], "| a) failed sessions, 8 clients | 0 | 0 |  | lower |")
        tls = report.table_md([report.num_row("x (ms)", [1.0, 2.0])], ["Postern", "Dovecot"],
                              ["P", "D"], better=False).splitlines()
        self.assertEqual(tls[0], "| metric | Postern | Dovecot | ratio P/D |")
        self.assertEqual(tls[2], "| x (ms) | 1.00 | 2.00 | 0.50 |")

    def test_three_server_table(self):
        rows = [report.num_row("m", [2.0, 4.0, 1.0], 1, "lower")]
        md = report.table_md(rows, ["Postern", "Dovecot", "Courier"], ["P", "D", "C"])
        self.assertIn("| metric | Postern | Dovecot | Courier | ratio P/D | ratio P/C | better |",
                      md)
        self.assertIn("| m | 2.0 | 4.0 | 1.0 | 0.50 | 2.00 | lower |", md)
        txt = report.table_text(rows, ["Postern", "Dovecot", "Courier"], ["P", "D", "C"])
        self.assertIn("P/C", txt.splitlines()[0])

    def test_count_errors(self):
        self.assertEqual(report.count_errors(["a", "b", "a"]), "2x a; 1x b")

    def test_write_doc_keeps_old_sections(self):
        with tempfile.TemporaryDirectory() as d:
            doc = Path(d) / "B.md"
            doc.write_text("# old header\n\n## Run 1\n\nold one\n")
            report.write_doc(doc, "# Header\n\n", "## Run 2\n\nnew\n")
            text = doc.read_text()
            self.assertTrue(text.startswith("# Header\n\n## Run 2\n"))
            self.assertIn("## Run 1\n\nold one\n", text)
            self.assertNotIn("old header", text)


class TestMeasure(unittest.TestCase):
    def test_alternate_interleaves(self):
        order = []
        servers = [_S("P"), _S("D"), _S("C")]
        res = measure.alternate(servers, 3, lambda s: order.append(s.name) or s.name)
        self.assertEqual("".join(order), "PDCCDPPDC")
        self.assertEqual(res["D"], ["D", "D", "D"])

    def test_merge(self):
        r = {"lats": [0.002, 0.001], "slow": [0.0, 0.0], "errors": ["x"], "wall": 1.0,
             "bytes": 10, "client_cpu": 0.5, "server_cpu": 0.004, "other_cpu": 0.0,
             "machine_cpu": 2.0, "machine_busy": 1.0}
        m = measure.merge([r, dict(r)])
        self.assertEqual(m["ok"], 4)
        self.assertEqual(m["rate"], 2.0)
        self.assertAlmostEqual(m["p50"], 1.0)
        self.assertAlmostEqual(m["cpu_per"], 2.0)
        self.assertEqual(len(m["errors"]), 2)
        self.assertEqual(m["rates"], [2.0, 2.0])

    def test_user_for_never_shares_a_mailbox(self):
        users = [(f"u{i}", "p") for i in range(128)]
        for conc in (1, 8, 32):
            for k in range(10):
                now = {measure.user_for(w, k, conc, users) for w in range(conc)}
                self.assertEqual(len(now), conc)


class TestData(unittest.TestCase):
    def test_message_exact_size_and_dots(self):
        import random
        m = make_message("user1", 3, 4096, random.Random(1))
        self.assertEqual(len(m), 4096)
        self.assertIn(b"\n.", m)
        self.assertEqual(message_sizes(20, 4, 2, 100).count(100), 2)


class TestIdleLoad(unittest.TestCase):
    def test_source_addresses(self):
        sys.path.insert(0, str(BENCH))
        import pop3_idle_load as il
        self.assertEqual(il.source_addr(0, 100), "127.0.0.2")
        self.assertEqual(il.source_addr(99, 100), "127.0.0.2")
        self.assertEqual(il.source_addr(100, 100), "127.0.0.3")
        self.assertEqual(il.source_addr(254 * 100, 100), "127.0.1.0")


class _FakeImap:
    """A scripted IMAP server on a loopback port: answers each tagged line
    with the canned untagged lines (bytes, may hold literals) for its verb."""

    def __init__(self, replies):
        self.replies = replies
        self.seen = []

    async def handle(self, reader, writer):
        writer.write(b"* OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS] fake ready\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            tag, rest = line.rstrip(b"\r\n").split(b" ", 1)
            self.seen.append(rest)
            verb = rest.split(b" ")[0].upper()
            if verb == b"UID":
                verb = rest.split(b" ")[1].upper()
            if rest.endswith(b"}"):
                n = int(rest[rest.rindex(b"{") + 1:-1])
                writer.write(b"+ go ahead\r\n")
                await reader.readexactly(n + 2)
            body, status = self.replies.get(verb, (b"", b"OK done"))
            writer.write(body + tag + b" " + status + b"\r\n")
            await writer.drain()
            if verb == b"LOGOUT":
                break
        writer.close()


class TestImapClient(unittest.TestCase):
    def run_against(self, replies, dialogue):
        import asyncio
        from lib import imapc
        fake = _FakeImap(replies)

        async def main():
            srv = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
            port = srv.sockets[0].getsockname()[1]
            try:
                s = await imapc.login(port, "user1", 'pa"ss')
                return await dialogue(s)
            finally:
                srv.close()
                await srv.wait_closed()
        return fake, asyncio.run(asyncio.wait_for(main(), 15))

    def test_cmd_literals_bulk_and_failures(self):
        from lib import client
        n = 5000
        fetch = b"".join(b"* %d FETCH (UID %d FLAGS (\\Seen))\r\n" % (i, i)
                         for i in range(1, n + 1))
        replies = {
            b"SELECT": (b"* 3 EXISTS\r\n* OK [UIDNEXT 4] next\r\n", b"OK [READ-WRITE] done"),
            b"FETCH": (fetch, b"OK fetched"),
            b"EXPUNGE": (b"* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n* 2 EXISTS\r\n", b"OK gone"),
            b"STATUS": (b'* STATUS "INBOX.x" (MESSAGES 7)\r\n', b"OK"),
            b"NOOP": (b"* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n", b"OK"),
            b"COPY": (b"", b"NO [TRYCREATE] no such folder"),
        }

        async def dialogue(s):
            out = {"caps": set(s.caps)}
            r, out["exists"] = await s.select()
            out["fetch"] = await s.bulk(b"UID FETCH 1:* (UID FLAGS)", token=b" FETCH (")
            out["expunge"] = await s.bulk(b"EXPUNGE", token=b" EXPUNGE\r\n")
            out["lit"] = await s.cmd(b"NOOP")
            out["append"] = await s.cmd(b"APPEND INBOX {3}", literal=b"abc")
            try:
                await s.bulk(b"UID COPY 1:2 INBOX.x")
                out["copy"] = None
            except client.ProtoError as e:
                out["copy"] = str(e)
            out["status"] = await s.cmd(b'STATUS "INBOX.x" (MESSAGES)')
            await s.logout()
            return out

        fake, out = self.run_against(replies, dialogue)
        self.assertEqual(fake.seen[0], b'LOGIN "user1" "pa\\"ss"')
        self.assertIn("MOVE", out["caps"])
        self.assertEqual(out["exists"], 3)
        self.assertEqual(out["fetch"].count, n)
        self.assertEqual(out["fetch"].nbytes, len(fetch) + len(b"A3 OK fetched\r\n"))
        self.assertEqual(out["expunge"].count, 2)
        self.assertEqual(out["lit"].untagged, [b"* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n"])
        self.assertTrue(out["append"].tagged.startswith(b"A6 OK"))
        self.assertIn("UID COPY: A7 NO [TRYCREATE]", out["copy"])
        self.assertEqual(fake.seen[-1], b"LOGOUT")


class TestImapBench(unittest.TestCase):
    def test_folder_files_and_links(self):
        import re
        from lib.data import folder_flags, link_folder, make_folder
        if os.geteuid() != 0:
            self.skipTest("the folder is chowned to the mail uid: root only")
        with tempfile.TemporaryDirectory() as d:
            src, dst = Path(d) / "src", Path(d) / "dst"
            total = make_folder(src, 200)
            names = sorted(os.listdir(src / "cur"))
            self.assertEqual(len(names), 200)
            self.assertEqual(sum(os.path.getsize(src / "cur" / x) for x in names), total)
            for i, nm in enumerate(names, 1):
                m = re.fullmatch(r"\d+\.M(\d+)P7100Q1\.bench,S=(\d+),W=(\d+):2,([A-Z]*)", nm)
                self.assertIsNotNone(m, nm)
                data = (src / "cur" / nm).read_bytes()
                self.assertEqual(int(m.group(2)), len(data))
                self.assertEqual(int(m.group(3)), len(data) + data.count(b"\n"))
                self.assertEqual(m.group(4), folder_flags(int(m.group(1))))
                self.assertTrue(600 <= len(data) <= 8192 + 400, len(data))
            self.assertTrue((src / ".Copy" / "maildirfolder").exists())
            link_folder(src, dst)
            (dst / "cur" / names[0]).unlink()
            link_folder(src, dst)       # again over the changed copy
            self.assertEqual(sorted(os.listdir(dst / "cur")), names)
            st = os.stat(dst / "cur" / names[1])
            self.assertEqual(st.st_ino, os.stat(src / "cur" / names[1]).st_ino)
            self.assertEqual(st.st_nlink, 2)

    def test_quick_args_rows_and_targets(self):
        import imap
        argv = sys.argv
        sys.argv = ["imap.py", "--quick"]
        try:
            a = imap.parse_args()
        finally:
            sys.argv = argv
        self.assertEqual((a.messages, a.batch, a.reps, a.rounds), (2000, 200, 1, 1))
        quick = a
        sys.argv = ["imap.py"]
        try:
            a = imap.parse_args()
        finally:
            sys.argv = argv
        self.assertEqual((a.messages, a.batch, a.reps, a.idle), (100000, 10000, 3, 50))
        self.assertEqual(a.courier_env, [])
        servers = [_S("Postern"), _S("Dovecot"), _S("Courier")]
        for s, ltr in zip(servers, "PDC"):
            s.letter = ltr
        ms = {k: 10.0 for k in imap.STEPS}
        ms["select_cold"] = 500.0
        folder = {s.name: {"ms": dict(ms), "errors": {}} for s in servers}
        folder["Postern"]["errors"]["move"] = "UID MOVE: A9 BAD unknown"
        sess = {8: {s.name: {"rate": r, "p50": 1.0, "p99": 2.0, "cpu_per": 3.0, "errors": []}
                    for s, r in zip(servers, (90.0, 50.0, 40.0))}}
        R = {"folder": folder, "sessions": sess}
        rows = imap.build_rows(R, servers, a)
        by = {r[0]: r for r in rows}
        qrows = {r[0]: r for r in imap.build_rows(R, servers, quick)}
        self.assertIn("not checked", qrows["1) EXPUNGE of 200 (ms)"][4])
        cold = by["1) first SELECT of 100,000 messages, no index (ms)"]
        self.assertEqual(cold[1], ["500.0", "500.0", "500.0"])
        self.assertEqual(cold[4], "≤ 300 ms: **missed**")
        self.assertEqual(by["1) UID FETCH 1:* (UID FLAGS) of 100,000 (ms)"][4], "≤ 40 ms: met")
        self.assertEqual(by["1) failed commands"][1], ["1", "0", "0"])
        self.assertIn("**missed** (1.80x)", by["2) sessions/s, 8 clients"][4])
        md = report.table_md(rows, ["Postern", "Dovecot", "Courier"], list("PDC"),
                             target="target (Postern)").splitlines()
        self.assertTrue(md[0].endswith("| better | target (Postern) |"))
        self.assertEqual(md[1].count("|"), md[2].count("|"))
        txt = report.table_text(rows, ["Postern", "Dovecot", "Courier"], list("PDC"),
                                target="target (Postern)")
        self.assertIn("≤ 300 ms: **missed**", txt)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unittest.main()
