"""Typed settings for qbtc, read from the environment (prefix ``QBTC_``) and ``.env``.

Only entry points (CLI, flows, the API factory) build :class:`Settings`; library functions take
plain arguments. Secrets are :class:`pydantic.SecretStr` with no default value and are never
logged or printed: ``Settings.public_dict`` masks them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from qbtc.urls import secure_or_loopback

DEFAULT_SYMBOLS: tuple[str, ...] = (
    "BTC/USDT:USDT",
    "ETH/USDT:USDT",
    "SOL/USDT:USDT",
    "BNB/USDT:USDT",
    "XRP/USDT:USDT",
    "DOGE/USDT:USDT",
    "ADA/USDT:USDT",
    "AVAX/USDT:USDT",
    "LINK/USDT:USDT",
    "LTC/USDT:USDT",
)

SignalProviderName = Literal["rules", "gemini", "replay", "strategy"]

#: Upper bound of every USDT amount setting (capital, limits): far above any real book, low
#: enough that a typo (an extra dozen zeros) is refused instead of silently disabling a limit.
MAX_USD = 1e12
_TIMEFRAME_UNIT_S = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_MAX_TIMEFRAME_S = 604_800


def _split_csv(value: Any) -> Any:
    """Accept ``A,B,C`` as well as a JSON list for list-valued settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every knob qbtc has. Environment variables are ``QBTC_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="QBTC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        allow_inf_nan=False,  # every float setting is finite: "inf" or "nan" is refused
    )

    # -- storage ---------------------------------------------------------------------------
    data_dir: Path = Field(Path("./data"), description="Root of the lake, catalog and logs.")
    min_free_mb: float = Field(
        50.0, ge=0, le=1_000_000, description="A run refuses to start with less free disk, MiB."
    )
    log_max_mb: float = Field(
        20.0, gt=0, le=10_000, description="data/logs/qbtc.log rotates at this size, MiB."
    )
    log_backups: int = Field(5, ge=1, le=100, description="Rotated log files kept.")

    # -- market ----------------------------------------------------------------------------
    exchange: str = Field("sim", description="'sim' (offline default) or a ccxt exchange id.")
    symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SYMBOLS),
        description="Perpetuals traded, in ccxt form (BTC/USDT:USDT). Comma-separated in env.",
    )
    option_underlyings: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BTC", "ETH"],
        description="Underlyings whose option chains are ingested.",
    )
    options_exchange: str = Field(
        "sim", description="Venue for option chains: 'sim' or a ccxt id such as 'deribit'."
    )
    sim_perps: int | None = Field(
        None,
        ge=1,
        le=2000,
        description="Perps the simulated venue lists; when set (and QBTC_SYMBOLS is not), "
        "the traded universe is the first N of them (20 majors, then generated altcoins).",
    )
    sim_option_chain: Literal["standard", "full"] = Field(
        "standard",
        description="Strike range of the simulated option chains: standard (about 200 BTC "
        "and 360 ETH options) or full (Deribit-sized: about 500 BTC and 900 ETH).",
    )
    timeframe: str = Field(
        "1m", description="Bar timeframe for OHLCV: <n><unit>, unit s|m|h|d|w, at most 1w."
    )
    backfill_days: int = Field(3, ge=1, le=3650, description="Days back-filled on a first run.")
    seed: int = Field(
        7, ge=0, le=2**63 - 1, description="Seed of the simulated venue and of Monte Carlo risk."
    )
    as_of: datetime | None = Field(None, description="Fixed clock for reproducible runs (UTC).")
    exchange_testnet: bool = Field(True, description="Use the venue's testnet (sandbox) mode.")
    exchange_api_key: SecretStr | None = None
    exchange_api_secret: SecretStr | None = None
    exchange_timeout_ms: int = Field(10_000, ge=100, le=600_000, description="ccxt client timeout.")
    exchange_max_retries: int = Field(4, ge=0, le=10, description="Retries on 429/5xx/network.")
    exchange_base_url: str | None = Field(
        None,
        description="Send every request to QBTC_EXCHANGE through this base URL (same paths): "
        "a gateway or proxy in front of the venue.",
    )

    # -- quality ---------------------------------------------------------------------------
    quality_max_bad_fraction: float = Field(
        0.01, ge=0, le=1, description="Gate fails when more than this fraction of rows is bad."
    )
    quality_max_staleness_s: int = Field(
        900,
        ge=1,
        le=30 * 86_400,
        description="Gate fails when the newest bar is older than this (s).",
    )
    quality_jump_sigma: float = Field(
        12.0, gt=0, le=1_000, description="Flag 1-bar moves beyond N sigma."
    )

    # -- signals ---------------------------------------------------------------------------
    llm_provider: SignalProviderName = Field(
        "rules", description="rules | gemini | replay | strategy (the QBTC_STRATEGY plugin)"
    )
    strategy: str | None = Field(
        None,
        description="User strategy: module:Class or a qbtc.strategies entry point name.",
    )
    strategy_fallback: Literal["rules", "flat"] = Field(
        "rules", description="Answer used when the user strategy's answer is rejected."
    )
    gemini_api_key: SecretStr | None = None
    gemini_model: str = Field("gemini-3-flash-preview", description="Gemini model name.")
    gemini_base_url: str | None = Field(None, description="Gateway/proxy base URL for Gemini.")
    gemini_timeout_s: float = Field(30.0, gt=0, le=600, description="Per-request timeout, seconds.")
    gemini_max_retries: int = Field(3, ge=0, le=10)
    llm_token_budget: int = Field(200_000, ge=0, le=10**9, description="Max tokens spent per run.")

    # -- portfolio and risk ------------------------------------------------------------------
    portfolio_id: str = Field("main", description="Identifier of the book.")
    capital: float = Field(1_000_000.0, gt=0, le=MAX_USD, description="Starting equity, USDT.")
    target_vol: float = Field(
        0.20, gt=0, le=10, description="Annualised volatility target of the book."
    )
    max_gross_notional: float = Field(3_000_000.0, gt=0, le=MAX_USD, description="USDT.")
    max_net_notional: float = Field(1_500_000.0, gt=0, le=MAX_USD, description="USDT.")
    max_symbol_notional: float = Field(500_000.0, gt=0, le=MAX_USD, description="USDT, per symbol.")
    max_leverage: float = Field(3.0, gt=0, le=125, description="Gross notional / equity.")
    max_delta_usd: float = Field(1_000_000.0, gt=0, le=MAX_USD, description="Net delta, USDT.")
    max_gamma_usd: float = Field(
        250_000.0, gt=0, le=MAX_USD, description="Dollar gamma per 1% move."
    )
    max_vega_usd: float = Field(50_000.0, gt=0, le=MAX_USD, description="USDT per vol point.")
    max_var_99: float = Field(100_000.0, gt=0, le=MAX_USD, description="99% 1-day VaR limit, USDT.")
    max_order_notional: float = Field(250_000.0, gt=0, le=MAX_USD, description="USDT per order.")
    max_orders_per_cycle: int = Field(40, ge=1, le=10_000)
    max_drawdown: float = Field(0.15, gt=0, le=1, description="Kill switch trips beyond this.")
    max_data_age_s: int = Field(
        900, ge=1, le=30 * 86_400, description="Refuse to trade on older marks."
    )
    delta_hedge_band_usd: float = Field(
        5_000.0,
        ge=0,
        le=MAX_USD,
        description="No-trade band of a perp target (options delta hedge), USDT.",
    )
    mc_scenarios: int = Field(
        10_000, ge=100, le=10_000_000, description="Monte Carlo VaR scenarios."
    )
    max_gamma_usd_underlying: float = Field(
        100_000.0, gt=0, le=MAX_USD, description="Dollar gamma per 1% move, per underlying, USDT."
    )
    max_vega_usd_underlying: float = Field(
        2_500.0, gt=0, le=MAX_USD, description="Vega per underlying, USDT per vol point."
    )
    max_theta_usd: float = Field(
        10_000.0,
        gt=0,
        le=MAX_USD,
        description="Book theta (time decay paid or earned), USDT per day.",
    )
    max_theta_usd_underlying: float = Field(
        5_000.0, gt=0, le=MAX_USD, description="Theta per underlying, USDT per day."
    )
    max_premium_at_risk: float = Field(
        250_000.0,
        gt=0,
        le=MAX_USD,
        description="Premium of the long options held (at marks), USDT.",
    )
    max_short_option_margin: float = Field(
        500_000.0,
        gt=0,
        le=MAX_USD,
        description="Margin of the short options held, USDT (see limits).",
    )

    # -- options leg -----------------------------------------------------------------------
    options_enabled: bool = Field(True, description="Trade option structures on vol views.")
    option_structure: Literal["straddle", "strangle"] = Field(
        "straddle", description="straddle (ATM call + put) or strangle (call and put at a delta)."
    )
    option_target_delta: float = Field(
        0.25, gt=0, lt=0.5, description="Strangle legs: |forward delta| of the call and put."
    )
    option_min_expiry_days: float = Field(7.0, ge=0, description="Shortest expiry traded, days.")
    option_max_expiry_days: float = Field(
        45.0, gt=0, le=MAX_USD, description="Longest expiry traded, days."
    )
    option_target_expiry_days: float = Field(
        30.0, gt=0, le=MAX_USD, description="Preferred expiry inside the window, days."
    )
    option_vega_budget: float = Field(
        0.001,
        ge=0,
        le=0.05,
        description="Vega per underlying as a fraction of equity (USDT per vol point per USDT).",
    )
    option_vol_threshold: float = Field(
        0.1, ge=0, le=1, description="Smallest |vol_view| that opens a structure."
    )
    option_roll_hours: float = Field(
        48.0, ge=0, description="Roll or close a structure this many hours before expiry."
    )
    option_max_spread: float = Field(
        0.25,
        gt=0,
        le=MAX_USD,
        description="Skip a quote whose bid-ask spread exceeds this fraction of mid.",
    )
    option_min_quote_size: float = Field(
        0.0, ge=0, description="Skip a quote showing fewer contracts on the traded side."
    )

    # -- execution -------------------------------------------------------------------------
    live: bool = Field(False, description="Send orders to a real venue (needs keys).")
    venue_error_threshold: int = Field(
        5, ge=1, le=1_000, description="Consecutive errors open the circuit."
    )
    circuit_cooldown_s: int = Field(300, ge=1, le=86_400)
    option_limit_inside: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Option limit price: fraction of the bid-ask spread a buy bids below the ask (a "
            "sell above the bid); 0 takes the touch, 0.5 is the mid."
        ),
    )
    option_max_slippage: float = Field(
        0.05,
        ge=0,
        le=1,
        description=(
            "Option limit price: never worse than this fraction of the mid away from the mid."
        ),
    )

    # -- API ---------------------------------------------------------------------------------
    api_host: str = Field("127.0.0.1", description="Bind address of the read-only API.")
    api_port: int = Field(8000, ge=1, le=65535)
    api_token: SecretStr | None = None
    api_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_rate_limit: str = Field("600/minute", description="Per-client limit (limits syntax).")
    api_auth_failures: int = Field(
        10, ge=1, le=10_000, description="Failed authentications per minute before a lock-out."
    )
    api_auth_lockout_s: float = Field(
        300.0, ge=1, le=86_400, description="Seconds a client is refused after too many failures."
    )
    api_cache_mb: int = Field(
        32, ge=1, le=4096, description="Byte budget of each API response cache, MiB."
    )
    health_max_data_lag_s: float = Field(
        900.0,
        gt=0,
        le=365 * 86_400,
        description="Health is degraded when market data is older (s).",
    )
    api_public_docs: bool = Field(
        False, description="Serve /docs, /redoc and /openapi.json without the token."
    )
    api_allow_public: bool = Field(
        False, description="Allow a non-loopback API bind without QBTC_API_TOKEN (not advised)."
    )

    # -- operations --------------------------------------------------------------------------
    alert_webhook_url: SecretStr | None = None
    prefect_port: int = Field(4200, ge=1, le=65535)

    # -- production profile (`qbtc up --prod`) -------------------------------------------------
    prefect_database_url: SecretStr | None = Field(
        None,
        description="An existing PostgreSQL for the Prefect server (postgresql://user:pw@host"
        ":port/db); without it `qbtc up --prod` runs its own cluster under data/postgres.",
    )
    postgres_port: int = Field(
        5433, ge=1, le=65535, description="Port of the own PostgreSQL cluster (127.0.0.1)."
    )
    workers: int = Field(
        2, ge=1, le=64, description="Process workers `qbtc up --prod` starts on this machine."
    )
    worker_limit: int = Field(
        1, ge=1, le=64, description="Flow runs each worker runs at the same time."
    )
    dask_address: str | None = Field(
        None,
        description="Address of a Dask scheduler (tcp://host:8786) for the heavy stages "
        "(features over the universe, Monte Carlo VaR); unset: in-process, or a local cluster.",
    )
    dask_local_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Without QBTC_DASK_ADDRESS: run the heavy stages on a local Dask cluster "
        "of this many worker processes (0: in-process).",
    )

    @model_validator(mode="before")
    @classmethod
    def _sim_universe(cls, data: Any) -> Any:
        """``QBTC_SIM_PERPS=N`` without ``QBTC_SYMBOLS``: trade the first N listed perps."""
        if isinstance(data, dict) and data.get("sim_perps") and not data.get("symbols"):
            from qbtc.market.sim.universe import listed_symbols

            count = int(data["sim_perps"])
            if 1 <= count <= 2000:  # out-of-range counts fail the field's own check
                data = {**data, "symbols": list(listed_symbols(count))}
        return data

    @field_validator("symbols", "option_underlyings", "api_cors_origins", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("gemini_base_url")
    @classmethod
    def _check_gemini_base_url(cls, value: str | None) -> str | None:
        if value is not None and not secure_or_loopback(value):
            raise ValueError(
                f"QBTC_GEMINI_BASE_URL {value!r} would send the API key in clear text: "
                "use https://, or http:// only to a loopback address (127.0.0.1, localhost, ::1)"
            )
        return value

    @field_validator("timeframe")
    @classmethod
    def _check_timeframe(cls, value: str) -> str:
        unit, amount = value[-1:], value[:-1]
        seconds = (
            int(amount) * _TIMEFRAME_UNIT_S[unit]
            if amount.isdigit() and len(amount) <= 6 and unit in _TIMEFRAME_UNIT_S
            else 0
        )
        if not 0 < seconds <= _MAX_TIMEFRAME_S:
            raise ValueError(
                f"timeframe {value!r} is not <n><unit> (unit s, m, h, d or w) of at most 1w: "
                "use e.g. 1m, 5m, 1h, 4h, 1d"
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _check_data_dir(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists and is not a directory: point it at a directory")
        for parent in value.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(f"{parent} is not a directory: {value} cannot be created")
                break
        return value

    @field_validator("exchange", "options_exchange")
    @classmethod
    def _check_exchange(cls, value: str) -> str:
        if value == "sim":
            return value
        from qbtc.market.ccxt_adapter import check_exchange_id
        from qbtc.market.errors import VenueError

        try:
            return check_exchange_id(value)
        except VenueError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("symbols")
    @classmethod
    def _check_symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one symbol is required, e.g. QBTC_SYMBOLS=BTC/USDT:USDT")
        return value

    # -- derived paths -------------------------------------------------------------------------
    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "qbtc.duckdb"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    def public_dict(self) -> dict[str, Any]:
        """Settings as plain values with every secret masked (safe to log or store)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "**********"
            elif isinstance(value, Path):
                out[name] = str(value)
            elif isinstance(value, datetime):
                out[name] = value.isoformat()
            else:
                out[name] = value
        return out


def load_settings(**overrides: Any) -> Settings:
    """Build settings from env and ``.env``, with explicit overrides (entry points only)."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)
