"""open_exchange picks the simulated venue or a ccxt one, with the contract's defaults."""

from __future__ import annotations

import pytest

from qbtc.market.ccxt_adapter import CcxtExchange
from qbtc.market.errors import UnknownSymbolError
from qbtc.market.protocol import Exchange
from qbtc.market.sim import SimExchange
from qbtc.market.venue import open_exchange
from tests.market.conftest import AS_OF


def test_sim_is_the_deterministic_offline_venue() -> None:
    venue = open_exchange("sim", seed=3, as_of=AS_OF, symbols=["BTC/USDT:USDT"])
    assert isinstance(venue, SimExchange)
    assert isinstance(venue, Exchange)
    assert venue.milliseconds() == int(AS_OF.timestamp() * 1000)
    assert venue.fetch_ohlcv("BTC/USDT:USDT", limit=5) == SimExchange(
        seed=3, as_of=AS_OF
    ).fetch_ohlcv("BTC/USDT:USDT", limit=5)


def test_sim_refuses_unknown_symbols_at_once() -> None:
    with pytest.raises(UnknownSymbolError, match="did you mean ETH/USDT:USDT"):
        open_exchange("sim", seed=7, as_of=None, symbols=["ETH/USDT"])


def test_a_ccxt_venue_opens_on_its_test_environment() -> None:
    venue = open_exchange(
        "binanceusdm", seed=7, as_of=None, symbols=["BTC/USDT:USDT"], timeout_ms=2500, max_retries=1
    )
    assert isinstance(venue, CcxtExchange)
    assert isinstance(venue, Exchange)
    assert venue.sandbox
    assert venue.id == "binanceusdm"
    assert venue.client.timeout == 2500
    assert venue.caller.policy.max_retries == 1


def test_a_fixed_clock_is_refused_for_a_real_venue() -> None:
    with pytest.raises(ValueError, match="--as-of replays the simulated venue only"):
        open_exchange("binanceusdm", seed=7, as_of=AS_OF, symbols=["BTC/USDT:USDT"])


def test_the_sim_seed_belongs_to_its_data_dir(tmp_path):
    from qbtc.market.venue import VenueSeedError, check_sim_seed

    state = tmp_path / "state"
    check_sim_seed(state, 3)  # first use binds the seed
    check_sim_seed(state, 3)  # the same seed again is fine
    with pytest.raises(VenueSeedError, match="holds the simulated market of seed 3; seed 5"):
        check_sim_seed(state, 5)


def test_a_data_dir_from_before_the_record_is_bound_to_its_first_runs_seed(tmp_path):
    from datetime import UTC, datetime

    from qbtc.manifest import RunManifest, record_run
    from qbtc.market.venue import VenueSeedError, check_sim_seed

    lake = tmp_path / "lake"
    at = datetime(2026, 1, 5, tzinfo=UTC)
    record_run(lake, RunManifest(run_id="old", flow="pipeline", parameters={}, seed=7, as_of=at))
    with pytest.raises(VenueSeedError, match="seed 7; seed 8"):
        check_sim_seed(tmp_path / "state", 8, lake_dir=lake)
    check_sim_seed(tmp_path / "state", 7, lake_dir=lake)
