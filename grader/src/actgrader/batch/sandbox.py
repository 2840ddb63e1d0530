"""The operating-system layers of a child's sandbox, applied right after it is forked.

In order (each degrades gracefully when unavailable, and :func:`apply` says which are on):

1. its own session (so the grader can kill its whole process group);
2. as root: private mount and network namespaces; the grader's source, the solutions, the
   submissions, the output folder and the secret file hidden under empty read-only mounts;
   a private, size-capped ``/tmp`` (and ``/var/tmp``, ``/dev/shm``) holding its working
   directory, where only the interpreter's own folders (a virtual environment or a course
   cloned under ``/tmp``) are bound back, read-only; closed folders on the way to the
   interpreter (``/root``) are covered the same way. As another user: a user namespace for
   the network, where the kernel allows it;
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
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
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


def _outermost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those inside another of them."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(_under(path, k) for k in kept):
            kept.append(path)
    return kept


def _cover(libc: _Libc, top: str, required: tuple[str, ...], options: bytes) -> list[str]:
    """Mount an empty tmpfs on ``top`` and bind the required paths inside it back, read-only.

    Each kept path is opened (``O_PATH``) before ``top`` is covered and bound back from its
    descriptor, so no staging folder is needed and the original never has to stay reachable.
    The folders leading to a kept path are recreated as ``0755`` (root's), so a closed folder
    on the way (``/root``, a ``0700`` temporary folder) no longer stops the child's uid, and
    nothing else that was in ``top`` exists for the child. Returns the paths bound back.
    """
    keep = _outermost(r for r in required if r != top and _under(r, top) and os.path.lexists(r))
    handles = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in keep]
    try:
        libc.call("mount", b"tmpfs", top.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options)
        for path, fd in handles:
            _mount_point(top, path, os.path.isdir(f"/proc/self/fd/{fd}"))
            libc.call("mount", f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None)
            _read_only(libc, path)
    finally:
        for _path, fd in handles:
            os.close(fd)
    return keep


def _mount_point(top: str, path: str, is_dir: bool) -> None:
    """Create ``path`` (a folder or an empty file) and the folders above it, up to ``top``, as 0755."""
    missing = []
    folder = os.path.dirname(path)
    while folder != top and not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for folder in reversed(missing):
        os.mkdir(folder)
        os.chmod(folder, 0o755)
    if is_dir:
        os.mkdir(path)
        os.chmod(path, 0o755)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def _read_only(libc: _Libc, path: str) -> None:
    """Remount a bind read-only, keeping the flags the original mount had (a container may lock them)."""
    kept = os.statvfs(path).f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC)
    try:
        libc.call("mount", None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None)
    except OSError:
        pass  # still a bind of root's files, which the child's uid cannot write


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


def _as_root(libc: _Libc, config: SandboxConfig, layers: list[str]) -> str:
    libc.call("unshare", CLONE_NEWNS | CLONE_NEWNET)
    layers.append("network: none (private network namespace)")
    libc.call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
    required = tuple(os.path.realpath(r) for r in config.required if r)
    # Private scratch folders: everything the machine had there disappears (other users' files,
    # the grader's own temporary folders), except what the interpreter needs (a virtual
    # environment or a clone of the course under /tmp), bound back read-only.
    scratch = f"size={config.tmp_size},mode=1777".encode()
    tmps: list[str] = []
    kept: list[str] = []
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(folder) and not os.path.islink(folder) and not any(_under(folder, r) for r in required):
            kept += _cover(libc, folder, required, scratch)
            tmps.append(folder)
    if kept:
        layers.append(f"files: {len(kept)} of the interpreter's folder(s) kept in the private scratch, read-only")
    # Closed folders on the way to the interpreter (Python under /root, say): covered, and only
    # the interpreter's folders bound back into them, so the rest (root's home) stays out of reach.
    closed = sorted({top for r in required if os.path.isdir(r) and (top := _closed_ancestor(r)) is not None})
    for top in _outermost(closed):
        _cover(libc, top, required, b"size=64k,mode=755")
    if closed:
        layers.append(f"files: {', '.join(_outermost(closed))} covered, the interpreter's folders inside bound back")
    hidden: list[str] = []
    for path in sorted({os.path.realpath(p) for p in config.protected if p}):
        _hide(libc, path, required, hidden)
    layers.append(f"files: {len(hidden)} protected path(s) hidden (private mount namespace)")
    if "/tmp" in tmps:
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
    private folders (``course``: the repository, and the repository of every copy of the grader
    on the path), the submissions' folders, the output, the secret's files."""
    import sys

    import actgrader
    from actgrader.batch.options import repository_root

    copies = {Path(actgrader.__file__).resolve().parent}
    # Any other copy of the package on the path (an editable install next to a shipped one).
    copies.update(Path(e).resolve() / "actgrader" for e in sys.path if e and (Path(e) / "actgrader").is_dir())
    protected = set(copies)
    # A clone of the course whose grader is importable here keeps its solutions hidden whichever copy
    # grades: a Gradescope zip's own copy knows no repository, yet run next to a clone (tested there,
    # or reproducing a Gradescope result) the clone's solutions/ would be readable.
    courses = {course, *(repository_root(c) for c in copies)}
    for root in sorted(c for c in courses if c is not None):
        protected.update(root / name for name in (*COURSE_PRIVATE, *NBGRADER_PRIVATE))
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
