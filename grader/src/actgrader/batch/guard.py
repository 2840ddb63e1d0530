"""The last two sandbox layers, inside the child's interpreter: an audit hook and import blocking.

Both run after the operating-system layers (:mod:`actgrader.batch.sandbox`) and just before
the first line of learner code. They are defence in depth and, above all, they give a learner
a clear message ("network access is not allowed while grading") instead of a mysterious
failure. The boundary itself is the operating system's (other uid, namespaces, limits): a
determined learner who escaped the interpreter would still meet it.

The audit hook cannot be removed once added. Everything it uses is captured when it is
installed, as default arguments that are immutable (strings, tuples, frozensets, C
functions): it looks nothing up at call time, so replacing ``builtins.PermissionError`` or
``os.path`` from learner code changes nothing, and a learner who gets hold of its frame
through a traceback can read its state but not change it.
"""

from __future__ import annotations

import builtins
import os
import posix
import stat as stat_module
import sys
import types
from collections.abc import Iterable

from actgrader.stubs import unwritten

REFERENCE_MESSAGE = "the course's reference implementations are not available while grading: write your own code"
SELF_CHECK_OFF = "(self-check is off while grading)"

_STUB_SOURCE = f'''
"""Stand-in for actgrader.notebook while a submission is graded: the checks run elsewhere."""


def check(task_id, answer=None, *args, **kwargs):
    """Self-check is off while grading: the grader runs the checks itself."""
    print({SELF_CHECK_OFF!r})


def grade(task_id, answer=None, *args, **kwargs):
    """Self-check is off while grading: the grader runs the checks itself."""
    print({SELF_CHECK_OFF!r})

'''

_PROCESS = (
    "starting processes (os.fork, subprocess, os.system, multiprocessing, !commands) is not allowed while grading"
)
_NETWORK = "network access is not allowed while grading"
_CTYPES = "loading C libraries or touching raw memory (ctypes) is not allowed while grading"
_GC = "inspecting the interpreter's objects (gc.get_objects, get_referrers, get_referents) is not allowed while grading"
_SIGNAL = "sending signals to processes is not allowed while grading"
_CHDIR = "changing the working directory is not allowed while grading"
_LINK = "creating links is not allowed while grading"

# event -> (kind, message). kind: "deny", "read" (path args), "write" (path args), "import".
_RULES: dict[str, tuple[str, str]] = {
    **{
        e: ("deny", _PROCESS)
        for e in (
            "os.fork",
            "os.forkpty",
            "os.exec",
            "os.posix_spawn",
            "os.spawn",
            "os.system",
            "os.startfile",
            "subprocess.Popen",
            "pty.spawn",
        )
    },
    **{
        e: ("deny", _NETWORK)
        for e in (
            "socket.connect",
            "socket.bind",
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "socket.gethostbyaddr",
            "socket.getnameinfo",
            "socket.sendto",
            "socket.sendmsg",
            "urllib.Request",
            "http.client.connect",
            "ftplib.connect",
            "smtplib.connect",
            "poplib.connect",
            "imaplib.open",
            "nntplib.connect",
            "telnetlib.Telnet.open",
        )
    },
    **{
        e: ("deny", _CTYPES)
        for e in (
            "ctypes.dlopen",
            "ctypes.dlsym",
            "ctypes.dlsym/handle",
            "ctypes.cdata",
            "ctypes.cdata/buffer",
            "ctypes.addressof",
            "ctypes.string_at",
            "ctypes.wstring_at",
        )
    },
    **{e: ("deny", _GC) for e in ("gc.get_objects", "gc.get_referrers", "gc.get_referents")},
    **{e: ("deny", _SIGNAL) for e in ("os.kill", "os.killpg", "signal.pthread_kill")},
    "os.chdir": ("deny", _CHDIR),
    "os.symlink": ("deny", _LINK),
    "os.link": ("deny", _LINK),
    "open": ("open", ""),
    "os.listdir": ("read", ""),
    "os.scandir": ("read", ""),
    **{
        e: ("write", "")
        for e in (
            "os.remove",
            "os.rename",
            "os.mkdir",
            "os.rmdir",
            "os.truncate",
            "os.chmod",
            "os.chown",
            "os.utime",
            "os.chflags",
            "os.lchflags",
            "os.setxattr",
            "os.removexattr",
            "shutil.rmtree",
            "shutil.move",
            "shutil.copytree",
        )
    },
    "import": ("import", ""),
}

# Extension modules that must not be loaded afresh (a fresh copy would undo what
# :func:`disarm_process_spawning` did, or give raw C access).
_REFUSED_IMPORTS = (
    "_posixsubprocess",
    "_ctypes",
    "_signal",
    "posix",
    "_xxsubinterpreters",
    "_testcapi",
    "_testinternalcapi",
)


