"""Data quality: row checks, Great Expectations suites, quarantine and the trading gate.

Great Expectations is imported only when a gate runs (see :mod:`qbtc.quality.expectations`).
"""

from qbtc.quality.checks import CheckContext, DatasetRules, ExpectationSpec, RowCheck
from qbtc.quality.derivatives import funding_rules, option_rules, tickers_rules
from qbtc.quality.gate import DatasetBatch, GatePolicy, GateReport, evaluate_gate
from qbtc.quality.ohlcv import ohlcv_rules, timeframe_step
from qbtc.quality.records import CheckResult
from qbtc.quality.status import GateStatus, StoredGate, latest_gate, store_gate

__all__ = [
    "CheckContext",
    "CheckResult",
    "DatasetBatch",
    "DatasetRules",
    "ExpectationSpec",
    "GatePolicy",
    "GateReport",
    "GateStatus",
    "RowCheck",
    "StoredGate",
    "evaluate_gate",
    "funding_rules",
    "latest_gate",
    "ohlcv_rules",
    "option_rules",
    "store_gate",
    "tickers_rules",
    "timeframe_step",
]
