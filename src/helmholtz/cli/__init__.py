"""The `helmholtz` command. Each stage registers its commands from its own module; each command parses its
options, calls one function of `helmholtz.api`, and prints. The last room of the pipeline: cli imports
`helmholtz.api`, `helmholtz.errors` and its own modules, nothing else.

Exit status: 0 done; 1 a sweep finished but some runs failed (they are recorded and retried on re-run); 2 bad input
or an environment problem (every `HelmholtzError`: one line on stderr, never a traceback); 130 interrupted.
A `HelmholtzWarning` prints as one line, ``warning: …``.
"""

from __future__ import annotations

import sys
import warnings

import typer

from helmholtz.errors import HelmholtzError, HelmholtzWarning

_INTERRUPTED = "interrupted: finished runs are stored; re-run the same command to resume"

app = typer.Typer(
    name="helmholtz",
    help="The Helmholtz method: how many bits of your sensor data does the task need?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from helmholtz.cli import (
        audio_cmds,
        codec_cmds,
        data_cmds,
        repair_cmds,
        report_cmds,
        sweep_cmds,
        train_cmds,
    )

    for module in (data_cmds, codec_cmds, train_cmds, sweep_cmds, repair_cmds, report_cmds, audio_cmds):
        module.register(app)
    report_cmds.register_plan(app)
    from helmholtz.cli import capacity_cmds
    capacity_cmds.register(app)


@app.callback()
def _root() -> None:
    """The Helmholtz method: how many bits of your sensor data does the task need?"""


_register()


@app.command("version")
def version_cmd() -> None:
    """Print the code version and the versions of the libraries that change results."""
    from helmholtz import api

    code, libraries = api.version()
    print(f"helmholtz {code}")
    for name, ver in libraries.items():
        print(f"  {name} {ver}")


def _one_line_warnings() -> None:
    """Our warnings as one line on stderr, not Python's two lines with a source line; others as Python shows them."""
    default = warnings.showwarning
    if getattr(default, "helmholtz_one_line", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - the warnings hook's API
        if isinstance(category, type) and issubclass(category, HelmholtzWarning):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            default(message, category, filename, lineno, file, line)

    show.helmholtz_one_line = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning user errors into one line and exit status 2."""
    _one_line_warnings()
    try:
        # typer (non-standalone) returns the exit code of `typer.Exit` and of Ctrl-C instead of raising it
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:
            if rc == 130:
                print(_INTERRUPTED, file=sys.stderr)
            sys.exit(rc)
    except HelmholtzError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(_INTERRUPTED, file=sys.stderr)
        sys.exit(130)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(1)
    except Exception as ex:
        # usage errors of typer's click carry their own exit status (2) and a one-line message
        if hasattr(ex, "format_message") and hasattr(ex, "exit_code"):
            hint = ""
            ctx = getattr(ex, "ctx", None)
            if ctx is not None:
                hint = f" — see `{ctx.command_path} --help`"
            if ex.format_message():
                print(f"error: {ex.format_message()}{hint}", file=sys.stderr)
            sys.exit(ex.exit_code)
        raise
