"""One sweep at a time per output folder: ``DIR/.helmholtz-sweep.lock``.

Two sweeps on one ``--out`` would train every run twice (each process sees the same runs as missing) and an
``--extend`` would retrain the other's levels. The second sweep is refused with one line that names the PID, host and
start time of the one that holds the folder.

The lock is an exclusive ``flock`` on the lock file, which records PID, host, start time and command. The kernel
drops the flock when its process dies, however it dies, so a lock left by ``kill -9`` never blocks the next run; the
file's stale content is simply overwritten. Where the file system has no flock (some network mounts) the lock falls
back to the recorded PID: stale when that PID no longer exists on this host. A lock held from another host
cannot be checked from here; the message says how to clear it. No torch.

Why a lock and not claims in the store: a sweep's runs are scheduled by one driver (local pool or Ray, which
already spreads runs over many GPUs and machines) and the store has one writer; a lock keeps that model whole.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

from helmholtz.errors import StoreError
from helmholtz.fsutil import pid_alive

LOCK_FILE = ".helmholtz-sweep.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    if not holder.get("pid"):
        return "another process"
    since = f" since {holder['started_at']}" if holder.get("started_at") else ""
    return f"PID {holder['pid']} on host {holder.get('host', '?')}{since}"


class SweepLock:
    """Exclusive use of a sweep folder for the life of this object (a context manager)."""

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.dir = Path(out_dir)
        self.path = self.dir / LOCK_FILE
        self._fd: int | None = None

    def _refuse(self, holder: dict) -> StoreError:
        pid = holder.get("pid")
        local = holder.get("host") == socket.gethostname()
        fix = f"wait for it to finish or stop it (kill {pid})" if pid and local else "wait for it to finish or stop it"
        if not local and holder.get("host"):
            fix += f"; if that process is gone, delete {self.path}"
        return StoreError(f"another sweep is using this folder: {_describe(holder)}"
                          f"{' (' + holder['command'] + ')' if holder.get('command') else ''}",
                          where=str(self.dir), fix=fix + ", or use another --out")

    def acquire(self) -> SweepLock:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as ex:
            raise StoreError(f"cannot create the output directory: {ex.strerror}", where=str(self.dir),
                             fix="choose a writable --out") from None
        for _ in range(10):   # the file may be removed by a finishing holder between our open and our lock
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            except OSError as ex:
                raise StoreError(f"cannot create the lock file: {(ex.strerror or str(ex)).lower()}", where=str(self.path),
                                 fix="choose a writable --out") from None
            try:
                if not self._lock(fd):
                    raise self._refuse(_holder(self.path))
                if not self._same_file(fd):
                    os.close(fd)
                    continue
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(fd)
                raise
            self._fd = fd
            self._record()
            return self
        raise StoreError("cannot take the sweep lock (it keeps changing)", where=str(self.path),
                         fix="another sweep is starting or stopping here; re-run in a moment")

    def _lock(self, fd: int) -> bool:
        """Take the flock; False when another process holds it. Falls back to the recorded PID without flock."""
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
            except OSError as ex:
                if ex.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    raise
        holder = _holder(self.path)
        if not holder.get("pid") or holder.get("pid") == os.getpid():
            return True
        if holder.get("host") != socket.gethostname():
            return False
        return not pid_alive(int(holder["pid"]))

    def _same_file(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def _record(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300] if sys.argv and sys.argv[0] else ""}
        data = (json.dumps(info) + "\n").encode()
        assert self._fd is not None
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)
            os.fsync(self._fd)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if self._same_file(self._fd):
                os.unlink(self.path)   # while still holding the flock: a waiting opener re-checks the inode
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None

    def __enter__(self) -> SweepLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(out_dir: str | os.PathLike) -> dict | None:
    """What the lock file of ``out_dir`` records (pid, host, started_at, command), or None without one."""
    path = Path(out_dir) / LOCK_FILE
    return _holder(path) or None if path.exists() else None
