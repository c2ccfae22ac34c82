"""qbtc: a hybrid futures-options crypto desk run as an observable data pipeline."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qbtc")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
