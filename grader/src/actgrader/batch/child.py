"""The sandboxed child: runs a submission's program cell by cell and calls its functions on request.

It judges nothing. It receives requests from the trusted grader (run this cell; describe,
read or call this name) and answers with plain data: cell errors as type, message and line;
results encoded with :mod:`actgrader.grading.codec`. Whatever learner code does here, it can
only change what this process sends back, and the grader treats that as untrusted.
"""

from __future__ import annotations

import io
import os
import random
import socket
import sys
import time
import traceback
from typing import Any

from actgrader.batch import guard, protocol, sandbox
from actgrader.grading import codec
from actgrader.grading.answer import LearnerError, call_learner

OUTPUT_KEPT = 2000  # characters of each cell's printed output kept for the feedback


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, s: Any) -> int:
        if not isinstance(s, str):
            s = str(s)
        self.total += len(s)
        if self.kept < self.limit:
            piece = s[: self.limit - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(s)

    def take(self) -> str:
        text = "".join(self.parts)
        if self.total > self.kept:
            text += f"\n... ({self.total - self.kept} more characters not kept)"
        self.parts, self.kept, self.total = [], 0, 0
        return text


def _describe_error(exc: BaseException, filename: str) -> dict[str, Any]:
    """Type, message and the learner's line for an exception raised by a cell."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a learner's exception may fail even to describe itself
        message = ""
    line = None
    code = ""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
        code = (exc.text or "").strip()
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line, code = frame.lineno, (frame.line or "").strip()
    return {"type": type(exc).__name__, "message": message[:1000], "line": line, "code": code[:300]}


class Worker:
    def __init__(self, sock: socket.socket, shell: Any) -> None:
        self.sock = sock
        self.shell = shell
        self.output = CappedWriter(OUTPUT_KEPT)

    def run_cell(self, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        grade_id = str(header.get("grade_id", "cell"))
        filename = f"<cell {header.get('position', 0)}: {grade_id}>"
        source = str(header.get("source", ""))
        start = time.perf_counter()
        error = None
        sys.stdout = sys.stderr = self.output
        try:
            code = compile(self.shell.transform_cell(source), filename, "exec")
            exec(code, self.shell.user_ns)
        except BaseException as exc:  # noqa: BLE001 - sys.exit() and KeyboardInterrupt included
            error = _describe_error(exc, filename)
        finally:
            sys.stdout = sys.stderr = self.output
        reply = {"ok": error is None, "error": error, "seconds": time.perf_counter() - start}
        reply["output"] = self.output.take()
        return reply, b""

    def lookup(self, header: dict[str, Any]) -> tuple[bool, Any]:
        name = str(header.get("name", ""))
        if name not in self.shell.user_ns:
            return False, None
        return True, self.shell.user_ns[name]

    def describe(self, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        exists, obj = self.lookup(header)
        if not exists:
            return {"ok": True, "exists": False}, b""
        return {"ok": True, "exists": True, "callable": callable(obj), "type": type(obj).__name__[:200]}, b""

    def value(self, header: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        exists, obj = self.lookup(header)
        if not exists:
            return {"ok": False, "missing": True}, b""
        try:
            return {"ok": True}, codec.encode(obj)
        except codec.CodecError as exc:
            return {"ok": False, "error": {"type": "UnsupportedResult", "message": str(exc), "where": ""}}, b""

    def call(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
        exists, obj = self.lookup(header)
        if not exists:
            return {"ok": False, "missing": True}, b""
        try:
            result = call_learner(obj, payload)
        except codec.CodecError as exc:
            return {"ok": False, "error": {"type": "UnsupportedResult", "message": str(exc), "where": ""}}, b""
        except BaseException as exc:  # noqa: BLE001 - whatever the learner's function raised, report it
            problem = LearnerError.from_exception(exc)
            error = {"type": problem.exc_type, "message": problem.detail, "where": problem.where}
            return {"ok": False, "error": error}, b""
        finally:
            sys.stdout = sys.stderr = self.output
            self.output.take()
        return {"ok": True}, result

    def serve(self) -> None:
        handlers = {"run": self.run_cell, "describe": self.describe, "value": self.value}
        while True:
            try:
                header, payload = protocol.recv_blocking(self.sock)
            except (protocol.PeerGone, OSError):
                return
            op = header.get("op")
            if op == "exit":
                return
            try:
                if op == "call":
                    reply, data = self.call(header, payload)
                elif op in handlers:
                    reply, data = handlers[op](header)
                else:
                    reply, data = {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op}"}}, b""
            except BaseException as exc:  # noqa: BLE001 - keep serving; the grader decides what it means
                reply, data = {"ok": False, "error": {"type": type(exc).__name__, "message": "", "where": ""}}, b""
            try:
                protocol.send(self.sock, reply, data)
            except (OSError, TypeError, ValueError):
                return


def _quiet_std_streams() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _reset_environment(workdir: str) -> None:
    os.environ.clear()
    os.environ.update(
        {
            "HOME": workdir,
            "TMPDIR": workdir,
            "MPLCONFIGDIR": os.path.join(workdir, ".matplotlib"),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    import tempfile

    tempfile.tempdir = workdir


def _seed_everything() -> None:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)


def main(sock: socket.socket, config: sandbox.SandboxConfig, shell: Any, real_roots: tuple[str, ...]) -> None:
    """Entry point in the freshly forked child (called by the fork server); never returns."""
    code = 0
    try:
        _quiet_std_streams()
        sandbox.close_fds_except([sock.fileno()])
        workdir, layers = sandbox.apply(config)
        _reset_environment(workdir)
        os.makedirs(os.path.join(workdir, ".matplotlib"), exist_ok=True)
        _seed_everything()
        sys.dont_write_bytecode = True
        worker = Worker(sock, shell)
        sys.stdin = io.StringIO()
        sys.stdout = sys.stderr = worker.output
        guard.install_import_stub(real_roots)
        guard.install_audit_hook(workdir, config.protected)
        layers.append("audit hook and import stub: on")
        protocol.send(sock, {"ok": True, "hello": True, "pid": os.getpid(), "layers": layers, "workdir": workdir})
        worker.serve()
    except BaseException as exc:  # noqa: BLE001 - a child never returns into the fork server's loop
        code = 70
        try:
            detail = "".join(traceback.format_exception(exc))[-4000:]
            protocol.send(sock, {"ok": False, "fatal": detail})
        except BaseException:  # noqa: BLE001 - nothing more to do: the grader sees the child exit
            pass
    finally:
        os._exit(code)