def install_audit_hook(workdir: str, protected: Iterable[str]) -> None:
    """Refuse, with a PermissionError that says why, what learner code may not do while graded.

    ``workdir`` is the only place learner code may write to; ``protected`` are files and
    folders it may not read (the grader's source, solutions, other submissions, the output
    folder, the secret).
    """
    prot = tuple(sorted({os.path.normpath(p) for p in protected} | {os.path.realpath(p) for p in protected}))
    inodes = set()
    for path in prot:
        try:
            st = os.stat(path)
        except OSError:
            continue  # hidden by a mount (root), or absent: nothing to identify
        inodes.add((st.st_dev, st.st_ino))
    _install(
        frozenset(_RULES),
        tuple(_RULES),
        tuple(_RULES.values()),
        os.path.normpath(workdir),
        frozenset(prot),
        tuple(p.rstrip("/") + "/" for p in prot),
        frozenset(inodes),
        str(os.getpid()),
    )


def _install(
    watched: frozenset[str],
    names: tuple[str, ...],
    rules: tuple[tuple[str, str], ...],
    workdir: str,
    prot_exact: frozenset[str],
    prot_prefix: tuple[str, ...],
    prot_inodes: frozenset[tuple[int, int]],
    own_pid: str,
) -> None:
    writable_prefix = workdir + "/"

    # Every name below is a default argument: bound once, immutable, never looked up again.
    def hook(
        event,
        args,
        watched=watched,
        names=names,
        rules=rules,
        workdir=workdir,
        writable_prefix=writable_prefix,
        prot_exact=prot_exact,
        prot_prefix=prot_prefix,
        prot_inodes=prot_inodes,
        own_pid=own_pid,
        stat=os.stat,
        is_dir=stat_module.S_ISDIR,
        OSError=builtins.OSError,
        refused_imports=_REFUSED_IMPORTS,
        normpath=posix._path_normpath,
        fsdecode_bytes=bytes.decode,
        type=builtins.type,
        str=builtins.str,
        bytes=builtins.bytes,
        int=builtins.int,
        len=builtins.len,
        PermissionError=builtins.PermissionError,
        ImportError=builtins.ImportError,
        o_write=os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC,
        reference_message=REFERENCE_MESSAGE,
    ):
        if event not in watched:
            return
        kind, message = rules[names.index(event)]
        if kind == "deny":
            raise PermissionError(message)
        if kind == "import":
            name = args[0] if len(args) > 0 else None
            if type(name) is not str:
                return
            if name == "actgrader" or name.startswith("actgrader."):
                raise ImportError(reference_message)
            if name in refused_imports:
                raise PermissionError(f"loading the module {name} is not allowed while grading")
            return
        if kind == "open":
            paths = (args[0],) if len(args) > 0 else ()
            mode = args[1] if len(args) > 1 else None
            flags = args[2] if len(args) > 2 else 0
            low_level = type(mode) is not str  # os.open, which may be relative to a dir_fd
            if type(mode) is str:
                writing = "w" in mode or "a" in mode or "x" in mode or "+" in mode
            else:
                writing = type(flags) is int and (flags & o_write) != 0
        elif kind == "read":
            paths = (args[0],) if len(args) > 0 else ()
            writing = False
            low_level = True
        else:
            paths = args
            writing = True
            low_level = True
        for raw in paths:
            if raw is None or type(raw) is int or type(raw) is tuple or type(raw) is float or type(raw) is bool:
                continue  # a file descriptor, the working directory, or a non-path argument
            if type(raw) is bytes:
                raw = fsdecode_bytes(raw, "utf-8", "surrogateescape")
            if type(raw) is not str:
                raise PermissionError("while grading, give file paths as plain strings (str(path))")
            relative = not raw.startswith("/")
            if (
                relative
                and low_level
                and (raw == ".." or raw.startswith("../") or "/../" in raw or raw.endswith("/.."))
            ):
                # Relative to a directory descriptor the hook cannot see: no climbing out of it.
                raise PermissionError(f"while grading, relative paths may not climb out with '..' ({raw})")
            path = normpath(workdir + "/" + raw if relative else raw)
            if path.startswith("//"):
                path = path[1:]
            if writing:
                if path != workdir and not path.startswith(writable_prefix) and path != "/dev/null":
                    raise PermissionError(
                        f"writing outside your working directory is not allowed while grading ({raw})"
                    )
            if path in prot_exact or path.startswith(prot_prefix):
                raise PermissionError(f"reading {raw} is not allowed while grading")
            if path.startswith("/proc/"):
                first = path[6:].partition("/")[0]
                if first.isdigit() and first != own_pid:
                    raise PermissionError("looking at other processes is not allowed while grading")
            # Symlinks and aliases (/proc/self/root, a linked folder...): every existing prefix
            # of the path is resolved by the kernel and compared with the protected folders.
            end = 0
            while prot_inodes:
                end = path.find("/", end + 1)
                prefix = path if end < 0 else path[:end]
                try:
                    st = stat(prefix)
                except OSError:
                    break
                if (st.st_dev, st.st_ino) in prot_inodes:
                    raise PermissionError(f"reading {raw} is not allowed while grading")
                if end < 0:
                    break
            if low_level and not writing and kind == "open" and path != workdir:
                if not path.startswith(writable_prefix):
                    try:
                        st = stat(path)
                    except OSError:
                        st = None
                    if st is not None and is_dir(st.st_mode):
                        raise PermissionError(
                            f"opening folders outside your working directory is not allowed while grading ({raw})"
                        )

    sys.addaudithook(hook)


