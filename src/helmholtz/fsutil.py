"""Atomic writes of files and folders, and the clean-up of the temporaries a killed process leaves behind.

Every file the tool writes (the report, exports, `compress --out`, the codec cache) goes through here: it is
written to a temporary beside the target, flushed, then renamed over the target. A reader sees the old version or
the new one, never a part of one. A full disk, a read-only folder or any other `OSError` raises one `StoreError`
line naming the target, and leaves the target exactly as it was.

Temporaries are named ``.NAME.tmp-HOST-PID-TOKEN``. `clean_stale_temps` removes those whose process is gone (same
host), those older than the process that now holds their PID (the PID was reused), and those of other hosts after a
day; each atomic write runs it on the folder it writes into, so a ``kill -9`` leaves its temporary only until the
next write there. Never imports torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from helmholtz.errors import StoreError

_TAG = ".tmp-"
_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"
#: a temporary written by another host (shared filesystem) is only judged by its age
FOREIGN_MAX_AGE_S = 24 * 3600.0
#: slack between a process's start time (1/100 s ticks, boot time in whole seconds) and a file's mtime
_CLOCK_SLACK_S = 2.0


# ── naming and staleness ─────────────────────────────────────────────────────────────────────────────────────────

def temp_path(target: str | os.PathLike) -> Path:
    """A fresh temporary name beside ``target``: ``.NAME.tmp-HOST-PID-TOKEN``."""
    target = Path(target)
    return target.parent / f".{target.name}{_TAG}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def parse_temp(name: str) -> tuple[str, int] | None:
    """(host, pid) of a temporary made by `temp_path`, or None for any other name."""
    if not name.startswith(".") or _TAG not in name:
        return None
    parts = name.rpartition(_TAG)[2].rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def pid_alive(pid: int) -> bool:
    """True when a process with this PID exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _boot_time() -> float | None:
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc; None where that is unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2:].split()[19])   # field 22, starttime, in clock ticks since boot
        boot = _boot_time()
        return None if boot is None else boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def is_stale(path: Path) -> bool:
    """True for a temporary of `temp_path` whose writer is gone: its PID is dead (this host), or the process now
    holding the PID started after the file was last written, or it comes from another host and is a day old."""
    parsed = parse_temp(path.name)
    if parsed is None:
        return False
    host, pid = parsed
    try:
        mtime = path.lstat().st_mtime
    except OSError:
        return False
    if host != _HOST:
        return time.time() - mtime > FOREIGN_MAX_AGE_S
    if pid == os.getpid():
        return False
    if not pid_alive(pid):
        return True
    started = process_start_time(pid)
    return started is not None and mtime < started - _CLOCK_SLACK_S


def clean_stale_temps(directory: str | os.PathLike, *, also: Callable[[Path], bool] | None = None) -> list[Path]:
    """Remove the stale temporaries (files or folders) in ``directory``; ``also`` marks more names as stale.
    Returns what was removed. Never raises: a folder that cannot be listed or cleaned is left alone."""
    removed: list[Path] = []
    try:
        with os.scandir(directory) as it:
            entries = list(it)
    except OSError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        if not (is_stale(path) or (also is not None and also(path))):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


# ── errors ───────────────────────────────────────────────────────────────────────────────────────────────────────

def write_error(ex: OSError, target: str | os.PathLike, what: str) -> StoreError:
    """One line for an OSError while writing ``what`` to ``target``: why, and what to do."""
    code = ex.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        reason, fix = "no space left on the device", "free some disk space or choose another --out"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason, fix = "permission denied (read-only folder or file system)", "choose a writable --out"
    elif code == errno.EFBIG:
        reason, fix = "file too large for this file system or limit", "choose another --out"
    else:
        reason, fix = (ex.strerror or type(ex).__name__).lower(), "check the path, its permissions and the free space"
    return StoreError(f"cannot write {what}: {reason}; nothing there was changed", where=str(target), fix=fix)


def check_parent(target: Path, *, what: str, make: bool = False) -> None:
    """The folder a target goes into must exist already (an export does not invent a folder tree from a typo), or
    with ``make`` is created."""
    parent = target.parent
    if make and not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as ex:
            raise write_error(ex, parent, what) from None
    if not parent.exists():
        raise StoreError(f"cannot write {what}: the folder {parent} does not exist", where=str(target),
                         fix=f"create it first (mkdir -p {parent}) or choose another path")
    if not parent.is_dir():
        raise StoreError(f"cannot write {what}: {parent} is not a folder", where=str(target),
                         fix="choose another path")


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable; file systems that refuse to fsync a folder are ignored."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


