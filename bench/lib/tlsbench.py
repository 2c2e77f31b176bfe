"""TLS handshake benchmarking: certificates, client contexts, a threaded
handshake runner (Python's ssl module drops the GIL during the handshake)
and an openssl s_client probe for what the ssl module does not show."""

import os
import re
import socket
import ssl
import subprocess
import threading
import time

from . import HOST, BenchError, client
from .client import ProtoError, quickack

TLS_NAME = "localhost"      # certificate CN/SAN and the SNI the client sends
HANDSHAKE_TIMEOUT = 30.0    # one TLS connection (socket timeout)
PHASE_TIMEOUT = 1800.0
TLS_CASES = [
    # id, label, openssl -newkey arguments, the one suite the client offers
    ("ecdsa", "ECDSA P-256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
     "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("rsa", "RSA 2048", ["-newkey", "rsa:2048"], "ECDHE-RSA-AES128-GCM-SHA256"),
]


def make_certs(work):
    """Self-signed certificates with openssl, one per case, in work/tls.
    Returns [{id, label, cert, key, suite, desc}], the same files for every
    server."""
    d = work / "tls"
    d.mkdir()
    os.chmod(d, 0o755)
    out = []
    for kid, label, newkey, suite in TLS_CASES:
        crt, key = d / f"{kid}.pem", d / f"{kid}.key"
        r = subprocess.run(["openssl", "req", "-x509", *newkey, "-sha256", "-nodes",
                            "-subj", f"/CN={TLS_NAME}", "-days", "7",
                            "-addext", f"subjectAltName=DNS:{TLS_NAME},IP:{HOST}",
                            "-keyout", str(key), "-out", str(crt)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise BenchError(f"openssl req ({label}) failed: {r.stderr.strip()}")
        os.chmod(crt, 0o644)
        os.chmod(key, 0o600)    # root only: the servers read it as root
        t = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-text"],
                           capture_output=True, text=True, timeout=30).stdout
        sig = re.search(r"Signature Algorithm: (\S+)", t)
        pk = re.search(r"Public Key Algorithm: (\S+)", t)
        bits = re.search(r"Public-Key: \((\d+) bit\)", t)
        out.append({"id": kid, "label": label, "cert": crt, "key": key, "suite": suite,
                    "desc": f"{pk.group(1) if pk else '?'} {bits.group(1) if bits else '?'} bit, "
                            f"self-signed with {sig.group(1) if sig else '?'}"})
    return out


def tls_context(case, verify=True, tickets=False):
    """Client context: TLS 1.2 only (BearSSL has no TLS 1.3; OpenSSL's 1.3
    suites cannot be restricted with set_ciphers), the case's one suite.
    verify: check the chain (the certificate itself is the trust anchor) and
    the name.  tickets=False asks for no session ticket (RFC 5077)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(case["suite"])
    if verify:
        ctx.load_verify_locations(cafile=str(case["cert"]))
        ctx.check_hostname = True
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


def _pump(raw, outgoing, incoming, op):
    """Run op() on an SSLObject until it no longer wants to read: flush
    what it wrote, receive (TCP_QUICKACK after every receive), feed it."""
    while True:
        try:
            r = op()
        except ssl.SSLWantReadError:
            out = outgoing.read()
            if out:
                raw.sendall(out)
            data = raw.recv(65536)
            if client.QUICKACK:
                quickack(raw)
            if not data:
                raise ProtoError("connection closed during TLS")
            incoming.write(data)
            continue
        out = outgoing.read()
        if out:
            raw.sendall(out)
        return r


def _one(port, ctx, case, sess, resume, greeting):
    """One connection: (latency s, resumed, session to offer next).  TLS
    runs in an SSLObject over memory BIOs on a plain socket, so the client
    sets TCP_QUICKACK after connect and after every receive, handshake
    included (the ssl module's own sockets give no hook for that)."""
    t0 = time.perf_counter()
    raw = socket.create_connection((HOST, port), timeout=HANDSHAKE_TIMEOUT)
    try:
        if client.QUICKACK:
            quickack(raw)
        if ctx:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = ctx.wrap_bio(incoming, outgoing, server_hostname=TLS_NAME,
                               session=sess if resume else None)
            _pump(raw, outgoing, incoming, obj.do_handshake)

            def recv():
                return _pump(raw, outgoing, incoming, lambda: obj.read(512))
        else:
            def recv():
                data = raw.recv(512)
                if client.QUICKACK:
                    quickack(raw)
                return data
        greet = b""
        while not greet.endswith(b"\r\n") and len(greet) < 512:
            chunk = recv()
            if not chunk:
                break
            greet += chunk
        lat = time.perf_counter() - t0
        if not greet.startswith(greeting):
            raise ProtoError(f"greeting: {greet[:80]!r}")
        if not ctx:
            return lat, False, None
        if obj.version() != "TLSv1.2" or obj.cipher()[0] != case["suite"]:
            raise ProtoError(f"negotiated {obj.version()} {obj.cipher()[0]}")
        if obj.session_reused and not resume:
            raise ProtoError("session resumed in a full-handshake run")
        return lat, obj.session_reused, obj.session if resume else None
    finally:
        raw.close()


def run_handshakes(port, case, n, conc, resume=False, greeting=b"+OK"):
    """n connections by conc threads.  One = connect, TLS handshake, read
    the greeting, close.  resume: each thread offers the session of its
    previous connection (the first one is full); else every handshake must
    be full.  case None: the same without TLS on a plain port."""
    ctx = tls_context(case, tickets=resume) if case else None
    lats, errors, reused = [], [], []
    lock = threading.Lock()
    todo = [n]

    def take():
        with lock:
            if todo[0] <= 0:
                return False
            todo[0] -= 1
            return True

    def worker():
        sess = None
        while take():
            try:
                lat, ru, sess = _one(port, ctx, case, sess, resume, greeting)
                with lock:
                    lats.append(lat)
                    reused.append(ru)
            except (OSError, ProtoError, ValueError) as e:     # ssl.SSLError is an OSError
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conc)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(PHASE_TIMEOUT)
    wall = time.perf_counter() - t0
    if any(t.is_alive() for t in threads):
        raise BenchError(f"TLS handshakes on port {port} did not finish in {PHASE_TIMEOUT:.0f}s")
    return {"lats": lats, "errors": errors, "wall": wall, "bytes": 0, "slow": [],
            "reused": sum(reused)}


def s_client_probe(port, case, quit_line="QUIT\r\n"):
    """What openssl s_client reports for one handshake: the ECDHE group and
    the server's signature algorithm (Python's ssl module shows neither)."""
    try:
        r = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}",
                            "-servername", TLS_NAME, "-tls1_2", "-cipher", case["suite"],
                            "-no_ticket"],
                           input=quit_line, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"error": str(e)}
    out = r.stdout + r.stderr

    def grab(pat):
        m = re.search(pat, out)
        return m.group(1).strip() if m else "?"
    return {"group": grab(r"Server Temp Key: ([^\n]+)"),
            "sigtype": grab(r"Peer signature type: ([^\n]+)"),
            "digest": grab(r"Peer signing digest: ([^\n]+)"),
            "cipher": grab(r"Cipher is ([^\n]+)")}
