"""Postern's load-generator library, shared by the protocol benches in bench/.

Modules:
  procfs   CPU and memory of process trees from /proc (stat, smaps_rollup)
  servers  private server instances: Postern, Dovecot, Courier (start/stop,
           users, Maildirs, logs)
  data     users and the same Maildir message files for every server
  client   asyncio line-protocol helpers (TCP_QUICKACK, source addresses)
  pop3c    the POP3 dialogue on top of client
  tlsbench certificates, client contexts, threaded handshake runner
  measure  load phases with CPU accounting, interleaved rounds, idle memory
  report   percentiles, number formats, text/markdown tables, machine info,
           "wait for a quiet machine", the docs/BENCHMARKS.md section writer

A scenario file (bench/pop3.py, bench/pop3_idle_load.py, later IMAP and LMTP)
picks servers, sets up data and runs phases; nothing here knows a scenario.
"""

import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A bench cannot go on: the message says why and what to look at."""


def log(msg):
    print(msg, flush=True)


def run_main(main, prog):
    """The entry point of a scenario file: SIGTERM ends it like ^C (so the
    servers are stopped), a BenchError is one line on stderr and status 1."""
    def _sigterm(signum, frame):
        raise SystemExit(f"killed by signal {signum}")
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
