"""The operating-system layers of a child's sandbox, applied right after it is forked.

In order (each degrades gracefully when unavailable, and :func:`apply` says which are on):

1. its own session (so the grader can kill its whole process group);
2. as root: private mount and network namespaces; the grader's source, the solutions, the
   submissions, the output folder and the secret file hidden under empty read-only mounts;
   a private, size-capped ``/tmp`` (and ``/var/tmp``, ``/dev/shm``) holding its working
   directory. As another user: a user namespace for the network, where the kernel allows it;
3. resource limits: address space, CPU time, file size, core dumps, open files, processes;
4. as root: an unprivileged uid/gid of its own (one per grading slot, so children cannot
   signal or trace each other) with ``no_new_privs``, so nothing undoes the mounts.

The interpreter-level layers (audit hook, import stub) come last, in :mod:`actgrader.batch.guard`.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
_CAP_VERSION_3 = 0x20080522


@dataclass(frozen=True)
class SandboxConfig:
    """What a child needs to sandbox itself; plain data (it crosses the fork server's socket)."""

    uid: int  # used when running as root
    memory_limit: int  # bytes of address space above the post-import footprint
    cpu_seconds: int
    file_size: int  # bytes
    tmp_size: int  # bytes of the private /tmp (root only)
    nproc: int
    protected: tuple[str, ...]
    required: tuple[str, ...]  # paths the interpreter needs: never hidden
    work_root: str  # where the working directory goes when not root
    root_layers: bool = True  # False: the sandbox a non-root user gets, even as root (tests)

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict) -> SandboxConfig:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class _Libc:
    def __init__(self) -> None:
        self.lib = ctypes.CDLL(None, use_errno=True)

    def call(self, name: str, *args: object) -> None:
        fn = getattr(self.lib, name)
        if fn(*args) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{name}: {os.strerror(err)}")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _hide(libc: _Libc, path: str, required: tuple[str, ...], done: list[str]) -> None:
    """Cover ``path`` with an empty mount; if the interpreter needs something inside, cover its siblings."""
    if not os.path.lexists(path) or any(_under(path, d) for d in done):
        return
    if any(_under(r, path) for r in required):
        if os.path.isdir(path) and not os.path.islink(path):
            for entry in sorted(os.listdir(path)):
                _hide(libc, os.path.join(path, entry), required, done)
        return
    flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
    if os.path.isdir(path):
        libc.call("mount", b"tmpfs", path.encode(), b"tmpfs", flags, b"size=4k,mode=000")
    else:
        libc.call("mount", b"/dev/null", path.encode(), None, MS_BIND, None)
    done.append(path)


def _private_tmp(libc: _Libc, path: str, size: int, required: tuple[str, ...]) -> bool:
    if not os.path.isdir(path) or any(_under(r, path) for r in required):
        return False
    options = f"size={size},mode=1777".encode()
    libc.call("mount", b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options)
    return True


