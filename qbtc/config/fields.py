"""Pieces shared by the settings groups: the USDT bound and the list parser."""

from __future__ import annotations

import json
from typing import Any

#: Upper bound of every USDT amount setting (capital, limits): far above any real book, low
#: enough that a typo (an extra dozen zeros) is refused instead of silently disabling a limit.
MAX_USD = 1e12


def split_csv(value: Any) -> Any:
    """Accept ``A,B,C`` as well as a JSON list for list-valued settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value
