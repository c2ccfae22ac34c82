"""The one :class:`Settings` class: every settings group, read from ``QBTC_*`` and ``.env``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from qbtc.config.data import MarketSettings, QualitySettings, StorageSettings
from qbtc.config.service import ApiSettings, OperationsSettings
from qbtc.config.trading import ExecutionSettings, OptionsSettings, RiskSettings, SignalSettings


# pydantic collects fields from the bases last to first: listing the groups in reverse keeps
# the fields (and ``public_dict``) in reading order, storage first.
class Settings(
    OperationsSettings,
    ApiSettings,
    ExecutionSettings,
    OptionsSettings,
    RiskSettings,
    SignalSettings,
    QualitySettings,
    MarketSettings,
    StorageSettings,
    BaseSettings,
):
    """Every knob qbtc has. Environment variables are ``QBTC_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="QBTC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        allow_inf_nan=False,  # every float setting is finite: "inf" or "nan" is refused
    )

    def public_dict(self) -> dict[str, Any]:
        """Settings as plain values with every secret masked (safe to log or store)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "**********"
            elif isinstance(value, Path):
                out[name] = str(value)
            elif isinstance(value, datetime):
                out[name] = value.isoformat()
            else:
                out[name] = value
        return out


def load_settings(**overrides: Any) -> Settings:
    """Build settings from env and ``.env``, with explicit overrides (entry points only)."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)
