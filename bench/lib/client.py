"""asyncio line-protocol client helpers.

Every connection sets TCP_QUICKACK after connect and after each receive, so
the client never delays an ACK.  A server that writes a response in several
chunks without TCP_NODELAY (Courier's pop3d) would otherwise wait ~40 ms per
large response for the client's delayed ACK (Nagle), and the bench would
measure that stall instead of the server.  The kernel clears QUICKACK again
on its own, hence the setsockopt after every receive.
"""

import asyncio
import socket

from . import HOST

QUICKACK = True     # scenarios may turn it off (--no-quickack) to show the stall
STREAM_LIMIT = 1 << 20


class ProtoError(Exception):
    """The server answered something the dialogue did not expect."""


# What a failed session may raise; scenarios count these as failures.
SESSION_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                  asyncio.TimeoutError, ProtoError, ValueError, IndexError)


def quickack(sock):
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    except OSError:
        pass


class _QuickAckProtocol(asyncio.StreamReaderProtocol):
    def connection_made(self, transport):
        self._qa_sock = transport.get_extra_info("socket")
        if QUICKACK and self._qa_sock is not None:
            quickack(self._qa_sock)
        super().connection_made(transport)

    def data_received(self, data):
        if QUICKACK and self._qa_sock is not None:
            quickack(self._qa_sock)
        super().data_received(data)


async def connect(port, host=HOST, source=None, limit=STREAM_LIMIT):
    """(reader, writer) like asyncio.open_connection, with TCP_QUICKACK and
    an optional source address (many loopback sources: 127.0.0.2, ...)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    local = (source, 0) if source else None
    transport, protocol = await loop.create_connection(
        lambda: _QuickAckProtocol(reader, loop=loop), host, port, local_addr=local)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def readline(reader):
    return await reader.readuntil(b"\r\n")


async def close(writer):
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
