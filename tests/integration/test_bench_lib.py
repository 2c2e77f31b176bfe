"""bench/lib's pure helpers: percentiles, number formats, tables, rows, the
interleaved round order, the doc section writer, source addresses.  No
servers are started (benches are never timed tests)."""
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


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unittest.main()
