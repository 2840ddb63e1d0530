"""The trusted side of a submission's sandbox: its child process, its program, its answers.

:class:`Session` owns the child that runs one submission. It runs the program cell by cell
(each with a timeout); if a cell never finishes or takes the child down, it starts a new child
and runs the program again without that cell. Check cases reach the learner's objects through
:class:`RemoteAnswer`, which has the interface of
:class:`~actgrader.grading.answer.LocalAnswer` but forwards every call to the child: arguments
go out and results come back in the :mod:`~actgrader.grading.codec` format (plain data, never
pickle), within a per-call timeout, under the notebook's overall time budget. A call that
times out or kills the child costs that case; the next case gets a fresh child.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import psutil

from actgrader.batch import protocol
from actgrader.batch.forkserver import ForkServer
from actgrader.batch.notebooks import Program, ProgramCell
from actgrader.grading import codec
from actgrader.grading.answer import LearnerCrashed, LearnerError, LearnerTimeout, MissingAnswer

CellStatus = Literal["ok", "error", "timeout", "crashed", "not run"]
HANDSHAKE_SECONDS = 30.0
RSS_CHECK_EVERY = 0.25


class BudgetExceeded(LearnerTimeout):
    """The notebook's overall time budget ran out."""


class ChildGone(Exception):
    """The child died (or misbehaved and was killed); ``reason`` says how, for a learner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChildTimedOut(Exception):
    pass


class SandboxFailure(RuntimeError):
    """The sandbox itself could not start (a grader problem, not the learner's)."""


@dataclass
class CellRecord:
    """What happened to one program cell (the first time it ran)."""

    position: int
    grade_id: str
    origin: str
    notebook_index: int
    status: CellStatus = "not run"
    error: dict[str, Any] | None = None
    message: str = ""  # what happened, for the feedback
    reason: str = ""  # why the cell was skipped (timeout, crash), in a few words
    output: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Child:
    """One forked, sandboxed child process as the grader sees it."""

    def __init__(self, server: ForkServer, config: dict[str, Any], memory_cap: int) -> None:
        self.pid, self.sock, self._status_fd = server.spawn(config)
        self.uid = config["uid"] if os.geteuid() == 0 and config.get("root_layers", True) else None
        self.memory_cap = memory_cap
        self.peak_rss = 0
        self.layers: list[str] = []
        self.over_memory = False
        self._last_rss_check = 0.0
        try:
            self._proc: psutil.Process | None = psutil.Process(self.pid)
        except psutil.Error:
            self._proc = None
        self.alive = True

    def _watchdog(self) -> None:
        now = time.monotonic()
        if self._proc is None or now - self._last_rss_check < RSS_CHECK_EVERY:
            return
        self._last_rss_check = now
        try:
            rss = self._proc.memory_info().rss
            for sub in self._proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    rss += sub.memory_info().rss
        except psutil.Error:
            return
        self.peak_rss = max(self.peak_rss, rss)
        if rss > self.memory_cap:
            self.over_memory = True
            self.kill()
            raise ChildGone(f"it used more memory than allowed ({self.memory_cap // 2**20} MB)")

    def handshake(self, deadline: float) -> None:
        header = self._receive(deadline)[0]
        if not header.get("hello"):
            raise SandboxFailure(f"the sandbox did not start: {protocol.text(header, 'fatal', 4000)}")
        layers = header.get("layers")
        self.layers = [str(x)[:300] for x in layers] if isinstance(layers, list) else []

    def _receive(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        try:
            return protocol.recv(self.sock, deadline, self._watchdog)
        except protocol.Deadline:
            raise ChildTimedOut() from None
        except protocol.PeerGone:
            raise ChildGone(self.death_reason()) from None
        except protocol.ProtocolError as exc:
            self.kill()
            raise ChildGone(f"it sent the grader malformed data ({exc})") from None

    def request(self, header: dict[str, Any], payload: bytes, deadline: float) -> tuple[dict[str, Any], bytes]:
        try:
            self.sock.settimeout(max(1.0, deadline - time.monotonic()))
            protocol.send(self.sock, header, payload)
        except OSError:
            raise ChildGone(self.death_reason()) from None
        return self._receive(deadline)

    def death_reason(self) -> str:
        """How the child ended, in words a learner understands (waits briefly for its status)."""
        self.kill()
        if self.over_memory:
            return f"it used more memory than allowed ({self.memory_cap // 2**20} MB)"
        code = self._exit_code(timeout=2.0)
        if code is None:
            return "it ended"
        if code < 0:
            name = _signal_name(-code)
            if name == "SIGXCPU":
                return "it used up its CPU time"
            if name == "SIGKILL":
                return "it was killed (out of memory?)"
            return f"it was killed by {name}"
        return f"it exited with code {code} (os._exit?)"

    def _exit_code(self, timeout: float) -> int | None:
        if self._status_fd is None:
            return None
        ready, _, _ = select.select([self._status_fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self._status_fd, 4)
        return int.from_bytes(data, "little", signed=True) if len(data) == 4 else None

    def kill(self) -> None:
        """Kill the child, its process group and (as root) everything running under its uid."""
        if not self.alive:
            return
        self.alive = False
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                kill(self.pid, signal.SIGKILL)
        if self.uid is not None:
            for proc in psutil.process_iter(["uids"]):
                with contextlib.suppress(psutil.Error, TypeError):
                    if proc.info["uids"].real == self.uid:
                        proc.kill()
        with contextlib.suppress(OSError):
            self.sock.close()

    def close(self) -> None:
        if self.alive:
            self._last_rss_check = 0.0
            with contextlib.suppress(ChildGone):
                self._watchdog()  # one last sample for the peak memory figure
            with contextlib.suppress(OSError, protocol.ProtocolError):
                protocol.send(self.sock, {"op": "exit"})
        self.kill()
        if self._status_fd is not None:
            self._exit_code(timeout=1.0)
            os.close(self._status_fd)
            self._status_fd = None


@dataclass
class SessionLimits:
    cell_timeout: float
    call_timeout: float
    notebook_timeout: float
    memory_cap: int  # bytes of RSS (the child's rlimit is set separately)


@dataclass
class Session:
    """Runs one submission's program in a sandboxed child and serves its answers to the checks."""

    server: ForkServer
    program: Program
    child_config: dict[str, Any]
    limits: SessionLimits
    started: float = field(default_factory=time.monotonic)
    cells: list[CellRecord] = field(init=False)
    child: Child | None = field(default=None, init=False)
    skipped: set[int] = field(default_factory=set, init=False)
    children_started: int = field(default=0, init=False)
    peak_rss: int = field(default=0, init=False)
    layers: list[str] = field(default_factory=list, init=False)
    failure: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.cells = [CellRecord(c.position, c.grade_id, c.origin, c.notebook_index) for c in self.program.cells]
        self.deadline = self.started + self.limits.notebook_timeout

    # -- lifecycle

    def _budget_left(self) -> float:
        return self.deadline - time.monotonic()

    def _check_budget(self) -> None:
        if self._budget_left() <= 0:
            raise BudgetExceeded(f"the time budget for the whole notebook ({self.limits.notebook_timeout:g} s) ran out")

    def _retire(self) -> None:
        if self.child is not None:
            self.child.close()  # takes a last memory sample: read the peak after it
            self.peak_rss = max(self.peak_rss, self.child.peak_rss)
            self.child = None

    def close(self) -> None:
        self._retire()

    def _spawn(self) -> Child:
        self._check_budget()
        child = Child(self.server, self.child_config, self.limits.memory_cap)
        self.children_started += 1
        try:
            child.handshake(time.monotonic() + min(HANDSHAKE_SECONDS, max(self._budget_left(), 0.1)))
        except (ChildTimedOut, ChildGone) as exc:
            child.close()
            raise SandboxFailure(f"the sandboxed child did not start ({exc})") from None
        except SandboxFailure:
            child.close()
            raise
        if not self.layers:
            self.layers = child.layers
        return child

    def _run_cell(self, child: Child, cell: ProgramCell, record: CellRecord, first: bool) -> bool:
        """Run one cell; False when the child has to be replaced (timeout or death)."""
        timeout = min(self.limits.cell_timeout, self._budget_left())
        header = {"op": "run", "position": cell.position, "grade_id": cell.grade_id, "source": cell.source}
        try:
            reply, _ = child.request(header, b"", time.monotonic() + timeout)
        except ChildTimedOut:
            child.kill()
            if self._budget_left() <= 0:
                record.status = "not run"
                record.reason = "was still running when the notebook's time budget ran out"
            else:
                record.status = "timeout"
                record.reason = f"did not finish within {self.limits.cell_timeout:g} s"
            record.message = f"This cell {record.reason}, so it was skipped."
            self.skipped.add(cell.position)
            return False
        except ChildGone as gone:
            record.status = "crashed"
            record.reason = gone.reason
            record.message = (
                f"Running this cell ended the process that ran it ({gone.reason}), so the cell was skipped."
            )
            self.skipped.add(cell.position)
            return False
        if first:
            error = reply.get("error")
            record.seconds = float(reply["seconds"]) if isinstance(reply.get("seconds"), (int, float)) else 0.0
            record.output = protocol.text(reply, "output", 4000)
            if reply.get("ok") is True:
                record.status = "ok"
            else:
                record.status = "error"
                record.error = _clean_error(error)
                record.message = _cell_error_text(record.error)
        return True

    def ensure_child(self) -> Child:
        """A live child that has run the program (minus skipped cells); starts one if needed."""
        if self.child is not None and self.child.alive:
            return self.child
        self._retire()
        while True:
            self._check_budget()
            child = self._spawn()
            first_run = self.children_started == 1
            healthy = True
            for cell, record in zip(self.program.cells, self.cells, strict=True):
                if cell.position in self.skipped:
                    continue
                if self._budget_left() <= 0:
                    break
                fresh = first_run or record.status == "not run"
                if not self._run_cell(child, cell, record, fresh):
                    healthy = False
                    break
            if healthy:
                self.child = child
                self._check_budget()
                return child
            child.close()
            self.peak_rss = max(self.peak_rss, child.peak_rss)

    def run_program(self) -> None:
        """Run the program once (records every cell's outcome); never raises for learner problems."""
        with contextlib.suppress(LearnerTimeout):
            self.ensure_child()
        for record in self.cells:
            if record.status == "not run" and not record.reason:
                record.reason = "was not run: the notebook's time budget ran out before it"
                record.message = f"This cell {record.reason}."

    # -- requests from RemoteAnswer

    def request(self, header: dict[str, Any], payload: bytes = b"", timeout: float | None = None) -> tuple[dict, bytes]:
        try:
            child = self.ensure_child()
        except SandboxFailure as exc:
            # A grader problem, not the learner's: remembered so the submission is flagged.
            self.failure = str(exc)
            raise LearnerCrashed("the grader could not restart its sandbox") from None
        limit = self.limits.call_timeout if timeout is None else timeout
        budget = self._budget_left()
        try:
            return child.request(header, payload, time.monotonic() + min(limit, budget))
        except ChildTimedOut:
            child.kill()
            self._retire()
            if budget < limit:
                raise BudgetExceeded(
                    f"the time budget for the whole notebook ({self.limits.notebook_timeout:g} s) ran out"
                ) from None
            raise LearnerTimeout(f"no result within {limit:g} s") from None
        except ChildGone as gone:
            self._retire()
            raise LearnerCrashed(gone.reason) from None


def _clean_error(error: Any) -> dict[str, Any]:
    if not isinstance(error, dict):
        return {"type": "Error", "message": "", "line": None, "code": ""}
    line = error.get("line")
    return {
        "type": protocol.text(error, "type", 100) or "Error",
        "message": protocol.text(error, "message", 1000),
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
        "code": protocol.text(error, "code", 300),
    }


def _cell_error_text(error: dict[str, Any]) -> str:
    text = error["type"] + (f": {error['message']}" if error["message"] else "")
    if error["line"]:
        text += f" (line {error['line']}" + (f": {error['code']}" if error["code"] else "") + ")"
    return text


class RemoteAnswer:
    """The learner's object ``name`` in the sandboxed child (see :class:`~actgrader.grading.answer.Answer`)."""

    def __init__(self, session: Session, name: str, missing_hint: str = "") -> None:
        self.session = session
        self.name = name
        self.missing_hint = missing_hint

    def _missing(self) -> MissingAnswer:
        return MissingAnswer(self.missing_hint)

    @property
    def is_callable(self) -> bool:
        reply, _ = self.session.request({"op": "describe", "name": self.name})
        if reply.get("exists") is not True:
            raise self._missing()
        return reply.get("callable") is True

    def _result(self, reply: dict[str, Any], data: bytes) -> Any:
        if reply.get("ok") is not True:
            if reply.get("missing") is True:
                raise self._missing()
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            raise LearnerError(
                protocol.text(error, "type", 100) or "Error",
                protocol.text(error, "message", 300),
                protocol.text(error, "where", 200),
            )
        try:
            return codec.decode(data)
        except codec.CodecError as exc:
            raise LearnerError("UnsupportedResult", str(exc)) from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        payload = codec.encode((list(args), kwargs))
        reply, data = self.session.request({"op": "call", "name": self.name}, payload)
        return self._result(reply, data)

    @property
    def value(self) -> Any:
        reply, data = self.session.request({"op": "value", "name": self.name})
        return self._result(reply, data)
