"""What produced a result: code version, library versions and host. Recorded with every run."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path

import helmholtz

_LIBRARIES = (
    "torch", "numpy", "simplejpeg", "pillow", "lameenc", "pedalboard", "soundfile",
    "scipy", "kneed", "matplotlib", "ray", "pyfluidsynth",
)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The package version plus the git commit (and '+dirty') when run from a checkout."""
    root = Path(helmholtz.__file__).resolve().parents[2]
    version = helmholtz.__version__
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            check=True, capture_output=True, text=True, timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            check=True, capture_output=True, text=True, timeout=5,
        ).stdout.strip()
        return f"{version}+g{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return version


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that change results (missing ones are left out)."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def versions() -> tuple[str, dict[str, str]]:
    """The code version and the versions of the libraries that change results (`helmholtz version`)."""
    return code_version(), library_versions()


@functools.lru_cache(maxsize=1)
def _host() -> dict[str, str]:
    """Host name, OS, machine, CPU model and core count (fixed for the process: cached)."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": str(os.cpu_count() or 1),
    }


def host_info() -> dict[str, str]:
    """Host name, OS, machine, CPU model and core count, and the instruction set the CPU kernels are held to when
    they are (``kernel_caps``; the demos hold them to AVX2, so AVX2-only and AVX-512 CPUs give the same runs)."""
    import os

    info = dict(_host())
    caps = " ".join(f"{k}={os.environ[k]}" for k in KERNEL_CAPS if os.environ.get(k))
    if caps:
        info["kernel_caps"] = caps
    return info


#: environment variables that hold torch's CPU kernels (ATen) and oneDNN's to an instruction set
KERNEL_CAPS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")
