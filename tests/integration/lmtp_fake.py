"""postern-lmtpd alone, in its real sandbox, behind a fake master and fake
stored written from common/ipc/masterproto.h and storeproto.h.

The worker's side of the intake protocol is tested here without the
master: which recipients it asks about and in which order, that it resets
the master's list when a transaction ends, that it hands each stored a
sealed memfd of the decoded message, and that each recipient's reply
follows that recipient's stored answer.  test_lmtp.py runs the same
worker behind the real master and stored.
"""
import fcntl
import os
import socket
import struct
import subprocess
import tempfile
import threading

from harness import BIN

HDR = struct.Struct(">BBHI")
MSG_WORKER_STORE_FAIL = 0x0502
MSG_WORKER_RCPT = 0x0507
MSG_WORKER_DELIVER = 0x0506
MSG_MASTER_RCPT = 0x0204
MSG_MASTER_DELIVER = 0x0205
MSG_MASTER_RESET = 0x0206
MSG_STORE_DELIVER = 0x0621
MSG_STORE_ERR = 0x0702
MSG_STORE_DELIVERED = 0x0706
STORE_ERR_IO = 4
STORE_ERR_TOOBIG = 6
SEALS = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL


def send(sock, mtype, payload=b"", fd=None):
    data = HDR.pack(1, 0 if fd is None else 1, mtype, len(payload)) + payload
    if fd is None:
        sock.send(data)
    else:
        socket.send_fds(sock, [data], [fd])


def recv(sock):
    data, fds, _, _ = socket.recv_fds(sock, 70000, 2)
    if not data:
        return None, b"", None
    _, _, mtype, plen = HDR.unpack_from(data)
    assert plen == len(data) - HDR.size
    return mtype, data[HDR.size:], (fds[0] if fds else None)


def put_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


class FakeMaster:
    """One worker's control channel.  users: address -> status (0 = found,
    then an index is assigned); store: index -> "ok" | "toobig" | "io" |
    "nostore" (how its stored answers)."""

    def __init__(self, ctrl, users, store):
        self.ctrl, self.users, self.store = ctrl, users, store
        self.events = []        # ("rcpt", address) / ("deliver", index) / ("reset",)
        self.delivered = {}     # index -> list of message bytes
        self.seals = []
        self.names = {}         # index -> address
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                mtype, payload, fd = recv(self.ctrl)
            except OSError:
                return
            if mtype is None:
                return
            if mtype == MSG_MASTER_RCPT:
                self.on_rcpt(payload)
            elif mtype == MSG_MASTER_DELIVER:
                self.on_deliver(struct.unpack(">I", payload)[0])
            elif mtype == MSG_MASTER_RESET:
                self.events.append(("reset",))
                self.names = {}
            else:
                self.events.append(("unexpected", mtype))

    def on_rcpt(self, payload):
        rid, alen = struct.unpack_from(">II", payload)
        addr = payload[8:8 + alen].decode()
        self.events.append(("rcpt", addr))
        status = self.users.get(addr.lower(), 1)
        if status == 0:  # found: one user, one index (masterproto.h)
            index = len(self.names)
            self.names[index] = addr
            send(self.ctrl, MSG_WORKER_RCPT, struct.pack(">IIII", rid, status, 1, index))
        else:
            send(self.ctrl, MSG_WORKER_RCPT, struct.pack(">III", rid, status, 0))

    def on_deliver(self, index):
        self.events.append(("deliver", index))
        how = self.store.get(self.names.get(index, "").lower(), "ok")
        if how == "nostore":
            send(self.ctrl, MSG_WORKER_STORE_FAIL, put_str("no stored for you"))
            return
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        send(self.ctrl, MSG_WORKER_DELIVER, b"", a.fileno())
        a.close()
        threading.Thread(target=self.stored, args=(b, index, how), daemon=True).start()

    def stored(self, sock, index, how):
        mtype, payload, fd = recv(sock)
        if mtype == MSG_STORE_DELIVER and fd is not None:
            length = struct.unpack(">Q", payload[:8])[0]  # then the sender (Return-Path)
            self.seals.append(fcntl.fcntl(fd, fcntl.F_GET_SEALS))
            data = os.pread(fd, length + 1, 0)
            os.close(fd)
            if how == "ok":
                self.delivered.setdefault(self.names.get(index, index), []).append(data)
                send(sock, MSG_STORE_DELIVERED, put_str("1.M1P1Q1.host,S=%d,W=%d" % (length, length)))
            else:
                code = STORE_ERR_TOOBIG if how == "toobig" else STORE_ERR_IO
                send(sock, MSG_STORE_ERR, struct.pack(">I", code) + put_str("no"))
        sock.close()


class Worker:
    """postern-lmtpd on one unix-socket connection, fds as the master lays them out."""

    def __init__(self, users, store=None, conf=()):
        self.dir = tempfile.mkdtemp(prefix="postern-lmtpd-")
        os.chmod(self.dir, 0o755)
        empty = os.path.join(self.dir, "empty")
        os.mkdir(empty, 0o755)
        cfg = os.path.join(self.dir, "postern.conf")
        with open(cfg, "w") as f:
            f.write("empty_root = %s\nhostname = lmtp.test\n" % empty)
            for k, v in conf:
                f.write("%s = %s\n" % (k, v))
        self.path = os.path.join(self.dir, "lmtp")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(self.path)
        lsock.listen(1)
        self.lsock = lsock
        self.users, self.store, self.cfg = users, store or {}, cfg
        self.proc = None
        self.master = None
        self.errlog = os.path.join(self.dir, "lmtpd.log")
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        client, _ = self.lsock.accept()
        ctrl, ctrl_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        authd, authd_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        keyd, keyd_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cfgfd = os.open(self.cfg, os.O_RDONLY)
        # high copies first, so that the dup2s onto 3..7 cannot collide
        src = [os.dup(fd) for fd in (client.fileno(), ctrl_w.fileno(), authd_w.fileno(),
                                     keyd_w.fileno(), cfgfd)]
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in src]
        for fd in src:
            os.close(fd)

        def layout():
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i)
        err = open(self.errlog, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "postern-lmtpd"), "-c", "/proc/self/fd/7", "-s", "fakesid0001",
             "-i", "127.0.0.1"], preexec_fn=layout, pass_fds=(3, 4, 5, 6, 7), stderr=err,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        err.close()
        for fd in high + [cfgfd]:
            os.close(fd)
        for s in (client, ctrl_w, authd_w, keyd_w):
            s.close()
        self.keep = (authd, keyd)
        self.master = FakeMaster(ctrl, self.users, self.store)

    def log(self):
        with open(self.errlog, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self):
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.lsock.close()
