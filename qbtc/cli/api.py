"""``qbtc api``: serve the read-only REST API and live streams with uvicorn."""

from __future__ import annotations

import errno
import socket

import typer

from qbtc.cli.common import fail, settings_or_exit
from qbtc.config import Settings
from qbtc.urls import http_url, is_loopback


def public_bind_problem(host: str, settings: Settings, *, allow_public: bool = False) -> str | None:
    """Why serving on ``host`` is refused, or None.

    A non-loopback bind (``0.0.0.0``, ``::``, a LAN address) without ``QBTC_API_TOKEN``
    would serve the whole book to anyone who reaches the port: refused unless the user says
    so explicitly (``--allow-public`` or ``QBTC_API_ALLOW_PUBLIC=true``).
    """
    if is_loopback(host) or settings.api_token is not None:
        return None
    if allow_public or settings.api_allow_public:
        return None
    return (
        f"refusing to serve the API on {host} without a token: anyone who can reach it would "
        "read the book. Set QBTC_API_TOKEN, bind 127.0.0.1, or pass --allow-public "
        "(QBTC_API_ALLOW_PUBLIC=true) to serve it open on purpose"
    )


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
    allow_public: bool = typer.Option(
        False,
        "--allow-public",
        help="Serve on a non-loopback address without QBTC_API_TOKEN (anyone who can reach "
        "the port reads the book). Default: refused.",
    ),
) -> None:
    """Serve the read-only API (GET /api/..., /metrics, WebSockets /ws/...) over the lake."""
    settings = settings_or_exit(api_host=host, api_port=port)
    problem = public_bind_problem(settings.api_host, settings, allow_public=allow_public)
    if problem:
        fail(problem)
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

    typer.echo(f"qbtc API on {http_url(settings.api_host, settings.api_port)} (docs: /docs)")
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level=log_level)
