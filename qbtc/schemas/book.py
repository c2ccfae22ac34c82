"""Datasets of the book: positions, risk, order intents, the ledger, the sim venue, alerts."""

from __future__ import annotations

from qbtc.schemas.core import (
    BOOL,
    BY_MONTH,
    F64,
    STR,
    TS,
    Dataset,
    register,
)

# --- book -----------------------------------------------------------------------------------

POSITIONS = register(
    Dataset(
        name="positions",
        columns={
            "id": STR,
            "portfolio_id": STR,
            "symbol": STR,
            "type": STR,
            "side": STR,
            "quantity": F64,
            "entry_price": F64,
            "mark_price": F64,
            "unrealized_pnl": F64,
            "realized_pnl": F64,
            "fees": F64,
            "funding": F64,
            "underlying": STR,
            "expiry": TS,
            "strike": F64,
            "option_type": STR,
            "delta": F64,
            "gamma": F64,
            "vega": F64,
            "theta": F64,
            "timestamp": TS,
            "pnl_usd": F64,
            "pnl_coin": F64,
            "pnl_coin_currency": STR,
        },
        primary_key=("id", "timestamp"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Position snapshots derived from fills (id = portfolio_id:symbol); type perp|option, "
            "quantity signed (long > 0); PnL, fees and funding in USDT; Greeks in the desk's "
            "units (qbtc.units): delta in coins of underlying, gamma per 1 USDT move, vega USDT "
            "per vol point, theta USDT per calendar day. pnl_usd the net PnL in USD "
            "(realised + unrealised - fees + funding); pnl_coin the net PnL of a coin-settled "
            "(inverse) option in its coin pnl_coin_currency (premiums, fees and settlement as "
            "paid in coin, the open quantity at the coin mark; null for other instruments)."
        ),
        nullable=frozenset(
            {
                "expiry",
                "strike",
                "option_type",
                "delta",
                "gamma",
                "vega",
                "theta",
                "pnl_usd",
                "pnl_coin",
                "pnl_coin_currency",
            }
        ),
    )
)

