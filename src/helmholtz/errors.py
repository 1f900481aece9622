"""One exception tree. Every message says what is wrong, where, and how to fix it, on one line.

The CLI prints ``str(error)`` and exits with status 2; it never shows a traceback for these.
"""

from __future__ import annotations


class HelmholtzError(Exception):
    """Base of every error the user can cause and fix."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what, self.where, self.fix = what, where, fix
        parts = [what if where is None else f"{where}: {what}"]
        if fix:
            parts.append(f"fix: {fix}")
        super().__init__(" — ".join(parts))


class DataError(HelmholtzError):
    """A dataset is missing, malformed, truncated or inconsistent."""


class CodecError(HelmholtzError):
    """A codec level is out of range, or an encoder/decoder failed."""


class ConfigError(HelmholtzError):
    """A parameter, spec or option has a bad value."""


class StoreError(HelmholtzError):
    """The results store is unreadable, conflicts with the spec, or cannot be written."""


class HelmholtzWarning(RuntimeWarning):
    """Something the user should know that does not stop the work (e.g. the codec cache could not be written).

    The CLI prints it as one line, ``warning: …``, never as Python's two-line warning with a source line.
    """


def warn(message: str) -> None:
    """Issue a `HelmholtzWarning` attributed to the caller of the public function, not to this helper."""
    import warnings

    warnings.warn(message, HelmholtzWarning, stacklevel=3)
