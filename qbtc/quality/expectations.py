"""Run expectation suites with Great Expectations 1.x on polars frames (via pandas).

Great Expectations is imported inside :func:`validate_frame` only: the import costs seconds and
~300 MB, so nothing outside the quality stage pays for it, and it happens once per process
(the ephemeral context, its pandas data source and assets are cached). Suites are stored with
``add_or_update``, so a retried task redefines them cleanly.

An expectation that raises inside GX comes back with ``exception_info``; it is reported as an
error (the check could not run), never as a data failure.

Datetime bounds (which move with every run's clock) go in as suite parameters, so a suite
only changes when the checks do and is rebuilt only then. An empty frame is not sent to GX:
there is nothing to record, and every count is zero.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import polars as pl

from qbtc.quality.checks import ExpectationSpec

_LOCK = threading.Lock()
_SUITES: dict[str, tuple[str, Any]] = {}


@dataclass(frozen=True)
class ExpectationOutcome:
    """What GX said about one expectation of a check.

    ``unexpected_count`` is ``None`` for aggregate expectations (max, set membership of a
    column as a whole); ``error`` is set when the expectation could not be evaluated.
    """

    check: str
    kind: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    error: str | None = None


@cache
def _context() -> Any:
    """The process-wide ephemeral GX context and its pandas data source."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    return context, context.data_sources.add_pandas("qbtc")


def load_great_expectations() -> None:
    """Import GX and build the process's context now (seconds), e.g. while a command waits
    for its server, so that the first gate does not pay for it."""
    with _LOCK:
        _context()


def _batch_definition(source: Any, asset_name: str) -> Any:
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(name=asset_name)
    try:
        return asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe("whole")


def _parametrize(spec: ExpectationSpec, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Kwargs with datetime values replaced by suite parameters, and those parameters."""
    kwargs: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    for key, value in spec.kwargs.items():
        if isinstance(value, datetime):
            name = f"p{index}_{key}"
            kwargs[key] = {"$PARAMETER": name}
            parameters[name] = value
        else:
            kwargs[key] = value
    return kwargs, parameters


def _build(kwargs: dict[str, Any], spec: ExpectationSpec, check: str, index: int) -> Any:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    if spec.where is not None:
        column, value = spec.where
        kwargs = {**kwargs, "row_condition": Column(column) == value}
    cls = getattr(gxe, spec.kind)
    return cls(**kwargs, meta={"qbtc_check": check, "qbtc_index": index})


def _suite(context: Any, asset_name: str, signature: str, built: list[Any]) -> Any:
    """The asset's suite, redefined (``add_or_update``) only when its checks changed."""
    import great_expectations as gx

    cached = _SUITES.get(asset_name)
    if cached is not None and cached[0] == signature:
        return cached[1]
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=f"qbtc-{asset_name}", expectations=built)
    )
    _SUITES[asset_name] = (signature, suite)
    return suite


def _exception_message(info: dict[str, Any]) -> str | None:
    """The first exception message of a GX result (flat or keyed by metric), if any."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "expectation raised")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "metric raised")
    return None


def _outcome(result: Any, check: str) -> ExpectationOutcome:
    stats = result.result or {}
    error = _exception_message(result.exception_info or {})
    unexpected = stats.get("unexpected_count")
    return ExpectationOutcome(
        check=check,
        kind=result.expectation_config.type,
        success=bool(result.success) and error is None,
        element_count=stats.get("element_count"),
        unexpected_count=None if unexpected is None else int(unexpected),
        error=error,
    )


@dataclass(frozen=True)
class SuiteValidation:
    """GX's own record of one validation: the suite and its result, for Data Docs
    (:mod:`qbtc.quality.datadocs`); ``asset`` names the validated frame."""

    asset: str
    suite: Any
    result: Any


@dataclass(frozen=True)
class FrameValidation:
    """One outcome per spec, in order, and GX's record (None when GX did not run)."""

    outcomes: list[ExpectationOutcome]
    record: SuiteValidation | None = None


def validate_frame(
    asset_name: str, frame: pl.DataFrame, specs: Sequence[tuple[str, ExpectationSpec]]
) -> FrameValidation:
    """Validate ``frame`` against ``specs`` (``(check name, expectation)`` pairs) with GX.

    Returns one outcome per spec, in order. A spec GX cannot even build, or a validation
    that fails as a whole, gives error outcomes instead of raising.
    """
    if frame.height == 0:
        return FrameValidation([ExpectationOutcome(c, s.kind, True, 0, 0) for c, s in specs])
    built: list[Any] = []
    parameters: dict[str, Any] = {}
    outcomes: dict[int, ExpectationOutcome] = {}
    signature: list[str] = []
    record: SuiteValidation | None = None
    with _LOCK:
        context, source = _context()
        for index, (check, spec) in enumerate(specs):
            kwargs, values = _parametrize(spec, index)
            try:
                built.append(_build(kwargs, spec, check, index))
            except Exception as exc:  # a malformed expectation is the check's error
                message = f"{type(exc).__name__}: {exc}"
                outcomes[index] = ExpectationOutcome(check, spec.kind, False, None, None, message)
                continue
            parameters |= values
            signature.append(repr((index, check, spec.kind, kwargs, spec.where)))
        if built:
            try:
                suite = _suite(context, asset_name, "\n".join(signature), built)
                batch = _batch_definition(source, asset_name).get_batch(
                    batch_parameters={"dataframe": frame.to_pandas()}
                )
                # GX's own numeric internals may warn on degenerate columns; its verdict is
                # what we record, so its warnings are not ours to surface.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = batch.validate(
                        suite, result_format="BASIC", expectation_parameters=parameters
                    )
            except Exception as exc:  # the whole suite could not run: every check errors
                _SUITES.pop(asset_name, None)
                message = f"validation failed: {type(exc).__name__}: {exc}"
                return FrameValidation(
                    [
                        outcomes.get(i) or ExpectationOutcome(c, s.kind, False, None, None, message)
                        for i, (c, s) in enumerate(specs)
                    ]
                )
            for item in result.results:
                meta = item.expectation_config.meta or {}
                outcomes[int(meta["qbtc_index"])] = _outcome(item, str(meta["qbtc_check"]))
            record = SuiteValidation(asset_name, suite, result)
    missing = "GX returned no result for this expectation"
    return FrameValidation(
        [
            outcomes.get(i) or ExpectationOutcome(c, s.kind, False, None, None, missing)
            for i, (c, s) in enumerate(specs)
        ],
        record,
    )
