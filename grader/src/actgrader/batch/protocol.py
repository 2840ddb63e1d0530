"""Framing of the messages between the trusted grader and a sandboxed child.

A message is a small JSON header (the operation, or the reply's status) and an optional
payload of bytes (arguments or a result in the :mod:`actgrader.grading.codec` format). On the
wire: ``<u32 header length><u64 payload length><header><payload>``.

The trusted side reads with a deadline and refuses oversized or malformed frames: the child
may write anything at all to its end of the socket, so nothing it sends is trusted beyond
"some bytes of bounded size".
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from actgrader.grading import codec

_PREFIX = struct.Struct("<IQ")
MAX_REPLY_HEADER = 1024 * 1024
MAX_REQUEST_HEADER = 64 * 1024 * 1024
MAX_PAYLOAD = codec.MAX_BYTES + 1024 * 1024
# How often a waiting reader wakes up to run its watchdog (memory cap, budget).
POLL_SECONDS = 0.05


class ProtocolError(Exception):
    """The other end sent something that is not a valid frame."""


class PeerGone(Exception):
    """The other end closed the connection (in practice: the child process died)."""


class Deadline(Exception):
    """No complete reply arrived in time."""


def pack(header: dict[str, Any], payload: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(len(head), len(payload)) + head + payload


def send(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    sock.sendall(pack(header, payload))


def _recv_exact_blocking(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise PeerGone()
        got += k
    return bytes(buf)


def recv_blocking(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    """The child's side: wait as long as it takes for the grader's next request."""
    head_len, payload_len = _PREFIX.unpack(_recv_exact_blocking(sock, _PREFIX.size))
    if head_len > MAX_REQUEST_HEADER or payload_len > MAX_PAYLOAD:
        raise ProtocolError("request too large")
    header = json.loads(_recv_exact_blocking(sock, head_len))
    payload = _recv_exact_blocking(sock, payload_len) if payload_len else b""
    return header, payload


def recv(
    sock: socket.socket,
    deadline: float,
    watchdog: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """The grader's side: one reply, or :class:`Deadline` at ``deadline`` (a ``time.monotonic`` value).

    ``watchdog`` runs every :data:`POLL_SECONDS` while waiting; it may raise to give up.
    """

    def exact(n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Deadline()
            sock.settimeout(min(POLL_SECONDS, left))
            try:
                k = sock.recv_into(view[got:], n - got)
            except TimeoutError:
                if watchdog is not None:
                    watchdog()
                continue
            except OSError as exc:
                raise PeerGone() from exc
            if k == 0:
                raise PeerGone()
            got += k
        return bytes(buf)

    head_len, payload_len = _PREFIX.unpack(exact(_PREFIX.size))
    if head_len > MAX_REPLY_HEADER or payload_len > MAX_PAYLOAD:
        raise ProtocolError(f"reply too large ({head_len} + {payload_len} bytes)")
    try:
        header = json.loads(exact(head_len))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("reply header is not JSON") from exc
    if not isinstance(header, dict):
        raise ProtocolError("reply header is not an object")
    payload = exact(payload_len) if payload_len else b""
    return header, payload


def text(header: dict[str, Any], key: str, limit: int = 2000) -> str:
    """A string field of an untrusted header, truncated; '' when absent or not a string."""
    value = header.get(key)
    if not isinstance(value, str):
        return ""
    return value if len(value) <= limit else value[:limit] + "..."
