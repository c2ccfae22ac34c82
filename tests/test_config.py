from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from qbtc.config import DEFAULT_SYMBOLS, Settings, load_settings


def test_defaults_run_offline_on_the_simulated_venue(data_dir):
    settings = load_settings()
    assert settings.exchange == "sim"
    assert settings.llm_provider == "rules"
    assert tuple(settings.symbols) == DEFAULT_SYMBOLS
    assert settings.lake_dir == data_dir / "lake"
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)


def test_symbols_accept_comma_separated_env(monkeypatch, data_dir):
    monkeypatch.setenv("QBTC_SYMBOLS", "BTC/USDT:USDT, ETH/USDT:USDT")
    assert load_settings().symbols == ["BTC/USDT:USDT", "ETH/USDT:USDT"]


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QBTC_SEED=99\nQBTC_GEMINI_API_KEY=sekret-123\n")
    settings = Settings()
    assert settings.seed == 99
    assert settings.gemini_api_key is not None
    assert settings.gemini_api_key.get_secret_value() == "sekret-123"


def test_secrets_never_appear_in_repr_logs_or_public_dict(monkeypatch, caplog, data_dir):
    monkeypatch.setenv("QBTC_GEMINI_API_KEY", "sekret-123")
    monkeypatch.setenv("QBTC_API_TOKEN", "tok-456")
    settings = load_settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s %s", settings, settings.public_dict())
    text = repr(settings) + str(settings.public_dict()) + caplog.text
    assert "sekret-123" not in text
    assert "tok-456" not in text


def test_empty_symbol_list_is_refused(monkeypatch, data_dir):
    monkeypatch.setenv("QBTC_SYMBOLS", "")
    with pytest.raises(ValidationError, match="at least one symbol"):
        load_settings()


def test_gemini_base_url_in_clear_text_is_allowed_only_to_loopback():
    assert Settings(gemini_base_url="https://gateway.example/v1").gemini_base_url
    assert Settings(gemini_base_url="http://127.0.0.1:9999").gemini_base_url
    assert Settings(gemini_base_url="http://localhost:9999").gemini_base_url
    assert Settings(gemini_base_url="http://[::1]:9999").gemini_base_url
    for url in ("http://gateway.example/v1", "http://10.0.0.5:8080", "ftp://x"):
        with pytest.raises(ValidationError, match="clear text"):
            Settings(gemini_base_url=url)


def test_the_gemini_client_refuses_a_clear_text_key_too():
    from qbtc.signals.gemini_client import open_client

    with pytest.raises(ValueError, match="clear text"):
        open_client("key", base_url="http://gateway.example", timeout_s=1, api_version="v1beta")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("capital", "inf", "finite"),
        ("capital", "nan", "finite"),
        ("capital", "1e300", "less than or equal"),
        ("max_var_99", "-inf", "finite"),
        ("max_order_notional", "1e13", "less than or equal"),
        ("max_leverage", "1000", "less than or equal"),
        ("target_vol", "nan", "finite"),
        ("seed", "-1", "greater than or equal"),
        ("seed", str(2**64), "less than or equal"),
        ("mc_scenarios", "1000000000", "less than or equal"),
        ("circuit_cooldown_s", "99999999999", "less than or equal"),
        ("max_orders_per_cycle", "0", "greater than or equal"),
        ("max_data_age_s", "99999999999", "less than or equal"),
        ("timeframe", "99999999999d", "at most 1w"),
        ("timeframe", "1x", "<n><unit>"),
        ("timeframe", "m", "<n><unit>"),
        ("timeframe", "0m", "<n><unit>"),
        ("exchange", "binanceusdx", "unknown exchange id 'binanceusdx': did you mean"),
        ("options_exchange", "deribitt", "unknown exchange id 'deribitt'"),
        ("data_dir", "/dev/null", "is not a directory"),
    ],
)
def test_numeric_and_named_settings_out_of_bounds_are_refused(
    monkeypatch, data_dir, name, value, says
):
    monkeypatch.setenv(f"QBTC_{name.upper()}", value)
    with pytest.raises(ValidationError, match=None) as error:
        load_settings()
    assert error.value.errors()[0]["loc"] == (name,)
    assert says in str(error.value)


def test_a_data_dir_under_a_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("QBTC_DATA_DIR", str(tmp_path / "file" / "data"))
    with pytest.raises(ValidationError, match="is not a directory"):
        load_settings()


@pytest.mark.parametrize("value", ["1s", "1m", "15m", "4h", "1d", "1w"])
def test_usual_timeframes_are_accepted(monkeypatch, data_dir, value):
    monkeypatch.setenv("QBTC_TIMEFRAME", value)
    assert load_settings().timeframe == value
