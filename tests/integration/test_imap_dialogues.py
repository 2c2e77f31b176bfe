"""Every tests/imap/*.imap dialogue (tests/integration/imapscript.py) as a test
method of its own.  Files with the same `config` header share one server;
each file gets two fresh users.  TestImapDialoguesTLS runs the files that are not
about TLS again with every plain connection made to the IMAPS port.  PTEST_IMAP_PEER=dovecot runs the same files
against a private Dovecot (imappeer.py) instead of Postern.

One file: python3 -m unittest test_imap_dialogues.TestImapDialogues.test_fetch
(from tests/integration), or PTEST_IMAP_ONLY=fetch,search for a subset."""
import os
import re
import unittest

import imapscript
from imappeer import make_peer

_peers = {}
_nuser = [0]


def peer_for(config):
    key = tuple(sorted(config.items()))
    if key not in _peers:
        _peers[key] = make_peer(dict(config))
    return _peers[key]


def tearDownModule():
    for p in _peers.values():
        p.cleanup()
    _peers.clear()


class TestImapDialogues(unittest.TestCase):
    maxDiff = None


class TestImapDialoguesTLS(unittest.TestCase):
    """Every dialogue that is not about TLS itself, over implicit TLS (IMAPS)."""


def _make(script, over_tls=False):
    def test(self):
        peer = peer_for(script.config)
        _nuser[0] += 1
        base = "i%d%s" % (_nuser[0], re.sub(r"[^a-z0-9]", "", script.name.lower())[:16])
        u1, u2 = base + "a", base + "b"
        peer.add_user(u1, "pw-" + u1)
        peer.add_user(u2, "pw-" + u2)
        imapscript.Runner(script, peer, u1, "pw-" + u1, u2, "pw-" + u2, over_tls=over_tls).run()
    test.__doc__ = "tests/imap/%s.imap%s" % (script.name, " over IMAPS" if over_tls else "")
    return test


_only = [x for x in os.environ.get("PTEST_IMAP_ONLY", "").split(",") if x]
for _s in imapscript.scripts():
    if _only and _s.name not in _only:
        continue
    setattr(TestImapDialogues, "test_" + re.sub(r"\W", "_", _s.name), _make(_s))
    # the same dialogue through TLS (the worker's TLS path: records, literals, big answers)
    if imapscript.tls_capable(_s):
        setattr(TestImapDialoguesTLS, "test_" + re.sub(r"\W", "_", _s.name) + "_tls", _make(_s, True))


if __name__ == "__main__":
    unittest.main()
