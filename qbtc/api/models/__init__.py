"""Response models of the read-only API (the OpenAPI spec is generated from them).

Row models mirror their lake dataset in :mod:`qbtc.schemas` (same names, same units; a test
checks it). Numbers that can be missing or not finite in the lake are ``null``. Timestamps
are UTC ISO 8601. Money is USDT unless a field says otherwise.
"""

from qbtc.api.models.backtest import (
    BacktestDetail,
    BacktestEquityPoint,
    BacktestMetric,
    BacktestSummary,
    BacktestTrade,
)
from qbtc.api.models.base import ApiModel, ErrorResponse, FieldError, Page
from qbtc.api.models.book import (
    Alert,
    Order,
    Position,
    RiskMetric,
    RiskMetrics,
    Run,
    SignalRow,
    UnderlyingGreeksRow,
)
from qbtc.api.models.desk import (
    CircuitStatus,
    DeskInfo,
    Exposures,
    LimitsRow,
    MarketUniverse,
    PnlSeries,
    RiskSeries,
    Stress,
    StressRow,
    SymbolNotional,
    UnderlyingExposure,
)
from qbtc.api.models.health import (
    DatasetFreshness,
    Health,
    KillSwitchStatus,
    QualityGate,
    RunSummary,
)
from qbtc.api.models.lineage import FillRow, Lineage, LlmCallRow, OrderEventRow, VolViewRow
from qbtc.api.models.market import Bar, MarketSummary, Ohlcv, OptionChain, OptionQuote, PriceRow
from qbtc.api.models.quality import Quarantine, QuarantineCount
from qbtc.api.models.streams import StreamMessage

__all__ = [
    "Alert",
    "ApiModel",
    "BacktestDetail",
    "BacktestEquityPoint",
    "BacktestMetric",
    "BacktestSummary",
    "BacktestTrade",
    "Bar",
    "CircuitStatus",
    "DatasetFreshness",
    "DeskInfo",
    "ErrorResponse",
    "Exposures",
    "FieldError",
    "FillRow",
    "Health",
    "KillSwitchStatus",
    "LimitsRow",
    "Lineage",
    "LlmCallRow",
    "MarketSummary",
    "MarketUniverse",
    "Ohlcv",
    "OptionChain",
    "OptionQuote",
    "Order",
    "OrderEventRow",
    "Page",
    "PnlSeries",
    "Position",
    "PriceRow",
    "QualityGate",
    "Quarantine",
    "QuarantineCount",
    "RiskMetric",
    "RiskMetrics",
    "RiskSeries",
    "Run",
    "RunSummary",
    "SignalRow",
    "StreamMessage",
    "Stress",
    "StressRow",
    "SymbolNotional",
    "UnderlyingExposure",
    "UnderlyingGreeksRow",
    "VolViewRow",
]
