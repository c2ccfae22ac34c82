"""A deterministic, compact prompt built from the feature snapshot.

Symbols sorted, columns in a fixed order, every number rounded to 4 significant digits and
written the same way each time, no wall-clock time and no ids: the same facts always give
the same prompt text and so the same prompt hash (the key of the cache and of replay). The
model must cite the numbers it uses; :mod:`qbtc.signals.answer` checks each citation against
:attr:`Prompt.values`, the numbers exactly as the prompt shows them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qbtc.signals.answer import AcceptedAnswer, SignalAnswer, validate_answer
from qbtc.signals.inputs import SymbolInputs, collect_inputs
from qbtc.signals.model import SnapshotLike
from qbtc.signals.volview import UnderlyingInputs, collect_underlying_inputs

PROMPT_VERSION = "qbtc-signals-v2"
SIGNIFICANT_DIGITS = 4

#: Columns shown to the model, in this order.
PROMPT_FEATURES = (
    "ret_1440",
    "momentum_240",
    "zscore_240",
    "rank_momentum_240",
    "rv_cc_60",
    "ewma_vol",
    "rank_rv_cc_60",
    "funding_rate",
    "basis_annualized",
    "atm_iv",
    "rr_25d",
    "iv_minus_rv",
    "tenor_days",
)

#: Columns of the option-underlying table (vol views), in this order.
VOL_PROMPT_FEATURES = (
    "atm_iv",
    "realised_forecast",
    "term_slope",
    "rr_25d",
    "bf_25d",
    "tenor_days",
)

SYSTEM_INSTRUCTION = """\
You are the signal desk of a crypto perpetual-futures and options book. For each symbol in the \
perp table, give a trading view for the next hours; for each underlying in the options table, \
a volatility view; use only the numbers in the tables.
Answer with JSON matching the response schema:
- one entry per listed symbol, each exactly once, symbols spelled exactly as listed;
- direction long, short or flat; strength in [-1, 1] is the target exposure as a fraction of \
the per-symbol risk budget: positive for long, negative for short, exactly 0 for flat;
- confidence in [0, 1]; horizon_minutes between 15 and 1440;
- rationale: at most 300 characters;
- cited: the numbers your view relies on, at least one, each as {"feature": column name, \
"value": the number copied exactly as printed in that symbol's row}. Never cite a number \
that is not in the row, and never cite "na".
- vol_views: one entry per underlying of the options table, each exactly once: vol_view in \
[-1, 1], positive when options are cheap (buy volatility), negative when rich (sell it), 0 \
for no view; confidence, horizon_minutes, rationale and cited as for signals, citing numbers \
of that underlying's row. An empty list when there is no options table.
"""

UNITS = (
    "Units: ret_1440, momentum_240 log returns; zscore_240 standard deviations; rv_cc_60, "
    "ewma_vol, atm_iv, iv_minus_rv annualised vol fractions; rr_25d 25-delta call minus put "
    "implied vol; funding_rate fraction per 8h; basis_annualized fraction per year; rank_* "
    "cross-sectional ranks in [0, 1]; tenor_days days to the option expiry used. na = not "
    "available."
)
VOL_UNITS = (
    "Options table, expiry closest to 30 days: atm_iv, realised_forecast (EWMA realised vol "
    "of the perp), rr_25d, bf_25d annualised vol fractions; term_slope change of ATM IV per "
    "year of tenor; tenor_days days to that expiry."
)


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def format_number(value: float) -> str:
    """The prompt's text for a rounded number: shortest exact repr, no trailing ``.0``."""
    text = repr(float(value))
    return text.removesuffix(".0")


@dataclass(frozen=True)
class Prompt:
    """The request sent to a model.

    ``values`` maps each symbol to the numbers shown for it (after rounding), the only
    numbers the model may cite; ``underlyings`` and ``vol_values`` do the same for the option
    underlyings' table. ``prompt_hash`` covers the version, system instruction, text and
    response schema.
    """

    system: str
    text: str
    universe: tuple[str, ...]
    values: Mapping[str, Mapping[str, float]]
    prompt_hash: str
    underlyings: tuple[str, ...] = ()
    vol_values: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def recorded(self) -> str:
        """System instruction and text as stored in ``llm_calls.prompt``."""
        return f"{self.system}\n---\n{self.text}"


def _row(
    key: str, values: Mapping[str, float | None], columns: Sequence[str]
) -> tuple[list[str], dict[str, float]]:
    cells, shown = [key], {}
    for name in columns:
        value = values[name]
        if value is None:
            cells.append("na")
            continue
        rounded = round_significant(value)
        shown[name] = rounded
        cells.append(format_number(rounded))
    return cells, shown


def prompt_hash_of(system: str, text: str) -> str:
    """SHA-256 (hex) of everything that defines the question."""
    schema = json.dumps(SignalAnswer.model_json_schema(), sort_keys=True)
    payload = "\x1e".join((PROMPT_VERSION, system, text, schema))
    return hashlib.sha256(payload.encode()).hexdigest()


def build_prompt(
    inputs: Sequence[SymbolInputs], underlyings: Sequence[UnderlyingInputs] = ()
) -> Prompt:
    """The prompt for ``inputs`` (one per symbol) and ``underlyings`` (one per option
    underlying), each sorted here."""
    if not inputs:
        raise ValueError("cannot build a prompt without symbols")
    ordered = sorted(inputs, key=lambda item: item.symbol)
    lines = [UNITS, "symbol," + ",".join(PROMPT_FEATURES)]
    values: dict[str, dict[str, float]] = {}
    for item in ordered:
        cells, shown = _row(item.symbol, item.values(), PROMPT_FEATURES)
        lines.append(",".join(cells))
        values[item.symbol] = shown
    universe = tuple(item.symbol for item in ordered)
    lines.append("Answer for exactly these symbols: " + ", ".join(universe) + ".")
    vol_values: dict[str, dict[str, float]] = {}
    if underlyings:
        lines += [VOL_UNITS, "underlying," + ",".join(VOL_PROMPT_FEATURES)]
        for under in sorted(underlyings, key=lambda item: item.underlying):
            cells, shown = _row(under.underlying, under.values(), VOL_PROMPT_FEATURES)
            lines.append(",".join(cells))
            vol_values[under.underlying] = shown
        names = ", ".join(vol_values)
        lines.append(f"Give vol views for exactly these underlyings: {names}.")
    text = "\n".join(lines)
    return Prompt(
        system=SYSTEM_INSTRUCTION,
        text=text,
        universe=universe,
        values=values,
        prompt_hash=prompt_hash_of(SYSTEM_INSTRUCTION, text),
        underlyings=tuple(vol_values),
        vol_values=vol_values,
    )


def validate_prompt_answer(
    prompt: Prompt, text: str | None, finish_reason: str | None
) -> AcceptedAnswer:
    """:func:`~qbtc.signals.answer.validate_answer` against what ``prompt`` asked and showed."""
    return validate_answer(
        text,
        finish_reason,
        universe=prompt.universe,
        values=prompt.values,
        underlyings=prompt.underlyings,
        vol_values=prompt.vol_values,
    )


def snapshot_prompt(
    snapshot: SnapshotLike,
    symbols: Sequence[str] | None = None,
    underlyings: Sequence[str] | None = None,
) -> Prompt:
    """The prompt of a feature snapshot: its perps and its option underlyings."""
    return build_prompt(
        collect_inputs(snapshot, symbols), collect_underlying_inputs(snapshot, underlyings)
    )