RISK_METRICS = register(
    Dataset(
        name="risk_metrics",
        columns={
            "portfolio_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "method": STR,
            "phase": STR,
            "var": F64,
            "cvar": F64,
            "sharpe": F64,
            "sortino": F64,
            "drawdown": F64,
            "equity": F64,
            "gross_notional": F64,
            "net_notional": F64,
            "leverage": F64,
            "delta_usd": F64,
            "gamma_usd": F64,
            "vega_usd": F64,
            "theta_usd": F64,
            "mc_stderr": F64,
            "confidence": F64,
            "horizon_days": F64,
        },
        primary_key=("portfolio_id", "timestamp", "method", "phase"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Risk of the book at timestamp, `phase` pre_trade (the book the cycle's checks saw, "
            "before its orders) or book (the book as held: after the cycle's orders, and every "
            "risk-monitor run): VaR/CVaR in USDT (positive = loss) at `confidence` "
            "over `horizon_days`; Sharpe/Sortino annualised from hourly equity returns over the last "
            "30 days (null until a day of history); drawdown a fraction of peak equity; "
            "Greeks in USDT (qbtc.units: delta per 100% move, gamma per 1% move, vega per vol "
            "point, theta per calendar day)."
        ),
        nullable=frozenset({"sharpe", "sortino", "cvar", "mc_stderr", "leverage"}),
    )
)

BOOK_GREEKS = register(
    Dataset(
        name="book_greeks",
        columns={
            "portfolio_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "phase": STR,
            "underlying": STR,
            "spot": F64,
            "delta_coin": F64,
            "option_delta_coin": F64,
            "perp_delta_coin": F64,
            "delta_usd": F64,
            "gamma_usd": F64,
            "vega_usd": F64,
            "theta_usd": F64,
            "hedge_perp": STR,
            "directional_coin": F64,
            "hedge_options_delta_coin": F64,
            "band_usd": F64,
        },
        primary_key=("portfolio_id", "timestamp", "phase", "underlying"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "The book's Greeks per underlying at timestamp, phase pre_trade|book as in "
            "risk_metrics: deltas in coins (options, perps, net) and USDT, gamma USDT per 1% "
            "move, vega USDT per vol point, theta USDT per day; spot USDT. Pre-trade rows also "
            "hold the hedge the cycle planned: the hedging perp, its directional target and the "
            "options delta it offsets after the cycle's option legs (coins), and the no-trade "
            "band (USDT)."
        ),
        nullable=frozenset(
            {"hedge_perp", "directional_coin", "hedge_options_delta_coin", "band_usd"}
        ),
    )
)

# --- orders and execution -----------------------------------------------------------------------

ORDER_INTENTS = register(
    Dataset(
        name="order_intents",
        columns={
            "client_order_id": STR,
            "run_id": STR,
            "portfolio_id": STR,
            "strategy": STR,
            "symbol": STR,
            "leg": STR,
            "timestamp": TS,
            "side": STR,
            "quantity": F64,
            "order_type": STR,
            "limit_price": F64,
            "reduce_only": BOOL,
            "notional": F64,
            "status": STR,
            "reason": STR,
            "structure_id": STR,
        },
        primary_key=("client_order_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Orders the risk stage decided (timestamp = decision bar): status accepted|refused "
            "with the reason; quantity in contracts/coins (positive), side buy|sell; notional "
            "USDT (options: quantity x limit price, the premium); structure_id names the option "
            "structure of an option leg (option_structures), null for perps."
        ),
        nullable=frozenset({"limit_price", "reason", "structure_id"}),
    )
)

OPTION_STRUCTURES = register(
    Dataset(
        name="option_structures",
        columns={
            "structure_id": STR,
            "run_id": STR,
            "portfolio_id": STR,
            "timestamp": TS,
            "underlying": STR,
            "action": STR,
            "legs": STR,
            "quantities": STR,
            "expiry": TS,
            "vega_target": F64,
            "vol_view": F64,
            "view_id": STR,
            "feature_snapshot": STR,
            "reason": STR,
        },
        primary_key=("structure_id", "timestamp", "portfolio_id"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Option structure decisions per decision bar (timestamp): action open|keep|"
            "complete|close|roll|skip|expired; legs the option symbols (comma-separated) with "
            "their signed quantities in coins; expiry the nearest leg expiry; vega_target USDT "
            "per vol point; the vol view (view_id in vol_views, feature_snapshot) behind it; "
            "reason why a structure could not be opened, or what a lopsided one lacks."
        ),
        nullable=frozenset(
            {"expiry", "vega_target", "vol_view", "view_id", "feature_snapshot", "reason"}
        ),
    )
)

ORDER_EVENTS = register(
    Dataset(
        name="order_events",
        columns={
            "event_id": STR,
            "client_order_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "event": STR,
            "symbol": STR,
            "side": STR,
            "quantity": F64,
            "filled_quantity": F64,
            "price": F64,
            "venue_order_id": STR,
            "reason": STR,
        },
        primary_key=("event_id",),
        mode="append",
        partition_by=BY_MONTH,
        description=(
            "Append-only order ledger: intent, submitted, acknowledged, partially_filled, "
            "filled, cancelled, rejected, reconciled."
        ),
        nullable=frozenset({"price", "venue_order_id", "reason"}),
    )
)

FILLS = register(
    Dataset(
        name="fills",
        columns={
            "fill_id": STR,
            "client_order_id": STR,
            "venue_order_id": STR,
            "portfolio_id": STR,
            "symbol": STR,
            "timestamp": TS,
            "side": STR,
            "quantity": F64,
            "price": F64,
            "fee": F64,
            "fee_currency": STR,
            "liquidity": STR,
            "underlying_price": F64,
        },
        primary_key=("fill_id",),
        mode="append",
        partition_by=BY_MONTH,
        description=(
            "Executions from the venue in the book's units (quantity in coins, price USD per "
            "coin); fee in fee_currency (positive = paid); underlying_price the USD price of "
            "the underlying a coin-settled option's coin premium and fee were converted at "
            "(null for other instruments), so its PnL can be followed in coin."
        ),
        nullable=frozenset({"underlying_price"}),
    )
)

SETTLEMENTS = register(
    Dataset(
        name="settlements",
        columns={
            "settlement_id": STR,
            "portfolio_id": STR,
            "symbol": STR,
            "timestamp": TS,
            "quantity": F64,
            "delivery_price": F64,
            "settlement_price": F64,
            "fee": F64,
            "fee_currency": STR,
            "source": STR,
        },
        primary_key=("settlement_id",),
        mode="append",
        partition_by=BY_MONTH,
        description=(
            "Option expiries settled by the venue, part of the ledger (not fills of orders): "
            "timestamp = expiry; quantity the signed position settled (contracts, long > 0); "
            "delivery_price the underlying's delivery price (USD); settlement_price what one "
            "contract was worth at expiry in USD per coin of underlying (the book's units, "
            "also for coin-settled options); fee the delivery fee in fee_currency (positive = "
            "paid)."
        ),
    )
)

SIM_VENUE_ORDERS = register(
    Dataset(
        name="sim_venue_orders",
        columns={
            "order_id": STR,
            "client_order_id": STR,
            "symbol": STR,
            "timestamp": TS,
            "updated_at": TS,
            "side": STR,
            "type": STR,
            "status": STR,
            "amount": F64,
            "filled": F64,
            "price": F64,
            "average": F64,
            "fee": F64,
            "fee_currency": STR,
            "reduce_only": BOOL,
        },
        primary_key=("order_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "The simulated venue's own order book, kept apart from qbtc's ledger (timestamp = "
            "order creation): status open|closed|canceled (ccxt), amount and filled in "
            "contracts, price the limit price, average the fill price, fee cumulative USDT."
        ),
        nullable=frozenset({"price", "average"}),
    )
)

ALERTS = register(
    Dataset(
        name="alerts",
        columns={
            "alert_id": STR,
            "run_id": STR,
            "timestamp": TS,
            "kind": STR,
            "severity": STR,
            "message": STR,
            "details": STR,
        },
        primary_key=("alert_id",),
        mode="append",
        partition_by=BY_MONTH,
        description="Risk breaches, failed quality gates, kill switch trips (severity info|warning|critical).",
    )
)
