"""``/api/desk``: what the desk trades, its limits, its circuit breaker and its Prefect UI."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qbtc.api.context import get_context
from qbtc.api.errors import responses
from qbtc.api.models import CircuitStatus, DeskInfo, LimitsRow, MarketUniverse
from qbtc.api.routers.market import known_symbols
from qbtc.api.routers.options import known_underlyings
from qbtc.config import Settings
from qbtc.execution.circuit import CircuitBreaker

router = APIRouter(tags=["operations"])

UNREADABLE_CIRCUIT = "unreadable circuit state file: check <data_dir>/state/circuit.json"


def circuit_status(settings: Settings) -> CircuitStatus:
    """The circuit breaker's state file; an unreadable one reads as open (blocking)."""
    threshold, cooldown = settings.venue_error_threshold, settings.circuit_cooldown_s
    breaker = CircuitBreaker(settings.state_dir, threshold=threshold, cooldown_s=cooldown)
    try:
        state = breaker.state()
    except (OSError, ValueError, TypeError):
        return CircuitStatus(
            open=True,
            consecutive_errors=0,
            opened_at=None,
            open_until=None,
            reason=UNREADABLE_CIRCUIT,
            threshold=threshold,
            cooldown_s=cooldown,
        )
    return CircuitStatus(
        open=state.is_open(datetime.now(UTC)),
        consecutive_errors=state.consecutive_errors,
        opened_at=state.opened_at,
        open_until=state.open_until,
        reason=state.reason,
        threshold=threshold,
        cooldown_s=cooldown,
    )


def desk_info(settings: Settings) -> DeskInfo:
    limits = LimitsRow(
        max_var_99=settings.max_var_99,
        max_drawdown=settings.max_drawdown,
        max_gross_notional=settings.max_gross_notional,
        max_net_notional=settings.max_net_notional,
        max_symbol_notional=settings.max_symbol_notional,
        max_leverage=settings.max_leverage,
        max_delta_usd=settings.max_delta_usd,
        max_gamma_usd=settings.max_gamma_usd,
        max_vega_usd=settings.max_vega_usd,
        delta_hedge_band_usd=settings.delta_hedge_band_usd,
    )
    return DeskInfo(
        portfolio_id=settings.portfolio_id,
        capital=settings.capital,
        exchange=settings.exchange,
        options_exchange=settings.options_exchange,
        symbols=list(settings.symbols),
        option_underlyings=list(settings.option_underlyings),
        timeframe=settings.timeframe,
        signal_provider=settings.llm_provider,
        live=settings.live,
        prefect_ui_url=f"http://127.0.0.1:{settings.prefect_port}",
        limits=limits,
        circuit=circuit_status(settings),
    )


@router.get("/api/desk", response_model=DeskInfo, responses=responses(401, 429))
async def get_desk(request: Request) -> Response:
    """Symbols, limits (USDT unless stated), the venue circuit breaker and the Prefect UI URL."""
    info = await anyio.to_thread.run_sync(desk_info, request.app.state.settings)
    return Response(info.model_dump_json(), media_type="application/json")


@router.get(
    "/api/symbols", response_model=MarketUniverse, responses=responses(401, 429), tags=["market"]
)
async def get_symbols(request: Request) -> Response:
    """Perps with bars or tickers and underlyings with option quotes (ask these for data)."""
    context = get_context(request)

    def build() -> MarketUniverse:
        return MarketUniverse(
            perps=known_symbols(context), option_underlyings=known_underlyings(context)
        )

    return await context.respond(
        request, ("symbols",), ("ohlcv", "tickers", "option_quotes"), build
    )
