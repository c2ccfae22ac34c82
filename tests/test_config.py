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
