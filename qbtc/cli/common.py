"""Helpers shared by CLI commands: settings with clean errors, one-line failures."""

from __future__ import annotations

from typing import NoReturn

import typer
from pydantic import ValidationError

from qbtc.config import Settings, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear error line on stderr and exit with ``code`` (no traceback)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    """Settings from env/.env plus overrides; a bad value exits with the setting's name."""
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        fail(f"invalid setting {name} (QBTC_{name.upper()}): {message}")
