"""Every third-party module the project imports is a declared dependency of pyproject.toml."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("qbtc", "flows", "deployments")
FIRST_PARTY = set(PACKAGES) | {"tests"}


def _imported_modules() -> dict[str, str]:
    """Top-level module -> first file importing it, over the project's packages."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        names.add(_normalise(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]))
    return names


def test_every_imported_third_party_module_is_declared():
    declared = _declared()
    distributions = packages_distributions()
    missing = []
    for module, where in _imported_modules().items():
        if module in FIRST_PARTY or module in sys.stdlib_module_names:
            continue
        owners = {_normalise(d) for d in distributions.get(module, [])}
        if not owners & declared:
            missing.append(f"{module} (imported in {where}; from {sorted(owners) or '?'})")
    assert not missing, "declare in pyproject.toml: " + ", ".join(missing)
