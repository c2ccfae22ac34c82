"""``/api/market/{symbol}`` (last price, 24h stats, funding, realised vol) and its OHLCV."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from qbtc.api.context import ApiContext, NotFoundError, clean_row, get_context, to_models
from qbtc.api.errors import responses
from qbtc.api.models import Bar, MarketSummary, Ohlcv
from qbtc.api.params import MAX_LIMIT, Since, SymbolPath, as_utc
from qbtc.symbols import close_matches, symbol_key

router = APIRouter(tags=["market"])

Timeframe = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"]
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_SECONDS_PER_YEAR = 365.0 * 86400.0
MIN_RETURNS_FOR_VOL = 10


def timeframe_seconds(timeframe: str) -> int:
    """``"15m"`` -> 900. Raises ``ValueError`` on anything else than N m|h|d."""
    match = re.fullmatch(r"(\d+)([mhd])", timeframe)
    if not match:
        raise ValueError(f"unsupported timeframe {timeframe!r}; use one of {get_args(Timeframe)}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def known_symbols(context: ApiContext) -> list[str]:
    """Symbols with bars or tickers (cached until those datasets change)."""
    return context.cached(
        "symbols",
        ("ohlcv", "tickers"),
        lambda: context.query("market_symbols")["symbol"].to_list(),
    )


def require_symbol(context: ApiContext, symbol: str) -> None:
    """Raise :class:`NotFoundError` with suggestions when ``symbol`` has no market data."""
    universe = known_symbols(context)
    if symbol in universe:
        return
    hint = close_matches(symbol, universe)
    suggestion = f"; did you mean {', '.join(hint)}?" if hint else ""
    raise NotFoundError(f"unknown symbol {symbol}: no bars or tickers stored{suggestion}")


def _first(context: ApiContext, name: str, params: dict[str, Any]) -> dict[str, Any]:
    rows = context.query(name, params).to_dicts()
    return clean_row(rows[0]) if rows else {}


def build_summary(context: ApiContext, symbol: str) -> MarketSummary:
    require_symbol(context, symbol)
    bars = _first(
        context,
        "market_bars_24h",
        {"symbol": symbol, "key": symbol_key(symbol), "timeframe": context.timeframe},
    )
    ticker = _first(context, "market_ticker", {"symbol": symbol})
    funding = _first(context, "market_funding", {"symbol": symbol})
    vol = None
    if bars.get("log_return_stddev") is not None and bars["returns_24h"] >= MIN_RETURNS_FOR_VOL:
        bars_per_year = _SECONDS_PER_YEAR / timeframe_seconds(context.timeframe)
        vol = bars["log_return_stddev"] * math.sqrt(bars_per_year)
    open_24h, close = bars.get("open_24h"), bars.get("close")
    change = close / open_24h - 1.0 if close is not None and open_24h else None
    use_ticker = ticker.get("last") is not None and (
        bars.get("bar_timestamp") is None or ticker["timestamp"] >= bars["bar_timestamp"]
    )
    return MarketSummary(
        symbol=symbol,
        last_price=ticker["last"] if use_ticker else close,
        price_timestamp=ticker["timestamp"] if use_ticker else bars.get("bar_timestamp"),
        bid=ticker.get("bid"),
        ask=ticker.get("ask"),
        mark=ticker.get("mark"),
        index=ticker.get("index"),
        bar_timestamp=bars.get("bar_timestamp"),
        open_24h=open_24h,
        high_24h=bars.get("high_24h"),
        low_24h=bars.get("low_24h"),
        close=close,
        change_24h=change if change is None or math.isfinite(change) else None,
        volume_24h=bars.get("volume_24h"),
        bars_24h=bars.get("bars_24h") or 0,
        realized_vol_24h=vol if vol is None or math.isfinite(vol) else None,
        funding_rate=funding.get("funding_rate"),
        funding_timestamp=funding.get("timestamp"),
    )


def build_ohlcv(
    context: ApiContext, symbol: str, timeframe: str, since: datetime | None, limit: int
) -> Ohlcv:
    require_symbol(context, symbol)
    width = timedelta(seconds=timeframe_seconds(timeframe))
    params: dict[str, Any] = {
        "symbol": symbol,
        "key": symbol_key(symbol),
        "base": context.timeframe,
        "width": width,
        "limit": limit,
    }
    if since is None:
        frame = context.query("ohlcv_latest", params)
    else:
        frame = context.query("ohlcv_since", {**params, "since": since})
    items = to_models(frame, Bar)
    full = since is not None and len(items) == limit
    return Ohlcv(
        symbol=symbol,
        timeframe=timeframe,
        items=items,
        next_since=items[-1].timestamp + width if full else None,
    )


# The OHLCV route comes first: `{symbol:path}` would otherwise swallow "/ohlcv".
@router.get(
    "/api/market/{symbol:path}/ohlcv",
    response_model=Ohlcv,
    responses=responses(401, 404, 422, 429),
)
async def get_ohlcv(
    request: Request,
    symbol: SymbolPath,
    timeframe: Annotated[Timeframe, Query(description="Bar size; built from stored bars.")] = "1m",
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Bars (1-1000).")] = 500,
) -> Response:
    """Bars oldest first: from `since` (page on with `next_since`), else the last `limit`."""
    context = get_context(request)
    base, wanted = timeframe_seconds(context.timeframe), timeframe_seconds(timeframe)
    if wanted % base:
        raise HTTPException(
            422, f"cannot build {timeframe} bars from stored {context.timeframe} bars"
        )
    start = as_utc(since)
    key = ("ohlcv", symbol, timeframe, start, limit)
    return await context.respond(
        request,
        key,
        ("ohlcv", "tickers"),
        lambda: build_ohlcv(context, symbol, timeframe, start, limit),
    )


@router.get(
    "/api/market/{symbol:path}",
    response_model=MarketSummary,
    responses=responses(401, 404, 422, 429),
)
async def get_market(request: Request, symbol: SymbolPath) -> Response:
    """Last price, 24h statistics, latest funding and 24h realised volatility."""
    context = get_context(request)
    return await context.respond(
        request,
        ("market", symbol),
        ("ohlcv", "tickers", "funding_rates"),
        lambda: build_summary(context, symbol),
    )
