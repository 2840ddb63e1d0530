"""A fork server: one warm interpreter that forks a fresh sandboxed child per submission.

Importing torch takes about two seconds; forking a process that already has takes a few
milliseconds. The server is started once per batch with a clean environment (no
``ACTGRADER_SECRET*``, no proxy settings, single-threaded BLAS), imports torch, NumPy,
matplotlib (Agg), ipywidgets and IPython, creates the IPython shell, and never runs a torch
operation, so that forking it is safe. It never imports the reference implementations or the
tasks, so no child inherits them.

Protocol on the control socket (grader -> server): a JSON request with two descriptors
attached (the child's end of its socketpair, and the write end of a status pipe). The server
forks, answers with the child's pid (8 bytes), and later writes the child's exit status
(4 bytes, as ``os.waitstatus_to_exitcode``) to the status pipe when it reaps it. When the
grader closes the control socket, the server kills its children and exits.

Modules that torch imports lazily on first use and that cost a child seconds (``torch._dynamo``,
behind every optimizer's ``step``) are imported here too.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_PID = struct.Struct("<q")
_STATUS = struct.Struct("<i")
READY = b"ready\n"
_BOOT = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from actgrader.batch.forkserver import serve; serve(int(sys.argv[2]))"
)
SHELL_COMMANDS_OFF = "(shell commands are not run while grading)"
LAZY_IMPORTS = ("torch.optim", "torch._dynamo")
FORBIDDEN_PRELOADS = ("actgrader.reference", "actgrader.tasks", "actgrader.notebook")


class ForkServerError(RuntimeError):
    """The fork server could not be started or stopped answering."""


# --------------------------------------------------------------------------- server side


def _preload() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import ipywidgets  # noqa: F401
    import matplotlib.pyplot
    import matplotlib_inline.backend_inline  # noqa: F401
    import numpy  # noqa: F401
    import torch  # noqa: F401

    # An optimizer's first step imports torch._dynamo (some 800 modules, sympy included): about
    # 1-2 s that every child would pay again. Imported here once, it is shared by every fork;
    # importing runs no torch operation and starts no thread, so forking stays safe.
    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from actgrader.batch import child  # noqa: F401

    class GradingShell(InteractiveShell):
        """The shell cells run in while graded: no GUI event loop, and ``!commands`` not run.

        A shell command prints a note and "fails" (``_exit_code`` 1) the way a missing
        command would in Jupyter, so a stray ``!pip install`` does not cost the rest of
        the cell. (The audit hook refuses to start processes in any case.)
        """

        def enable_gui(self, gui: object = None) -> None:
            return None

        def system(self, cmd: str) -> None:
            print(SHELL_COMMANDS_OFF)
            self.user_ns["_exit_code"] = 1

        def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> object:
            from IPython.utils.text import SList

            print(SHELL_COMMANDS_OFF)
            return SList() if split else ""

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    shell = GradingShell.instance(config=config)
    shell.user_ns["__name__"] = "__main__"
    return shell


def serve(ctrl_fd: int) -> None:
    """The fork server's main loop (runs in its own interpreter, started by :class:`ForkServer`)."""
    from actgrader.batch import child, guard, sandbox

    ctrl = socket.socket(fileno=ctrl_fd)
    shell = _preload()
    guard.disarm_process_spawning()
    leaked = [m for m in sys.modules if m.startswith(FORBIDDEN_PRELOADS)]
    if leaked:
        raise SystemExit(f"fork server must not import {leaked}")
    real_roots = (str(Path(sys.modules["actgrader"].__file__).parent),)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, int] = {}
    ctrl.sendall(READY)

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            fd = children.pop(pid, None)
            if fd is not None:
                try:
                    os.write(fd, _STATUS.pack(os.waitstatus_to_exitcode(status)))
                except OSError:
                    pass
                os.close(fd)

    while True:
        ready, _, _ = select.select([ctrl, wake_r], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        reap()
        if ctrl not in ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(ctrl, 1 << 20, 2)
        except OSError:
            message, fds = b"", []
        if not message:
            break
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        conn_fd, status_fd = fds
        config = sandbox.SandboxConfig.from_json(json.loads(message))
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            child.main(socket.socket(fileno=conn_fd), config, shell, real_roots)
        os.close(conn_fd)
        children[pid] = status_fd
        ctrl.sendall(_PID.pack(pid))

    for pid in list(children):
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
    deadline = time.monotonic() + 5
    while children and time.monotonic() < deadline:
        reap()
        time.sleep(0.01)
    os._exit(0)


# --------------------------------------------------------------------------- grader side


def clean_environment(home: str) -> dict[str, str]:
    """The fork server's whole environment: nothing inherited, so no secret can leak through it."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
        "IPYTHONDIR": os.path.join(home, ".ipython"),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


class ForkServer:
    """The grader's handle on the fork server (thread-safe: one spawn at a time)."""

    def __init__(self, python: str = sys.executable, start_timeout: float = 120.0) -> None:
        self.python = python
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._home = tempfile.mkdtemp(prefix="actgrade-forkserver-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctrl: socket.socket | None = None
        self._log = Path(self._home) / "forkserver.log"
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (no child can be spawned any more)."""
        return self._closed

    def start(self) -> None:
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        self._stop_locked()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys_path = [p for p in sys.path if p]
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(
                [self.python, "-I", "-c", _BOOT, json.dumps(sys_path), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                env=clean_environment(self._home),
                cwd=self._home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        theirs.close()
        ours.settimeout(self.start_timeout)
        try:
            got = ours.recv(len(READY))
        except OSError:
            got = b""
        if got != READY:
            self._proc.kill()
            self._proc.wait()
            raise ForkServerError(f"the fork server did not start:\n{self.log_tail()}")
        ours.settimeout(None)
        self._ctrl = ours

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self._log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def spawn(self, config: dict[str, Any]) -> tuple[int, socket.socket, int]:
        """Fork a child; return its pid, the grader's end of its socket and the status pipe's read end."""
        with self._lock:
            if self._closed:
                raise ForkServerError("the fork server was shut down")
            for attempt in (1, 2):
                if self._ctrl is None or self._proc is None or self._proc.poll() is not None:
                    self._start_locked()
                assert self._ctrl is not None
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                status_r, status_w = os.pipe()
                try:
                    socket.send_fds(self._ctrl, [json.dumps(config).encode()], [theirs.fileno(), status_w])
                    self._ctrl.settimeout(30)
                    data = b""
                    while len(data) < _PID.size:
                        chunk = self._ctrl.recv(_PID.size - len(data))
                        if not chunk:
                            raise ForkServerError("the fork server closed its socket")
                        data += chunk
                    self._ctrl.settimeout(None)
                    (pid,) = _PID.unpack(data)
                    return pid, ours, status_r
                except (OSError, ForkServerError):
                    ours.close()
                    os.close(status_r)
                    if attempt == 2:
                        raise ForkServerError(f"the fork server stopped answering:\n{self.log_tail()}") from None
                    self._stop_locked()
                finally:
                    theirs.close()
                    os.close(status_w)
        raise AssertionError("unreachable")

    def _stop_locked(self) -> None:
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Stop the server (its children are killed); no child can be spawned afterwards."""
        self._closed = True
        with self._lock:
            self._stop_locked()
        try:
            for path in sorted(Path(self._home).rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            Path(self._home).rmdir()
        except OSError:
            pass

    def __enter__(self) -> ForkServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
