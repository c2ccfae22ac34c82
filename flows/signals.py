"""Flow ``signals``: the latest feature snapshot in, one signal per symbol and one
volatility view per option underlying out.

The provider (``rules`` | ``gemini`` | ``replay``) is a typed parameter, defaulting to
``QBTC_LLM_PROVIDER``. The flow refuses to run on a failed quality gate: it records an alert
(``quality-gate-failed``, stage ``signals``), publishes why, and fails. The Gemini key comes
from ``QBTC_GEMINI_API_KEY`` or, when that is unset, from the Prefect Secret block named by
``gemini_secret_block``; it is unwrapped only inside the signals task and never logged,
published or returned.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from flows.alerts import GATE_FAILED, raise_alert
from flows.common import current_run_id, flow_settings, publish_markdown, publish_table, whole
from qbtc.config import Settings, SignalProviderName
from qbtc.features import FeatureSnapshot, latest_snapshot
from qbtc.quality import GateStatus, latest_gate
from qbtc.signals import (
    CycleResult,
    GeminiConfig,
    GeminiRetryPolicy,
    SignalsRefusedError,
    make_provider,
    refusal_message,
    run_signal_cycle,
)

SECRET_BLOCK = "qbtc-gemini-api-key"


def gemini_api_key(settings: Settings, block_name: str | None) -> SecretStr | None:
    """The key from settings, else from the Prefect Secret block ``block_name`` (if any)."""
    if settings.gemini_api_key is not None or not block_name:
        return settings.gemini_api_key
    from prefect.blocks.system import Secret

    try:
        block = cast("Secret[str]", Secret.load(block_name))  # sync here (not in an event loop)
    except ValueError:
        return None
    value = block.get()
    return SecretStr(str(value)) if value else None


def gemini_config(settings: Settings, api_key: SecretStr | None) -> GeminiConfig:
    """Plain Gemini settings for the library (the key stays a ``SecretStr``)."""
    return GeminiConfig(
        model=settings.gemini_model,
        api_key=api_key,
        base_url=settings.gemini_base_url,
        timeout_s=settings.gemini_timeout_s,
        retry=GeminiRetryPolicy(max_retries=settings.gemini_max_retries),
        token_budget=settings.llm_token_budget,
    )


@task(cache_policy=NO_CACHE)
def latest_gate_task(lake_dir: Path) -> GateStatus:
    """The latest quality gate."""
    return latest_gate(lake_dir)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1)
def snapshot_task(lake_dir: Path, symbols: list[str], as_of: datetime) -> FeatureSnapshot:
    """Feature rows of every symbol at the last bar <= ``as_of``."""
    return latest_snapshot(lake_dir, symbols, as_of)


@task(cache_policy=NO_CACHE, timeout_seconds=600)
def signals_task(
    snapshot: FeatureSnapshot,
    provider: SignalProviderName,
    settings: Settings,
    run_id: str,
    secret_block: str | None = SECRET_BLOCK,
    replay_run_id: str | None = None,
) -> CycleResult:
    """Ask the provider (falling back to rules on any LLM failure) and store the result."""
    key = gemini_api_key(settings, secret_block) if provider == "gemini" else None
    chosen = make_provider(
        provider,
        gemini=gemini_config(settings, key),
        lake_dir=settings.lake_dir,
        state_dir=settings.state_dir,
        symbols=settings.symbols,
        underlyings=settings.option_underlyings,
        replay_run_id=replay_run_id,
        strategy=settings.strategy,
        strategy_fallback=settings.strategy_fallback,
    )
    return run_signal_cycle(snapshot, chosen, lake_dir=settings.lake_dir, run_id=run_id)


def refuse(gate: GateStatus, *, lake_dir: Path, run_id: str) -> SignalsRefusedError:
    """Record why the cycle refuses (alert + artifact) and return the error to raise."""
    message = refusal_message(gate)
    details = {"stage": "signals", "gate_run_id": gate.run_id, "reasons": list(gate.reasons)}
    raise_alert(lake_dir, event=GATE_FAILED, run_id=run_id, message=message, details=details)
    publish_markdown("signals-refused", f"**Signals refused.** {message}", "Why no signals")
    return SignalsRefusedError(message)


def signals_summary(result: CycleResult) -> dict[str, Any]:
    """What the run did, for the UI and the pipeline's manifest (no secrets)."""
    return {
        "run_id": result.run_id,
        "requested": result.requested,
        "provider": result.provider,
        "model": result.model,
        "decision_bar": result.decision_bar.isoformat(),
        "feature_snapshot": result.snapshot_id,
        "signals": result.signals.height,
        "vol_views": result.vol_views.height,
        "llm_calls": result.calls,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_usd": round(result.cost_usd, 6),
        "fallback_reason": result.fallback_reason,
    }


def publish_signals(result: CycleResult) -> None:
    columns = ["symbol", "direction", "strength", "confidence", "horizon_minutes", "provider"]
    rows = result.signals.sort("symbol").select([*columns, "rationale"]).to_dicts()
    publish_table("signals", rows, f"Signals at {result.decision_bar:%Y-%m-%d %H:%M} UTC")
    if result.vol_views.height:
        vol_columns = ["underlying", "vol_view", "confidence", "atm_iv", "realised_forecast"]
        vol_rows = result.vol_views.sort("underlying").select([*vol_columns, "rationale"])
        publish_table(
            "vol-views",
            vol_rows.to_dicts(),
            f"Volatility views at {result.decision_bar:%Y-%m-%d %H:%M} UTC",
        )
    lines = [f"- **{key}**: {value}" for key, value in signals_summary(result).items()]
    publish_markdown("signals-summary", "\n".join(lines), "Signal cycle summary")


@flow(name="signals")
def signals(
    provider: SignalProviderName | None = None,
    as_of: datetime | None = None,
    symbols: list[str] | None = None,
    replay_run_id: str | None = None,
    gemini_secret_block: str | None = SECRET_BLOCK,
    data_dir: str | None = None,
    strategy: str | None = None,
) -> dict[str, Any]:
    """One signal per symbol from ``provider`` (default ``QBTC_LLM_PROVIDER``).

    ``replay_run_id`` pins the ``replay`` provider to the LLM calls of one past run;
    ``gemini_secret_block`` names the Prefect Secret holding the Gemini key when
    ``QBTC_GEMINI_API_KEY`` is unset; ``strategy`` the user strategy of the ``strategy``
    provider (default ``QBTC_STRATEGY``).
    """
    settings = flow_settings(
        llm_provider=provider,
        as_of=as_of,
        symbols=symbols,
        data_dir=Path(data_dir) if data_dir else None,
        strategy=strategy,
    )
    run_id = current_run_id()
    gate = latest_gate_task(settings.lake_dir)
    if not gate.passed:
        raise refuse(gate, lake_dir=settings.lake_dir, run_id=run_id)
    snapshot = snapshot_task(
        settings.lake_dir, settings.symbols, settings.as_of or datetime.now(UTC)
    )
    result = signals_task(
        whole(snapshot), settings.llm_provider, settings, run_id, gemini_secret_block, replay_run_id
    )
    if result.fallback_reason:
        get_run_logger().warning("fell back to rules: %s", result.fallback_reason)
    publish_signals(result)
    return signals_summary(result)
