"""The project's modules import one another without cycles (module-level and deferred imports).

A deferred import inside a function still ties two modules together: a cycle through one is
a design knot, not a speed trick. Imports under ``if TYPE_CHECKING:`` never run and are left
out, and so are packages' ``__init__`` re-exports (a package re-exporting its own modules is
not a cycle between concerns). A deferred import marked ``# import-cycle: deliberate`` (with
its reason beside it) is left out too; the test lists them, so each one stays visible.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("qbtc", "flows", "deployments")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    out: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                pending.extend(child.orelse)
                continue
            pending.append(child)
    return out


MARK = "# import-cycle: deliberate"


def _deliberate(path: Path, node: ast.AST) -> bool:
    line = path.read_text(encoding="utf-8").splitlines()[getattr(node, "lineno", 1) - 1]
    return MARK in line


def _graph() -> dict[str, set[str]]:
    files = {
        _module_name(p): p
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    }
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import | ast.ImportFrom) and _deliberate(path, node):
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_deliberate_cycles_are_few_and_named():
    marked = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if MARK in path.read_text(encoding="utf-8")
    ]
    assert marked == ["qbtc/lake/integrity.py"]
