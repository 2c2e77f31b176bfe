"""Test data: users and the very same Maildir message files for every server.

Mail is delivered once with `posternctl deliver`, then the files are copied
into each other server's Maildirs before any server has seen them.
"""

import random
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

from . import BenchError, log
from .servers import MAIL_GID, MAIL_UID, chown_tree, sha512_crypt

WORDS = ("the of and to in is that for it as was with be by on not he this are or "
         "his from at which but have an they you were her she there been one all "
         "we their has would when if so no will can more out up into do any your "
         "what some time about than them only other new could these may first "
         "mail server message maildir process session privilege separation queue").split()


def make_message(user, idx, size, rng):
    """An RFC 5322 message of exactly size bytes, LF line ends; one body line
    in 40 starts with a dot (dot-stuffing on every server)."""
    hdr = (f"Return-Path: <sender{idx}@example.org>\n"
           f"From: Sender {idx} <sender{idx}@example.org>\n"
           f"To: {user}@localhost\n"
           f"Subject: Benchmark message {idx} ({size} bytes)\n"
           f"Date: Mon, 02 Jan 2023 10:{idx % 60:02d}:00 +0000\n"
           f"Message-ID: <bench-{user}-{idx}@example.org>\n"
           f"MIME-Version: 1.0\n"
           f"Content-Type: text/plain; charset=us-ascii\n\n")
    out = [hdr]
    n = len(hdr)
    line_no = 0
    while n < size:
        line_no += 1
        words = []
        ln = 0
        while ln < 66:
            w = rng.choice(WORDS)
            words.append(w)
            ln += len(w) + 1
        line = " ".join(words)
        if line_no % 40 == 0:
            line = "." + line
        line += "\n"
        if n + len(line) > size:
            line = line[: size - n - 1] + "\n"
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def message_sizes(small, small_size, large, large_size):
    """The per-mailbox size list: large messages in the middle, not at the end."""
    sizes = [small_size] * small + [large_size] * large
    if large:
        sizes.insert(small // 2, sizes.pop())
    if large > 1:
        sizes.insert(small // 4, sizes.pop())
    return sizes


def setup_users(nusers, postern, others, sizes, seed="pop3bench"):
    """user1..userN with password passI: added to Postern (SHA512-CRYPT) with
    the messages of sizes delivered, then every other server gets the same
    users (the same $6$ hash strings) and a copy of the same files.
    Returns [(user, password)]."""
    users = [(f"user{i}", f"pass{i}") for i in range(1, nusers + 1)]
    postern.setup()

    def add_and_deliver(u):
        user, pw = u
        postern.add_user(user, pw)
        rng = random.Random(f"{seed}-{user}")
        for i, sz in enumerate(sizes, 1):
            postern.deliver(user, make_message(user, i, sz, rng))

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as ex:
        list(ex.map(add_and_deliver, users))
    log(f"setup: Postern users and mail in {time.monotonic() - t0:.1f}s")
    if not others:
        return users
    with ThreadPoolExecutor(max_workers=2) as ex:
        hashes = dict(zip((u for u, _ in users), ex.map(sha512_crypt, (p for _, p in users))))
    for s in others:
        s.setup(users, hashes)
        for user, _ in users:
            src, dst = postern.maildir(user), s.maildir(user)
            for sub in ("cur", "new", "tmp"):
                shutil.copytree(src / sub, dst / sub)
            chown_tree(dst.parent if dst.name == "Maildir" else dst, MAIL_UID, MAIL_GID)
    n = sum(1 for _ in (postern.maildir("user1") / "new").iterdir())
    if n != len(sizes):
        raise BenchError(f"user1 has {n} messages in new/, expected {len(sizes)}")
    return users