def disarm_process_spawning() -> None:
    """Replace the primitives that start or signal processes without raising an audit event.

    ``_posixsubprocess.fork_exec`` (behind subprocess and multiprocessing's spawn) forks
    without telling audit hooks, and ``pidfd_open``/``pidfd_send_signal`` signal without
    it; every other way to start a process (os.fork, os.exec*, os.posix_spawn, os.system,
    subprocess.Popen) or signal one (os.kill, os.killpg) raises an event the hook refuses.
    Run in the fork server before any child exists, so no child ever holds the originals
    (re-importing their modules afresh is refused by the hook).
    """
    import _posixsubprocess
    import subprocess

    def fork_exec(*args: object, **kwargs: object) -> None:
        raise PermissionError(_PROCESS)

    original = _posixsubprocess.fork_exec
    _posixsubprocess.fork_exec = fork_exec
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if value is original:
                namespace[key] = fork_exec
    subprocess._fork_exec = fork_exec  # type: ignore[attr-defined]

    # Signals by pidfd raise no audit event either (os.kill and os.killpg do).
    import _signal
    import signal

    def pidfd_refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(_SIGNAL)

    for module, name in (
        (posix, "pidfd_open"),
        (os, "pidfd_open"),
        (_signal, "pidfd_send_signal"),
        (signal, "pidfd_send_signal"),
    ):
        if hasattr(module, name):
            setattr(module, name, pidfd_refused)


class _Blocker:
    """A meta-path finder that refuses every ``actgrader`` module not already stubbed."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "actgrader" or name.startswith("actgrader."):
            raise ImportError(REFERENCE_MESSAGE, name=name)
        return None

    @staticmethod
    def invalidate_caches() -> None:
        return None


def install_import_stub(real_roots: Iterable[str]) -> None:
    """Make ``actgrader`` in this interpreter a stub with a no-op ``actgrader.notebook``.

    Removes the real package's modules from ``sys.modules``, its folder from ``sys.path``
    (and the path importer cache) and any editable-install finder from ``sys.meta_path``.
    The modules of the running worker stay alive (their functions are executing) but are
    no longer importable.
    """
    roots = tuple(os.path.realpath(r).rstrip("/") for r in real_roots)

    def under_root(entry: object) -> bool:
        if not isinstance(entry, str) or not entry:
            return False
        real = os.path.realpath(entry).rstrip("/")
        return any(real == r or real.startswith(r + "/") for r in roots)

    for name in [n for n in sys.modules if n == "actgrader" or n.startswith("actgrader.")]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not under_root(p)]
    for key in [k for k in sys.path_importer_cache if under_root(k)]:
        del sys.path_importer_cache[key]
    sys.meta_path[:] = [
        f
        for f in sys.meta_path
        if "__editable__" not in (getattr(f, "__module__", "") or "")
        and "__editable__" not in type(f).__module__
        and "editable" not in type(f).__name__.lower()
    ]

    package = types.ModuleType("actgrader", "Stand-in for the course's grader package while a submission is graded.")
    package.__path__ = []  # a package, so that ``import actgrader.notebook`` works
    package.__version__ = "grading"  # type: ignore[attr-defined]
    notebook = types.ModuleType("actgrader.notebook")
    exec(compile(_STUB_SOURCE, "<actgrader.notebook (grading stand-in)>", "exec"), notebook.__dict__)
    notebook.unwritten = unwritten  # type: ignore[attr-defined] - harmless: it only reads bytecode
    package.notebook = notebook  # type: ignore[attr-defined]
    sys.modules["actgrader"] = package
    sys.modules["actgrader.notebook"] = notebook
    sys.meta_path.insert(0, _Blocker())
