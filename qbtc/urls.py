"""Addresses and URLs: loopback tests, clear-text guards, and URLs printed right for IPv6."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and any loopback address (127.0.0.0/8, ``::1``)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secure_or_loopback(url: str) -> bool:
    """True for an ``https://`` URL, or an ``http://`` one to a loopback host.

    Secrets (API keys, tokens) may travel only over such URLs: plain HTTP elsewhere would
    send them in clear text.
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback(parts.hostname or "")


def http_url(host: str, port: int, path: str = "") -> str:
    """``http://host:port/path`` with an IPv6 host in brackets (``http://[::1]:8000``).

    A wildcard bind (``0.0.0.0``, ``::``) is shown as the loopback address a local browser
    can open.
    """
    name = host.strip("[]")
    if name == "0.0.0.0":
        name = "127.0.0.1"
    elif name == "::":
        name = "::1"
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}{path}"
