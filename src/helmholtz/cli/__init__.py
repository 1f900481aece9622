"""The `helmholtz` command. Each stage registers its commands from its own module.

Every `HelmholtzError` becomes one line on stderr and exit status 2; there is never a traceback for bad input.
"""

from __future__ import annotations

import sys

import typer

from helmholtz.errors import HelmholtzError

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


@app.callback()
def _root() -> None:
    """The Helmholtz method: how many bits of your sensor data does the task need?"""


_register()


@app.command("version")
def version_cmd() -> None:
    """Print the code version and the versions of the libraries that change results."""
    from helmholtz.provenance import code_version, library_versions

    print(f"helmholtz {code_version()}")
    for name, ver in library_versions().items():
        print(f"  {name} {ver}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning user errors into one line and exit status 2."""
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
