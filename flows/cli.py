"""The installed ``qbtc`` entry point: library commands plus orchestration commands."""

from __future__ import annotations

from qbtc.cli import app


def main() -> None:
    app()
