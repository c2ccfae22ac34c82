"""Warnings are errors: the pytest configuration ignores only named third-party warnings.

``filterwarnings`` starts with ``error``; every ``ignore`` names the warning's message and whose
it is, the third-party module that warns or the third party's own warning class (never a
whole category, never our own packages), with a comment above it saying why it is not ours.
A warning our code raises is fixed, not ignored.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
OURS = ("qbtc", "flows", "tests", "deployments")


def _filters() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    return list(config["tool"]["pytest"]["ini_options"]["filterwarnings"])


def test_warnings_are_errors_first():
    assert _filters()[0] == "error"


def test_every_ignore_names_a_message_and_whose_warning_it_is():
    for entry in _filters()[1:]:
        action, message, category, module = [*entry.split(":"), "", "", ""][:4]
        assert action == "ignore", entry
        assert message.strip(), f"{entry!r} ignores a whole category: name the message"
        assert category.strip(), f"{entry!r} names no warning category"
        # whose: the module that warns, or a warning class of the third party's own
        assert module.strip() or "." in category, f"{entry!r}: say whose warning it is"
        assert not module.startswith(OURS), f"{entry!r} hides our own warning: fix it instead"
        assert not category.startswith(OURS), f"{entry!r} hides our own warning: fix it instead"


def test_every_ignore_says_why_in_a_comment():
    lines = PYPROJECT.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith('"ignore:'):
            above = lines[number - 1].strip()
            assert above.startswith("#"), f"no comment above {line.strip()}"
