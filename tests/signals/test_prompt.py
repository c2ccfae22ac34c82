"""The prompt is deterministic, compact and carries exactly the numbers it shows."""

from __future__ import annotations

import pytest

from qbtc.signals import snapshot_prompt
from qbtc.signals.prompt import format_number, round_significant
from tests.signals.snapshots import PERPS, FixtureSnapshot, make_snapshot


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (94123.45, "94120"),
        (1.23456, "1.235"),
        (-0.000123456, "-0.0001235"),
        (1.23456e-05, "1.235e-05"),
        (0.0, "0"),
        (30.0, "30"),
        (-2.0, "-2"),
    ],
)
def test_numbers_are_rounded_to_four_significant_digits(value: float, text: str) -> None:
    assert format_number(round_significant(value)) == text


def test_prompt_golden_row_and_values(snapshot: FixtureSnapshot) -> None:
    prompt = snapshot_prompt(snapshot)
    lines = prompt.text.splitlines()
    assert lines[1].startswith("symbol,ret_1440,momentum_240,zscore_240,")
    assert lines[2] == (
        "BTC/USDT:USDT,0.031,0.02,1.5,0.8,0.5,0.5,0.4,0.0001,0.05,0.55,0.02,0.05,30"
    )
    assert lines[3] == "DOGE/USDT:USDT,na,0.001,0.1,na,na,na,na,na,na,na,na,na,na"
    assert lines[6] == (
        "Answer for exactly these symbols: BTC/USDT:USDT, DOGE/USDT:USDT, ETH/USDT:USDT, "
        "SOL/USDT:USDT."
    )
    assert lines[8] == "underlying,atm_iv,realised_forecast,term_slope,rr_25d,bf_25d,tenor_days"
    assert lines[9] == "BTC,0.55,0.5,0.02,0.02,0.01,30"  # forecast: the perp's ewma_vol
    assert lines[10] == "ETH,0.7,0.5,0.02,-0.04,0.01,28"
    assert lines[-1] == "Give vol views for exactly these underlyings: BTC, ETH."
    assert prompt.underlyings == ("BTC", "ETH")
    assert prompt.vol_values["ETH"]["rr_25d"] == -0.04
    assert prompt.values["DOGE/USDT:USDT"] == {"momentum_240": 0.001, "zscore_240": 0.1}
    assert prompt.values["ETH/USDT:USDT"]["tenor_days"] == 28.0  # closest to 30 days


def test_same_facts_give_the_same_prompt_whatever_the_row_order() -> None:
    first = snapshot_prompt(make_snapshot())
    shuffled = make_snapshot(dict(reversed(list(PERPS.items()))))
    assert snapshot_prompt(shuffled) == first
    assert len(first.prompt_hash) == 64


def test_changes_below_the_rounding_keep_the_hash_and_above_change_it() -> None:
    base = snapshot_prompt(make_snapshot()).prompt_hash
    tiny = {**PERPS, "BTC/USDT:USDT": {**PERPS["BTC/USDT:USDT"], "zscore_240": 1.50001}}
    assert snapshot_prompt(make_snapshot(tiny)).prompt_hash == base
    moved = {**PERPS, "BTC/USDT:USDT": {**PERPS["BTC/USDT:USDT"], "zscore_240": 1.6}}
    assert snapshot_prompt(make_snapshot(moved)).prompt_hash != base


def test_the_prompt_is_compact(snapshot: FixtureSnapshot) -> None:
    prompt = snapshot_prompt(snapshot)
    assert len(prompt.text) < 250 * len(prompt.universe) + 600
