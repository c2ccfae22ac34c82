"""Frames of the WebSockets (not in OpenAPI: sent over /ws/*)."""

from __future__ import annotations

from typing import Literal

from qbtc.api.models.base import ApiModel
from qbtc.api.models.book import Alert, Position
from qbtc.api.models.market import PriceRow


class StreamMessage(ApiModel):
    """One WebSocket frame: the channel, a sequence number per connection and the data."""

    channel: Literal["prices", "positions", "alerts"]
    sequence: int
    data: list[PriceRow] | list[Position] | list[Alert]
