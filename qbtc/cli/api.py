"""``qbtc api``: serve the read-only REST API and live streams with uvicorn."""

from __future__ import annotations

import errno
import socket

import typer

from qbtc.cli.common import fail, settings_or_exit


def port_is_free(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound now (checked before uvicorn starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def api_command(
    host: str = typer.Option(
        None, "--host", help="Bind address (default: QBTC_API_HOST, 127.0.0.1)."
    ),
    port: int = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default: QBTC_API_PORT, 8000)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the read-only API (GET /api/..., /metrics, WebSockets /ws/...) over the lake."""
    settings = settings_or_exit(api_host=host, api_port=port)
    from qbtc.api import create_app

    try:
        app = create_app(settings)
    except ValueError as exc:
        fail(str(exc))
    try:
        free = port_is_free(settings.api_host, settings.api_port)
    except OSError as exc:
        fail(f"cannot bind {settings.api_host}: {exc.strerror}; pass --host or set QBTC_API_HOST")
    if not free:
        fail(
            f"port {settings.api_port} on {settings.api_host} is in use: "
            "pass --port or set QBTC_API_PORT"
        )
    import uvicorn

    typer.echo(f"qbtc API on http://{settings.api_host}:{settings.api_port} (docs: /docs)")
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level=log_level)
