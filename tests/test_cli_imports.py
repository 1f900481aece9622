"""The CLI is a thin skin over `helmholtz.api`: it imports the API, the errors and its own modules, nothing else, and
each command makes one API call (parse, call, print). Read from the source, so a new command is held to it too."""

from __future__ import annotations

import ast
from pathlib import Path

import helmholtz.cli

CLI = Path(helmholtz.cli.__file__).parent
ALLOWED = ("helmholtz.api", "helmholtz.errors", "helmholtz.cli")
#: `results` shows a table, writes an export or writes the predictions: one API call on each of those paths
BRANCHES = {"results_cmd": {"results_table", "export", "export_predictions"}}


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [f"{node.module}.{a.name}" if node.module == "helmholtz" else node.module for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return [n for n in names if n.split(".")[0] == "helmholtz"]


def _commands(tree: ast.AST) -> list[ast.FunctionDef]:
    def is_command(dec: ast.expr) -> bool:
        return isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "command"

    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and any(map(is_command, n.decorator_list))]


def _api_calls(tree: ast.AST, helpers: dict[str, ast.FunctionDef], seen: set[str] | None = None) -> set[str]:
    """The `api.X` functions a command calls, through the module's own helper functions."""
    seen = set() if seen is None else seen
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "api":
            calls.add(node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers \
                and node.func.id not in seen:
            seen.add(node.func.id)
            calls |= _api_calls(helpers[node.func.id], helpers, seen)
    return calls


def test_the_cli_imports_only_the_api_the_errors_and_itself():
    bad = []
    for path in sorted(CLI.glob("*.py")):
        for name in _imports(ast.parse(path.read_text())):
            if not name.startswith(ALLOWED):
                bad.append(f"{path.name}: {name}")
    assert not bad, "the CLI must go through helmholtz.api: " + "; ".join(bad)


def test_every_command_is_one_api_call():
    commands = {}
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        for cmd in _commands(tree):
            commands[cmd.name] = _api_calls(cmd, helpers)
    assert len(commands) >= 20   # version … capacity measure: a command not found here would escape the test
    for name, calls in commands.items():
        assert calls, f"{name} calls no API function"
        assert calls == BRANCHES.get(name, calls) and (len(calls) == 1 or name in BRANCHES), (name, calls)


def test_the_import_reader_sees_a_stage_import():
    tree = ast.parse("def f():\n    from helmholtz.sweep.store import Store\n    from helmholtz import api\n")
    assert _imports(tree) == ["helmholtz.sweep.store", "helmholtz.api"]
