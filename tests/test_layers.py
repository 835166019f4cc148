"""The layer contract of the package, read from the source (every import, at any depth).

flask_orcid has three layers and imports run only downwards: the Flask layer (the top-level
modules) -> sync/ -> protocol/ -> errors/signals. The emulator imports nothing from the rest.
No module graph may have a cycle, and no import may sit inside a function (an import moved
into a function is how cycles hide). `.importlinter` adds the bans on Flask, SQLAlchemy and
friends in the lower layers; `make test` runs both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("flask_orcid", "example_repository")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module of ours, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    nested = {id(inner) for f in functions for inner in ast.walk(f) if inner is not f}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                out.append((target, node.lineno, id(node) in nested))
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    if module.startswith("flask_orcid.emulator"):
        return "emulator"
    if module == "flask_orcid.testing":
        return "testing"  # the pytest plugin for hosts: the emulator only, over HTTP
    if module.startswith("flask_orcid.protocol"):
        return "protocol"
    if module.startswith("flask_orcid.sync"):
        return "sync"
    if module in ("flask_orcid.errors", "flask_orcid.signals"):
        return "base"
    if module == "flask_orcid":
        return "api"
    if module.startswith("flask_orcid."):
        return "flask"
    return "example"


#: what each layer may import, besides itself
ALLOWED = {
    "base": {"base"},
    "protocol": {"protocol", "base"},
    "sync": {"sync", "protocol", "base"},
    "flask": {"flask", "sync", "protocol", "base"},
    "api": {"flask", "sync", "protocol", "base"},
    "emulator": {"emulator"},
    "testing": {"testing", "emulator"},
    "example": {"example", "api", "flask", "sync", "protocol", "base"},
}


def test_the_graph_covers_both_packages():
    assert len(MODULES) > 50
    assert any(_layer(m) == "sync" for m in MODULES)
    assert any(_layer(m) == "protocol" for m in MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_only_downwards(name):
    layer = _layer(name)
    wrong = [f"{target} (line {line})" for target, line, _ in GRAPH[name]
             if _layer(target) not in ALLOWED[layer]]
    assert not wrong, f"{name} ({layer} layer) imports upwards or sideways: {wrong}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_inside_a_function(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    inside = [
        f"{ast.unparse(node)} (line {node.lineno})"
        for function in ast.walk(tree) if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert not inside, f"{name} imports inside a function: {inside}"


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w, _line, _nested in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle():
    GRAPH["flask_orcid.protocol.values"].append(("flask_orcid.protocol.model", 0, False))
    try:
        assert ["flask_orcid.protocol.model", "flask_orcid.protocol.values"] in [
            [m for m in c if m in ("flask_orcid.protocol.model", "flask_orcid.protocol.values")]
            for c in _cycles()
        ]
    finally:
        GRAPH["flask_orcid.protocol.values"].pop()