# ── files ────────────────────────────────────────────────────────────────────────────────────────────────────────

@contextmanager
def _file_slot(target: Path, *, what: str, make_parents: bool = False) -> Iterator[Path]:
    """The shared part of `atomic_file` and `atomic_path`: check the target, clear stale temporaries, yield a fresh
    temporary path, and move it over ``target`` once the body (which writes and fsyncs it) succeeded. On any
    OSError the temporary is removed and a `StoreError` is raised; on any other error it is removed too."""
    check_parent(target, what=what, make=make_parents)
    if target.is_dir():
        raise StoreError(f"cannot write {what}: it is a folder", where=str(target), fix="give a file path")
    clean_stale_temps(target.parent)
    tmp = temp_path(target)
    try:
        yield tmp
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except OSError as ex:
        _unlink(tmp)
        raise write_error(ex, target, what) from None
    except BaseException:
        _unlink(tmp)
        raise


@contextmanager
def atomic_file(target: str | os.PathLike, *, what: str = "the file", text: bool = False,
                newline: str | None = None, make_parents: bool = False) -> Iterator[IO[Any]]:
    """Write ``target`` atomically through the file object this yields (binary, or text in UTF-8).

    The file gets the usual permissions (0666 minus the umask), not mkstemp's 0600. On any OSError the temporary is
    removed and a `StoreError` is raised; the target keeps its previous content (or stays absent). The target's
    folder must exist, unless ``make_parents``.
    """
    with _file_slot(Path(target), what=what, make_parents=make_parents) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        mode = "w" if text else "wb"
        with os.fdopen(fd, mode, encoding="utf-8" if text else None, newline=newline if text else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


@contextmanager
def atomic_path(target: str | os.PathLike, *, what: str = "the file") -> Iterator[Path]:
    """Like `atomic_file`, for writers that want a path (pyarrow, numpy): write the yielded temporary path."""
    with _file_slot(Path(target), what=what) as tmp:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(target: str | os.PathLike, data: bytes, *, what: str = "the file") -> Path:
    with atomic_file(target, what=what) as fh:
        fh.write(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str, *, what: str = "the file") -> Path:
    with atomic_file(target, what=what, text=True) as fh:
        fh.write(text)
    return Path(target)


# ── folders ──────────────────────────────────────────────────────────────────────────────────────────────────────

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE). False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_path(src: Path, dest: Path) -> None:
    """Put ``src`` (a file or folder) at ``dest``, replacing whatever is there, in one step where possible."""
    if not os.path.lexists(dest):
        os.rename(src, dest)
        return
    if not dest.is_dir() and not src.is_dir():
        os.replace(src, dest)
        return
    if _exchange(src, dest):
        _unlink(src)   # now holds the previous content
        return
    old = temp_path(dest)
    os.rename(dest, old)
    try:
        os.rename(src, dest)
    except OSError:
        os.rename(old, dest)
        raise
    _unlink(old)


@contextmanager
def atomic_dir(target: str | os.PathLike, *, what: str = "the folder", merge: bool = False,
               make_parents: bool = False) -> Iterator[Path]:
    """Build a folder in the yielded temporary and put it in place of ``target`` only when the body succeeded.

    ``merge=False`` replaces the whole folder (one atomic swap on Linux). ``merge=True`` replaces only the entries
    the new folder has and keeps the others (a user's files beside ours). On any OSError the temporary is removed,
    ``target`` is untouched, and a `StoreError` is raised.
    """
    target = Path(target)
    check_parent(target, what=what, make=make_parents)
    if target.exists() and not target.is_dir():
        raise StoreError(f"cannot write {what}: it exists and is not a folder", where=str(target),
                         fix="give a folder path, or move the file away")
    clean_stale_temps(target.parent)
    tmp = temp_path(target)
    try:
        tmp.mkdir()
        yield tmp
        if merge and target.is_dir():
            for entry in sorted(tmp.iterdir()):
                replace_path(entry, target / entry.name)
            tmp.rmdir()
        else:
            replace_path(tmp, target)
        fsync_dir(target.parent)
    except OSError as ex:
        _unlink(tmp)
        raise write_error(ex, target, what) from None
    except BaseException:
        _unlink(tmp)
        raise
