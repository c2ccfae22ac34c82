"""One name, one meaning: no public function or class is defined in two modules.

A reader should never need the import line to know which ``Decision`` or ``summary`` is meant,
so each public top-level name of ``qbtc`` and ``flows`` is defined once (``main`` and ``run``,
entry points by convention, excepted).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONVENTIONAL = {"main", "run"}


def _public_definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for package in ("qbtc", "flows"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                if isinstance(node, kinds) and not node.name.startswith("_"):
                    found.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    return found


def test_each_public_name_is_defined_in_one_module():
    clashes = {
        name: paths
        for name, paths in _public_definitions().items()
        if len(paths) > 1 and name not in CONVENTIONAL
    }
    assert not clashes, f"public names defined in more than one module (rename one): {clashes}"


def test_the_check_sees_the_api_models_and_the_library_classes():
    found = _public_definitions()
    assert found["SignalRow"] == ["qbtc/api/models/book.py"]
    assert found["Signal"] == ["qbtc/signals/model.py"]
