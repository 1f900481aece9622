"""Opening the results store's file, and SQLite's errors as one-line `StoreError`s. stdlib only, no torch.

`open_store` refuses what is not a helmholtz store (a folder, a FIFO, a foreign or empty file) before SQLite
touches it. A reader falls back to read-only access, then to an immutable snapshot, so a store in a read-only
folder (where SQLite cannot create its -shm/-wal files) is still readable; a writer gets no such fallback. Only
what SQLite itself calls a damaged or foreign file (CORRUPT, NOTADB) is called corrupt: cannot open, read-only,
permission, I/O, busy and full say so, since the file may be perfectly healthy.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Literal

from helmholtz.checks import check_regular_file
from helmholtz.errors import StoreError
from helmholtz.sweep.store_schema import check_or_create

STORE_FILE = "results.sqlite"
_SQLITE_MAGIC = b"SQLite format 3\x00"

# SQLite primary result codes (https://sqlite.org/rescode.html)
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_FULL = 13
_ACCESS_CODES = {3, 5, 6, 8, 10, 13, 14, 23}   # PERM, BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN, AUTH


def store_file(path: str | os.PathLike) -> Path:
    """``DIR`` → ``DIR/results.sqlite``; a path to an existing file or ending in .sqlite/.db is the file."""
    p = Path(path)
    if (p.exists() and not p.is_dir()) or p.suffix in (".sqlite", ".db", ".sqlite3"):   # a FIFO too: refused on open
        return p
    return p / STORE_FILE


def _sqlite_code(ex: BaseException) -> int | None:
    code = getattr(ex, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _sqlite_kind(ex: BaseException) -> Literal["corrupt", "access", "other"]:
    """'corrupt' only for what SQLite itself calls a damaged or foreign file; 'access' for cannot open, read-only,
    permission, I/O, busy or full: the file may be perfectly healthy."""
    code = _sqlite_code(ex)
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return "corrupt"
    if code in _ACCESS_CODES:
        return "access"
    text = str(ex).lower()
    if "malformed" in text or "not a database" in text:
        return "corrupt"
    if any(w in text for w in ("readonly", "read-only", "unable to open", "permission", "locked", "disk i/o")):
        return "access"
    return "other"


def _has_pending_wal(path: Path) -> bool:
    try:
        return path.with_name(path.name + "-wal").stat().st_size > 0
    except OSError:
        return False


def _access_error(ex: BaseException | None, *, where: str, pending_wal: bool, new: bool = False) -> StoreError:
    reason = str(ex) if ex is not None else "unknown error"
    if new:
        return StoreError(f"cannot create the results store ({reason})", where=where,
                          fix="choose a writable --out with free disk space")
    if pending_wal:
        return StoreError(
            f"cannot open the results store ({reason}); its folder is read-only and results.sqlite-wal holds "
            "runs not yet merged into the file", where=where,
            fix="open it where the folder is writable (copy the whole folder), or let the sweep that writes it finish",
        )
    return StoreError(f"cannot open the results store ({reason}); the file itself is not damaged", where=where,
                      fix="check the permissions of the folder and the file (SQLite needs to create files beside it)")


def _corrupt_error(ex: BaseException, *, where: str) -> StoreError:
    return StoreError(f"the results store is corrupt ({ex})", where=where, fix="restore it from a backup, or use a new --out")


def write_error(ex: sqlite3.DatabaseError, *, where: str) -> StoreError | None:
    """The one-line `StoreError` for an SQLite error raised while writing the store at ``where``; None for an
    error that is not about the file (the caller re-raises it as it is)."""
    if _sqlite_kind(ex) == "corrupt":
        return _corrupt_error(ex, where=where)
    if not isinstance(ex, sqlite3.OperationalError):
        return None
    fix = ("free some disk space and re-run: finished runs are kept" if _sqlite_code(ex) == _SQLITE_FULL
           else "check the permissions of the folder and the file, and the free disk space")
    return StoreError(f"cannot write the results store: {ex}", where=where, fix=fix)


def _check_file(path: Path, *, create: bool) -> bool:
    """Refuse what at ``path`` is no store before SQLite opens it, or make its folder; returns whether it exists."""
    where = str(path)
    exists = path.exists()
    if not exists and not create:
        raise StoreError(
            "no results store here", where=where,
            fix="point at the --out directory of a `helmholtz sweep`, or run one first",
        )
    if exists:
        if path.is_dir():
            raise StoreError("is a directory, not a results file", where=where, fix="move it away or use a new --out")
        # a FIFO or device named results.sqlite would block the read below forever
        check_regular_file(path, error=StoreError, fix="move it away, or point at a sweep's --out directory")
        try:
            with open(path, "rb") as f:
                head = f.read(16)
        except OSError as ex:
            raise StoreError(f"cannot read the results store: {(ex.strerror or str(ex)).lower()}", where=where,
                             fix="check the permissions of the file and its folder") from None
        if head and head != _SQLITE_MAGIC:
            raise StoreError("not a helmholtz results store (not an SQLite file)", where=where, fix="point at a sweep's --out directory, or use a new --out")
        if not head and not create:
            raise StoreError("the results store is empty", where=where, fix="re-run the sweep with this --out to create it")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as ex:
            raise StoreError(f"cannot create the output directory: {ex.strerror}", where=str(path.parent), fix="choose a writable --out") from None
    return exists


def _connect(path: Path, mode: str, *, create: bool) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro&immutable=1" if mode == "immutable" else f"file:{path}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
    try:
        check_or_create(conn, create=create, where=str(path))
        if mode in ("rw", "rwc"):
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a committed run survives a crash of the machine too
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def open_store(path: Path, *, create: bool) -> tuple[sqlite3.Connection, bool]:
    """The store file ``path`` → (an autocommit connection whose rows are `sqlite3.Row`, whether it is read-only).
    ``create=True`` makes the folder and the file if missing. Anything amiss raises a one-line `StoreError` and
    leaves the file untouched."""
    exists = _check_file(path, create=create)
    modes = ["rwc"] if create else ["rw", "ro", "immutable"]
    last: sqlite3.Error | None = None
    for mode in modes:
        if mode == "immutable" and _has_pending_wal(path):
            break   # an immutable view would miss the committed runs still in the -wal file
        try:
            return _connect(path, mode, create=create), mode in ("ro", "immutable")
        except sqlite3.Error as ex:
            if _sqlite_kind(ex) == "corrupt":
                raise _corrupt_error(ex, where=str(path)) from None
            last = ex
            if _sqlite_kind(ex) != "access":
                break
    raise _access_error(last, where=str(path), pending_wal=_has_pending_wal(path), new=not exists) from None
