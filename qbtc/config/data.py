"""Settings of the data side: where the lake lives, which market is read, the quality gate."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from qbtc.config.fields import split_csv

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

_TIMEFRAME_UNIT_S = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_MAX_TIMEFRAME_S = 604_800


class StorageSettings(BaseModel):
    """Where the lake, the catalog and the logs are kept."""

    data_dir: Path = Field(Path("./data"), description="Root of the lake, catalog and logs.")
    min_free_mb: float = Field(
        50.0, ge=0, le=1_000_000, description="A run refuses to start with less free disk, MiB."
    )
    log_max_mb: float = Field(
        20.0, gt=0, le=10_000, description="data/logs/qbtc.log rotates at this size, MiB."
    )
    log_backups: int = Field(5, ge=1, le=100, description="Rotated log files kept.")

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

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "qbtc.duckdb"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"


class MarketSettings(BaseModel):
    """The venues, the traded universe and the bars read from them."""

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
        description="Strike range of the simulated option chains: standard (about 450 BTC "
        "and 650 ETH options) or full (Deribit-sized: about 1,000 BTC and 1,400 ETH); a "
        "strike once listed stays listed until its expiry.",
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

    @field_validator("symbols", "option_underlyings", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return split_csv(value)

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


class QualitySettings(BaseModel):
    """Thresholds of the data-quality gate."""

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
    quality_docs: Literal["always", "failures", "off"] = Field(
        "always",
        description=(
            "Great Expectations Data Docs of the gate under <data_dir>/quality/docs: every "
            "run, only runs whose gate failed, or none."
        ),
    )
