"""ccxt option symbols parse and format both ways."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.market.contracts import is_option_symbol, option_symbol, parse_option_symbol


def test_a_linear_usdt_option_parses() -> None:
    contract = parse_option_symbol("BTC/USDT:USDT-261127-90000-C")
    assert contract.expiry == datetime(2026, 11, 27, 8, tzinfo=UTC)
    assert (contract.base, contract.strike, contract.option_type) == ("BTC", 90000.0, "call")
    assert contract.settlement == "linear"
    assert contract.is_call


def test_a_deribit_inverse_option_parses() -> None:
    contract = parse_option_symbol("ETH/USD:ETH-260626-2500-P")
    assert contract.settlement == "inverse"
    assert contract.option_type == "put"


def test_a_non_option_symbol_is_refused_with_an_example() -> None:
    assert not is_option_symbol("BTC/USDT:USDT")
    with pytest.raises(ValueError, match="BTC/USDT:USDT-261127-90000-C"):
        parse_option_symbol("BTC/USDT:USDT")


@given(
    day=st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2099, 12, 31).date()),
    strike=st.sampled_from([0.65, 1.5, 25.0, 2500.0, 90000.0, 125000.0]),
    is_call=st.booleans(),
)
def test_formatting_then_parsing_is_the_identity(day, strike: float, is_call: bool) -> None:
    expiry = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    symbol = option_symbol("ETH", "USDT", expiry, strike, is_call)
    contract = parse_option_symbol(symbol)
    assert (contract.expiry, contract.strike, contract.is_call) == (expiry, strike, is_call)
