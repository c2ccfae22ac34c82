"""The read-only REST API and live streams of qbtc (FastAPI): ``create_app(settings)``."""

from qbtc.api.app import create_app

__all__ = ["create_app"]
