"""Validators shared by every entry point (CLI, Python API, specs), so a value is judged the same everywhere.

Each raises a one-line `ConfigError` that names the option, the bound and the value given. Pure Python.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

from helmholtz.errors import ConfigError, DataError, HelmholtzError

#: seeds feed numpy's and torch's generators and SQLite INTEGER columns: an unsigned 32-bit range fits all three
SEED_MAX = 2**32 - 1
#: more seeds than this per grid cell is a typo (a count of 10**11 tried to allocate the whole range)
SEEDS_MAX_COUNT = 10_000
#: audio bounds: 1 kHz .. 192 kHz (the highest common studio rate), clips of at most 10 minutes
SAMPLE_RATE_RANGE = (1_000, 192_000)
DURATION_MAX_S = 600.0
#: bootstrap draws: 10**5 already resolves a 95 % interval to well below 0.1 pp; more only costs minutes
BOOTSTRAP_MAX = 100_000


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_seed(value: object, *, option: str) -> int:
    """A seed: an integer in 0..2³²−1."""
    if not _is_int(value) or not 0 <= int(value) <= SEED_MAX:
        raise ConfigError(f"{option} must be an integer in 0..{SEED_MAX}; got {value!r}", fix=f"e.g. {option} 0")
    return int(value)


def check_int(value: object, *, option: str, lo: int, hi: int | None = None, example: int | None = None) -> int:
    """An integer in lo..hi (hi None: no upper bound)."""
    ok = _is_int(value) and int(value) >= lo and (hi is None or int(value) <= hi)
    if not ok:
        bound = f"in {lo}..{hi}" if hi is not None else f"≥ {lo}"
        raise ConfigError(f"{option} must be an integer {bound}; got {value!r}",
                          fix=f"e.g. {option} {example if example is not None else lo}")
    return int(value)


def check_fraction(value: object, *, option: str, example: float = 0.1) -> float:
    """A fraction strictly between 0 and 1."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 < float(value) < 1.0:
        raise ConfigError(f"{option} must be a fraction in (0, 1); got {value!r}", fix=f"e.g. {option} {example}")
    return float(value)


def check_sample_rate(value: object, *, option: str = "--sample-rate") -> int:
    lo, hi = SAMPLE_RATE_RANGE
    return check_int(value, option=option, lo=lo, hi=hi, example=44100)


def check_duration(value: object, *, option: str = "--duration") -> float:
    """A clip length in seconds: positive, finite, at most `DURATION_MAX_S`."""
    if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(float(value))
            or not 0.0 < float(value) <= DURATION_MAX_S):
        raise ConfigError(f"{option} must be a number of seconds in (0, {DURATION_MAX_S:g}]; got {value!r}",
                          fix=f"e.g. {option} 2")
    return float(value)


def check_bootstrap(value: object, *, option: str = "--bootstrap") -> int:
    """Bootstrap draws: 1..`BOOTSTRAP_MAX` (10**8 draws once ran for two minutes without a word)."""
    if not _is_int(value) or not 1 <= int(value) <= BOOTSTRAP_MAX:
        raise ConfigError(f"{option} must be ≥ 1 draw and at most {BOOTSTRAP_MAX}; got {value!r}",
                          fix=f"e.g. {option} 1000 (more draws only make the interval's ends less noisy)")
    return int(value)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def idle_cpus() -> int:
    """CPUs of this process' affinity that other work is not using right now (the 1-minute load average taken off),
    at least 1. Torch's intra-op threads wait for each other at every operation, so a thread that shares its core with
    another busy process stalls all of them: on a 2-core machine with one core busy, 2 threads ran a small model 60×
    slower than 1 (measured: 86 s against 1.3 s per epoch)."""
    import os

    cpus = available_cpus()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not on Unix
        return cpus
    return max(1, min(cpus, int(cpus - busy + 0.5)))


def available_memory_bytes() -> int | None:
    """Memory available to new allocations (MemAvailable on Linux), or None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import os

    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_regular_file(path: object, *, fix: str, error: type[HelmholtzError] = DataError,
                       allow_dir: bool = False) -> Path:
    """An input path that exists and is a regular file (or, with ``allow_dir``, a folder), before anything opens it.

    Every command that reads a file asks here (a results table, a sweep's store, a dataset file): opening a FIFO
    blocks until some writer appears, and a device or socket never ends, so `analyze fifo.csv` would hang without a
    word. Raises ``error`` (a `HelmholtzError` class) naming the path and what it is instead."""
    import stat

    p = Path(os.fspath(path))
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise error("no such file", where=str(p), fix=fix) from None
    except OSError as ex:
        raise error(f"cannot read it: {(ex.strerror or str(ex)).lower()}", where=str(p), fix=fix) from None
    if stat.S_ISREG(mode) or (allow_dir and stat.S_ISDIR(mode)):
        return p
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a plain file")
    wanted = "a regular file or folder" if allow_dir else "a regular file"
    raise error(f"is {kind}, not {wanted} (reading it could block or never end)", where=str(p), fix=fix)


def split_list(text: str, *, option: str, example: str) -> list[str]:
    """'5, 10,20' → ['5', '10', '20']: the one comma-list splitter of every list option. An empty list is
    "OPTION is empty"; an empty item ('5,,20', a trailing comma) is refused with its position, never dropped."""
    items = [p.strip() for p in str(text).split(",")]
    if items == [""]:
        raise ConfigError(f"{option} is empty", fix=f"e.g. {option} {example}")
    for i, item in enumerate(items):
        if not item:
            raise ConfigError(f"{option} got {text!r}: item {i + 1} of {len(items)} is empty",
                              fix=f"remove the extra comma, e.g. {option} {example}")
    return items


def parse_int_list(text: str, *, option: str, allow_none: bool = False) -> list[int | None]:
    """'5,10,20,none' → [5, 10, 20, None]. Raises ConfigError naming the option and the bad item."""
    out: list[int | None] = []
    for item in split_list(text, option=option, example="5,10,20"):
        if allow_none and item.lower() in ("none", "orig", "original"):
            out.append(None)
            continue
        try:
            out.append(int(item))
        except ValueError:
            allowed = "integers" + (" or 'none'" if allow_none else "")
            raise ConfigError(f"{option} got {item!r}; expected comma-separated {allowed}", fix=f"e.g. {option} 5,10,20") from None
    if not out:
        raise ConfigError(f"{option} is empty", fix=f"e.g. {option} 5,10,20")
    return out


def parse_shape(text: str, *, option: str = "--input-shape") -> tuple[int, int, int]:
    """'3x32x32' (or '3×32×32', '3,32,32') → (3, 32, 32). Raises ConfigError naming the option."""
    import re

    parts = [p for p in re.split(r"[x×,\s]+", text.strip().lower()) if p]
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ConfigError(f"{option} got {text!r}; expected C×H×W as three positive integers",
                          fix=f"e.g. {option} 3x32x32")
    c, h, w = (int(p) for p in parts)
    return c, h, w


def parse_float_list(text: str, *, option: str, example: str) -> list[float]:
    """'0.05,0.1,1' → [0.05, 0.1, 1.0]. Raises ConfigError naming the option."""
    try:
        return [float(v) for v in split_list(text, option=option, example=example)]
    except ValueError:
        raise ConfigError(f"{option} got {text!r}; expected comma-separated numbers", where=option,
                          fix=f"e.g. {option} {example}") from None