def _closed_ancestor(path: str) -> str | None:
    """The highest folder above ``path`` that other users cannot enter (e.g. /root), if any."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        folder = "/" + "/".join(parts[:i])
        try:
            if not os.stat(folder).st_mode & 0o001:
                return folder
        except OSError:
            return None
    return None


def _expose(libc: _Libc, required: tuple[str, ...]) -> list[str]:
    """Make required folders inside closed ones (Python under /root, say) reachable for the child's uid.

    The closed folder is covered by an empty tmpfs and only the required folders are bound back
    into it, so the rest of it (root's home) stays out of reach.
    """
    closed: dict[str, list[str]] = {}
    for path in required:
        top = _closed_ancestor(path) if os.path.isdir(path) else None
        if top is not None:
            closed.setdefault(top, []).append(path)
    if not closed:
        return []
    stage = tempfile.mkdtemp(prefix=".stage-", dir="/tmp")
    staged: list[tuple[str, str]] = []
    for paths in closed.values():
        for path in sorted(set(paths)):
            if any(_under(path, other) and path != other for other in paths):
                continue  # bound with its parent
            target = os.path.join(stage, str(len(staged)))
            os.mkdir(target)
            libc.call("mount", path.encode(), target.encode(), None, MS_BIND | MS_REC, None)
            staged.append((path, target))
    for top in closed:
        libc.call("mount", b"tmpfs", top.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64k,mode=755")
    for path, target in staged:
        os.makedirs(path, mode=0o755, exist_ok=True)
        libc.call("mount", target.encode(), path.encode(), None, MS_BIND | MS_REC, None)
        libc.call("umount2", target.encode(), MNT_DETACH)
    return sorted(closed)


def _as_root(libc: _Libc, config: SandboxConfig, layers: list[str]) -> str:
    libc.call("unshare", CLONE_NEWNS | CLONE_NEWNET)
    layers.append("network: none (private network namespace)")
    libc.call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
    required = tuple(os.path.realpath(r) for r in config.required if r)
    tmps = [p for p in ("/tmp", "/var/tmp", "/dev/shm") if _private_tmp(libc, p, config.tmp_size, required)]
    hidden: list[str] = []
    for path in sorted({os.path.realpath(p) for p in config.protected if p}):
        _hide(libc, path, required, hidden)
    layers.append(f"files: {len(hidden)} protected path(s) hidden (private mount namespace)")
    if "/tmp" in tmps:
        opened = _expose(libc, required)
        if opened:
            layers.append(f"files: {', '.join(opened)} covered, the interpreter's folders inside bound back")
        workdir = "/tmp/work"
        os.mkdir(workdir, 0o700)
    else:
        workdir = tempfile.mkdtemp(prefix="work-", dir=config.work_root)
    os.chown(workdir, config.uid, config.uid)
    layers.append(f"scratch: private {', '.join(tmps) or 'none'} ({config.tmp_size // 2**20} MB)")
    return workdir


def _capset_zero(libc: _Libc) -> bool:
    number = _SYS_CAPSET.get(platform.machine())
    if number is None:
        return False

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header = Header(_CAP_VERSION_3, 0)
    data = (Data * 2)()
    return libc.lib.syscall(number, ctypes.byref(header), ctypes.byref(data)) == 0


def _as_user(libc: _Libc, config: SandboxConfig, layers: list[str]) -> str:
    uid, gid = os.getuid(), os.getgid()
    try:
        libc.call("unshare", CLONE_NEWUSER | CLONE_NEWNET)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
        dropped = _capset_zero(libc)
        layers.append("network: none (user + network namespace" + (")" if dropped else "; capabilities kept)"))
    except OSError as exc:
        layers.append(f"network: NOT isolated ({exc}); the audit hook refuses sockets")
    layers.append("files: not hidden (needs root); the audit hook refuses reads of protected paths")
    return tempfile.mkdtemp(prefix="work-", dir=config.work_root)


def _limit(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _address_space_now() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def apply(config: SandboxConfig) -> tuple[str, list[str]]:
    """Sandbox this (freshly forked) process; return its working directory and the active layers."""
    layers: list[str] = []
    os.setsid()
    libc = _Libc()
    try:
        libc.call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass
    root = os.geteuid() == 0 and config.root_layers
    if root:
        try:
            workdir = _as_root(libc, config, layers)
        except OSError as exc:
            layers.append(f"namespaces: unavailable ({exc}); the audit hook refuses network and protected paths")
            workdir = tempfile.mkdtemp(prefix="work-", dir=config.work_root)
            os.chown(workdir, config.uid, config.uid)
    else:
        workdir = _as_user(libc, config, layers)

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
    footprint = _address_space_now()
    _limit(resource.RLIMIT_AS, footprint + config.memory_limit)
    _limit(resource.RLIMIT_CPU, config.cpu_seconds)
    _limit(resource.RLIMIT_FSIZE, config.file_size)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 1024)
    limits = (
        f"limits: address space {footprint // 2**20} + {config.memory_limit // 2**20} MB, "
        f"CPU {config.cpu_seconds} s, files {config.file_size // 2**20} MB, no core dumps"
    )
    os.chdir(workdir)
    if root:
        try:
            _limit(resource.RLIMIT_NPROC, config.nproc)
            os.setgroups([])
            os.setresgid(config.uid, config.uid, config.uid)
            os.setresuid(config.uid, config.uid, config.uid)
            limits += f", {config.nproc} processes"
            layers.append(f"user: uid/gid {config.uid}, no supplementary groups")
        except OSError as exc:
            layers.append(f"user: still root ({exc})")
    layers.append(limits)
    try:
        libc.call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        libc.call("prctl", PR_SET_DUMPABLE, 0, 0, 0, 0)
        layers.append("no_new_privs, not dumpable")
    except OSError as exc:
        layers.append(f"no_new_privs: unavailable ({exc})")
    return workdir, layers


def close_fds_except(keep: Iterable[int]) -> None:
    """Close every inherited descriptor above 2 except ``keep``."""
    keep_sorted = sorted(set(k for k in keep if k > 2))
    low = 3
    for fd in keep_sorted:
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


# ----------------------------------------------------------------------------- the path rules
# Computed on the trusted side, before any child starts: what a child must not read, and what
# its interpreter must keep seeing.

# Folders of the course repository learner code must not read: the grader's source, the
# solutions, the tests and the history; and, when an nbgrader course lives there, nbgrader's
# instructor folders and gradebook.
COURSE_PRIVATE = ("grader", "solutions", "tests", ".git")
NBGRADER_PRIVATE = ("source", "autograded", "feedback", "gradebook.db")


def protected_paths(
    *, submissions: Iterable[Path], output: Path | None, secret_files: Iterable[Path], course: Path | None
) -> list[str]:
    """What a child must not read: the grader's source (every copy on the path), the course's
    private folders (``course``: the repository), the submissions' folders, the output, the secret's files."""
    import sys

    import actgrader

    protected = {Path(actgrader.__file__).resolve().parent}
    # Any other copy of the package on the path (an editable install next to a shipped one).
    protected.update(Path(e).resolve() / "actgrader" for e in sys.path if e and (Path(e) / "actgrader").is_dir())
    if course is not None:
        protected.update(course / name for name in (*COURSE_PRIVATE, *NBGRADER_PRIVATE))
    protected.update(submissions)
    if output is not None:
        protected.add(Path(output).resolve())
    protected.update(secret_files)
    return sorted(str(p) for p in protected)


def required_paths() -> list[str]:
    """What the child's interpreter needs to keep seeing (never hidden, even inside a protected folder)."""
    import sys

    needed = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for entry in sys.path:
        if entry and os.path.isabs(entry) and not os.path.isdir(os.path.join(entry, "actgrader")):
            needed.add(entry)
    return sorted(os.path.realpath(p) for p in needed if p)
