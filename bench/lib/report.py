"""Percentiles, number formats, text and markdown tables, machine and
version facts, and the docs/BENCHMARKS.md section writer.

A table row is (metric, [value text per server], [ratio text per other
server], better), the first server (Postern) being the numerator of every
ratio.  With two servers the tables are the ones older sections have.
"""

import math
import os
import platform
import subprocess

from . import ROOT
from .procfs import proc_name


# The head of docs/BENCHMARKS.md above the dated sections (every bench that
# writes a section keeps it).
DOC_HEADER = """# Benchmarks

Postern's POP3 against Dovecot's and Courier's pop3d (Debian packages) on the
same machine in the same run, produced by `make bench` (`bench/pop3.py` on the
shared load generator in `bench/lib/`; sections before 2026-12 have Dovecot
only). Each run adds a dated section at the top; older sections are kept below.
Numbers from different machines or dates are not comparable with each other;
the ratio within one run is the point. `--dovecot-hp` adds Dovecot in its
high-performance login mode as a fourth column. The idle-session load bench,
`bench/pop3_idle_load.py` (run by hand, not by `make bench`), holds N logged-in
POP3 sessions on Postern; see its `--help`. Where one connection's CPU goes
(the profile, per phase) is in the "Where a connection's CPU goes" sections,
made with `bench/profile_conn.py --perf`, `bench/perf_phases.py` and
`build/bench/phases` (run by hand, see their `--help` and comments). The IMAP
sections ("## Run ... — IMAP") come from `make bench-imap` (`bench/imap.py`):
Postern's IMAP against Dovecot's and Courier's imapd, with the issue's targets
beside Postern's numbers; `bench/imap_profile.py` (run by hand, as root, with
perf) samples where Postern's time and memory go on the same folder. The soak
sections ("## Run ... — soak") come from `bench/soak.py` (run by hand, as root):
mixed POP3 and IMAP sessions, plain and TLS, failed logins and sessions the
client kills mid-command for 30 minutes, then the master's, authd's and keyd's
fds, memory and pids against their baseline.

"""


def pct(sorted_vals, q):
    """The q-quantile (nearest rank) of an ascending list; nan if empty."""
    if not sorted_vals:
        return float("nan")
    i = max(0, math.ceil(q * len(sorted_vals)) - 1)
    return sorted_vals[i]


def isnan(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt(v, nd=1):
    if isnan(v):
        return "n/a"
    return f"{v:,.{nd}f}"


def ratio(a, b):
    if not b or isnan(a) or isnan(b):
        return "n/a"
    return f"{a / b:.2f}"


def clients(n):
    return f"{n} client" if n == 1 else f"{n} clients"


def fmt_names(names):
    """{name: count} -> 'a x3, b x1', most first."""
    return ", ".join(f"{n} x{c}" for n, c in sorted(names.items(), key=lambda x: (-x[1], x[0])))


def fmt_detail(det):
    """{process: ms per operation} -> text, largest first."""
    items = sorted(((k, v) for k, v in det.items() if v >= 0.005), key=lambda x: -x[1])
    return ", ".join(f"{k} {v:.2f}" for k, v in items) or "none"


def num_row(metric, vals, nd=2, better=""):
    """A row of numbers: formatted, with ratios first/other."""
    return (metric, [fmt(v, nd) for v in vals], [ratio(vals[0], v) for v in vals[1:]], better)


def text_row(metric, texts, better="", ratios=None):
    """A row of preformatted texts, ratios blank unless given."""
    return (metric, list(texts), ratios or [""] * (len(texts) - 1), better)


def _ratio_names(letters):
    return [f"{letters[0]}/{x}" for x in letters[1:]]


def table_md(rows, names, letters, better=True, target=None):
    """target: the head of one more column (e.g. "target (Postern)"), filled
    from a row's fifth element (rows without one leave it blank)."""
    rn = _ratio_names(letters)
    head = "| metric | " + " | ".join(names) + " | " + " | ".join(f"ratio {r}" for r in rn)
    rule = "|---|" + "---:|" * (len(names) + len(rn))
    if better:
        head += " | better"
        rule += "---|"
    if target:
        head += f" | {target}"
        rule += "---|"
    out = [head + " |", rule]
    for row in rows:
        m, vals, ratios, b = row[:4]
        line = f"| {m} | " + " | ".join(vals) + " | " + " | ".join(ratios)
        line += f" | {b}" if better else ""
        line += f" | {row[4] if len(row) > 4 else ''}" if target else ""
        out.append(line + " |")
    return "\n".join(out)


def table_text(rows, names, letters, target=None):
    w = max(len(r[0]) for r in rows)
    rn = _ratio_names(letters)
    out = [f"{'metric':<{w}}  " + "  ".join(f"{n:>14}" for n in names) + "  "
           + "  ".join(f"{r:>6}" for r in rn) + "  better" + (f"  {target}" if target else "")]
    for row in rows:
        m, vals, ratios, b = row[:4]
        line = (f"{m:<{w}}  " + "  ".join(f"{v:>14}" for v in vals) + "  "
                + "  ".join(f"{r:>6}" for r in ratios) + f"  {b}")
        if target:
            line = f"{line:<{len(out[0]) - len(target)}}{row[4] if len(row) > 4 else ''}"
        out.append(line.rstrip())
    return "\n".join(out)


def count_errors(errors, top=3):
    """'Nx error; ...' for the most frequent distinct errors."""
    errs = {}
    for e in errors:
        errs[e] = errs.get(e, 0) + 1
    return "; ".join(f"{n}x {e}" for e, n in sorted(errs.items(), key=lambda x: -x[1])[:top])


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    return {"cpu": model, "cores": os.cpu_count(),
            "usable": len(os.sched_getaffinity(0)),
            "kernel": platform.release(), "ram": f"{mem / 1024 / 1024:.1f} GiB"}


def git_commit():
    """Short HEAD of this tree, marked if tracked files have changes."""
    def run(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10,
                                  cwd=ROOT).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    commit = run("git", "rev-parse", "--short", "HEAD") or "unknown"
    if run("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return commit


def foreign_procs(words=("postern", "dovecot", "courier")):
    """argv[0] of processes on the machine that look like mail servers (not
    ours: call before starting any)."""
    mine = os.getpid()
    names = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == mine:
            continue
        nm = proc_name(int(pid))
        if any(w in nm for w in words):
            names.append(nm)
    return names


def write_doc(doc, header, section):
    """Put section at the top of doc (below header), keeping every older
    '## Run ' section below it."""
    old_sections = ""
    if doc.exists():
        text = doc.read_text()
        i = text.find("\n## Run ")
        if i >= 0:
            old_sections = text[i + 1:]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(header + section + ("\n" + old_sections if old_sections else ""))
