"""Typed settings for qbtc, read from the environment (prefix ``QBTC_``) and ``.env``.

Only entry points (CLI, flows, the API factory) build :class:`Settings`; library functions take
plain arguments. Secrets are :class:`pydantic.SecretStr` with no default value and are never
logged or printed: ``Settings.public_dict`` masks them.

The fields are written by group, one module per side of the desk: ``data`` (storage, market,
quality gate), ``trading`` (signals, risk limits, options leg, execution) and ``service``
(API, operations); ``settings`` joins them into the one class.
"""

from qbtc.config.data import DEFAULT_SYMBOLS
from qbtc.config.fields import MAX_USD
from qbtc.config.settings import Settings, load_settings
from qbtc.config.trading import SignalProviderName

__all__ = ["DEFAULT_SYMBOLS", "MAX_USD", "Settings", "SignalProviderName", "load_settings"]
