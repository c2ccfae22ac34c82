from __future__ import annotations

import pytest

from qbtc.portfolio import hedged_perp_targets

BTC = "BTC/USDT:USDT"
PRICES = {BTC: 50_000.0, "ETH/USDT:USDT": 3_000.0}


def test_options_delta_is_offset_with_the_perp_outside_the_band():
    # view: +2 BTC; options already long 3 BTC of delta -> perp must be -1 BTC
    out = hedged_perp_targets({BTC: 2.0}, {BTC: 0.0}, {BTC: 3.0}, PRICES, band_usd=10_000.0)
    assert out == {BTC: pytest.approx(-1.0)}
    # a gap of exactly the band (1 BTC = 50,000 USDT) is tolerated
    edge = hedged_perp_targets({BTC: 2.0}, {BTC: 0.0}, {BTC: 3.0}, PRICES, band_usd=50_000.0)
    assert edge == {BTC: 0.0}


def test_inside_the_band_the_position_stays():
    # target -1.0, held -0.5: a gap of 25,000 USDT < 50,000 band
    out = hedged_perp_targets({BTC: 2.0}, {BTC: -0.5}, {BTC: 3.0}, PRICES, band_usd=50_000.0)
    assert out == {BTC: -0.5}


def test_net_delta_ends_inside_the_band_after_hedging():
    held, options = {BTC: 0.4}, {BTC: -7.3}
    out = hedged_perp_targets({BTC: 0.0}, held, options, PRICES, band_usd=10_000.0)
    assert abs((out[BTC] + options[BTC]) * PRICES[BTC]) <= 10_000.0


def test_symbols_without_a_view_are_not_traded():
    assert hedged_perp_targets({}, {BTC: 1.0}, {BTC: 3.0}, PRICES, band_usd=0.0) == {}


def test_negative_band_raises():
    with pytest.raises(ValueError, match="band"):
        hedged_perp_targets({}, {}, {}, PRICES, band_usd=-1.0)
