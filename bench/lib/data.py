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



# ----------------------------------------------------------------------------
# A large folder made on disk (IMAP): Maildir files in cur/ with ,S= and ,W=
# in their names, written once and hard-linked into each server's Maildir for
# every repetition (the very same files; a server renames or unlinks its own
# links, never the pristine ones).

def folder_flags(i):
    """Maildir++ flags of message i: a quarter seen, one in 50 flagged too,
    the rest unseen; spread evenly, so any UID range has the same mix
    whatever order a server numbers the files in."""
    if i % 50 == 0:
        return "FS"
    return "S" if i % 4 == 0 else ""


def make_folder(top, n, seed="imapbench", user="bulk", folders=("Copy", "Moved")):
    """A Maildir++ mail root at top: n messages in cur/ (sizes 0.6-8 KiB,
    most 1.5-4 KiB, unique headers, bodies from a pool), and the empty
    folders .Name (cur new tmp maildirfolder).  Files 0600, dirs 0700, owned
    by the mail uid.  Returns the total bytes."""
    import os
    rng = random.Random(seed)
    pool = []
    for k in range(64):
        size = int(min(8192, max(600, rng.lognormvariate(7.9, 0.45))))
        msg = make_message(user, k, size + 400, rng)
        pool.append(msg[msg.index(b"\n\n") + 2:][:size])
    for sub in ("cur", "new", "tmp"):
        os.makedirs(top / sub)
    for f in folders:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(top / f".{f}" / sub)
        (top / f".{f}" / "maildirfolder").write_bytes(b"")
    total = 0
    cur = str(top / "cur")
    for i in range(1, n + 1):
        body = pool[(i * 7919) % len(pool)]
        t = 1700000000 + i * 60
        hdr = (f"Return-Path: <list{i % 97}@example.org>\n"
               f"From: Sender {i % 997} <sender{i % 997}@example.org>\n"
               f"To: {user}@localhost\n"
               f"Subject: Folder message {i} of {n}\n"
               f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(t))}\n"
               f"Message-ID: <folder-{i}@example.org>\n"
               f"MIME-Version: 1.0\n"
               f"Content-Type: text/plain; charset=us-ascii\n\n").encode()
        msg = hdr + body
        w = len(msg) + msg.count(b"\n")
        name = f"{t}.M{i:06d}P7100Q1.bench,S={len(msg)},W={w}:2,{folder_flags(i)}"
        fd = os.open(os.path.join(cur, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, msg)
        os.close(fd)
        total += len(msg)
    chown_tree(top, MAIL_UID, MAIL_GID)
    return total


def link_folder(src, dst):
    """dst (removed first if there) becomes a copy of the Maildir tree src
    with every file hard-linked, directories made afresh (0700, mail uid)."""
    import os
    if dst.exists():
        shutil.rmtree(dst)
    for dirpath, dirs, files in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        d = os.path.normpath(os.path.join(dst, rel))
        os.mkdir(d, 0o700)
        os.chown(d, MAIL_UID, MAIL_GID)
        for fn in files:
            os.link(os.path.join(dirpath, fn), os.path.join(d, fn))
