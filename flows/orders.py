"""Flow ``orders``: reconcile with the venue, submit the accepted intents, snapshot the book.

The orders of one portfolio never overlap: the flow body holds the slot of the portfolio's
Prefect global concurrency limit (``qbtc-orders-<portfolio id>-<data dir hash>``, limit 1,
created on first use; see :func:`orders_limit_name`), and the library's execution lock
covers the data directory as well. Other portfolios' orders go on meanwhile. Submission is idempotent (client order ids
derived from the decision, ledger and venue checked first), so the submit task may retry and
the flow may be re-run without an order ever being sent twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency

from flows.alerts import EVENT_PREFIX, KILL_SWITCH, raise_alert
from flows.api_guard import call_prefect_api, server_gone
from flows.common import current_run_id, flow_settings, publish_table, whole
from qbtc.config import Settings
from qbtc.execution.brokers import Broker, BrokerSettings, open_broker
from qbtc.execution.cycle import (
    ExecutionConfig,
    execution_lock,
    reconcile_book,
    snapshot_positions,
    submit_intents,
)
from qbtc.execution.intents import OrderIntent, latest_intents_run, load_intents
from qbtc.execution.reconcile import ReconcileReport
from qbtc.execution.submit import SubmissionResult
from qbtc.quality import latest_gate
from qbtc.risk.killswitch import KillSwitch

CIRCUIT_OPEN = f"{EVENT_PREFIX}.venue-circuit-open"


def orders_limit_name(data_dir: Path, portfolio_id: str) -> str:
    """The name of one portfolio's orders concurrency limit.

    A portfolio is its id within a data dir: the ledger (``order_events`` of that
    ``portfolio_id``) and the venue account (the simulator's ``venue/``, or the keys set for
    that data dir) live there. The data dir is named by a hash of its absolute path, so
    workers that mount the same lake at the same path share the limit.
    """
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "-", portfolio_id.lower()).strip("-")[:40] or "book"
    return f"qbtc-orders-{slug}-{digest}"


def ensure_concurrency_limit(name: str, limit: int = 1) -> None:
    """Create the global concurrency limit on the Prefect server when it does not exist."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return
        except ObjectNotFound:
            pass
        with contextlib.suppress(ObjectAlreadyExists):  # another run created it meanwhile
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=limit)
            )


@contextlib.contextmanager
def order_slot(data_dir: Path, portfolio_id: str) -> Iterator[None]:
    """The slot of the portfolio's orders limit on the Prefect server (see
    :func:`orders_limit_name`); without a reachable server, the data dir's execution lock
    alone keeps two cycles apart (a server that went away mid-run never fails the cycle)."""
    name = orders_limit_name(data_dir, portfolio_id)
    call_prefect_api("orders concurrency limit", lambda: ensure_concurrency_limit(name))
    slot = concurrency(name, occupy=1, strict=True)
    call_prefect_api("orders concurrency slot", slot.__enter__)
    if server_gone():
        yield
        return
    try:
        yield
    finally:
        call_prefect_api("orders concurrency release", lambda: slot.__exit__(None, None, None))


def broker_settings(settings: Settings, *, live: bool) -> BrokerSettings:
    """The broker's plain settings (secrets unwrapped only here, never logged).

    ``live`` sends orders to the venue: its testnet while ``QBTC_EXCHANGE_TESTNET`` is on
    (where the cycle's data came from too), the real venue otherwise; without it a real
    venue is a dry-run (see :mod:`qbtc.execution.modes`).
    """
    key, secret = settings.exchange_api_key, settings.exchange_api_secret
    return BrokerSettings(
        exchange=settings.exchange,
        live=live,
        testnet=settings.exchange_testnet,
        base_url=settings.exchange_base_url,
        data_dir=settings.data_dir,
        seed=settings.seed,
        as_of=settings.as_of,
        symbols=tuple(settings.symbols),
        capital=settings.capital,
        api_key=key.get_secret_value() if key else None,
        api_secret=secret.get_secret_value() if secret else None,
        timeout_ms=settings.exchange_timeout_ms,
        max_retries=settings.exchange_max_retries,
    )


def execution_config(settings: Settings) -> ExecutionConfig:
    return ExecutionConfig(
        lake_dir=settings.lake_dir,
        state_dir=settings.state_dir,
        portfolio_id=settings.portfolio_id,
        capital=settings.capital,
        symbols=tuple(settings.symbols),
        venue_error_threshold=settings.venue_error_threshold,
        circuit_cooldown_s=settings.circuit_cooldown_s,
        max_decision_age_s=settings.max_data_age_s,
    )


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, timeout_seconds=300)
def reconcile_task(broker: Broker, config: ExecutionConfig, run_id: str) -> ReconcileReport:
    """Ledger against the venue's orders, positions and balance; repairs from the venue."""
    return reconcile_book(broker, config, run_id=run_id, kill_switch=KillSwitch(config.state_dir))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, timeout_seconds=600)
def submit_task(
    broker: Broker,
    config: ExecutionConfig,
    intents: list[OrderIntent],
    run_id: str,
    hold: str | None = None,
) -> list[SubmissionResult]:
    """Submit the intents; retrying is safe (ledger and venue are checked first)."""
    kill_switch = KillSwitch(config.state_dir)
    return submit_intents(
        broker, config, intents, run_id=run_id, kill_switch=kill_switch, hold=hold
    )


def gate_hold(lake_dir: Path) -> str | None:
    """Why orders must wait (the latest quality gate failed), or None when it passed."""
    gate = latest_gate(lake_dir)
    if gate.passed:
        return None
    return "quality gate failed: " + "; ".join(gate.reasons)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1, timeout_seconds=300)
def positions_task(broker: Broker, config: ExecutionConfig) -> int:
    """Write the book's position snapshot; returns the number of positions."""
    return snapshot_positions(broker, config).height


def _rows(results: list[SubmissionResult]) -> list[dict[str, Any]]:
    return [
        {
            "client_order_id": r.client_order_id,
            "symbol": r.symbol,
            "side": r.side,
            "quantity": r.quantity,
            "action": r.action,
            "status": r.status,
            "filled": r.filled_quantity,
            "average_price": r.average_price,
            "venue_order_id": r.venue_order_id,
            "reason": r.reason,
        }
        for r in results
    ]


@flow(name="orders")
def orders(
    intents_run_id: str | None = None,
    as_of: datetime | None = None,
    live: bool = False,
    data_dir: str | None = None,
    symbols: list[str] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """One execution cycle for the accepted intents of ``intents_run_id`` (default: newest).

    ``live`` sends real orders (a ccxt venue and API keys are required); without it a ccxt
    venue is used on its testnet and ``QBTC_EXCHANGE=sim`` trades on the simulated venue.
    Reconciliation and the position snapshot always run; orders wait while the latest
    quality gate has failed (each intent records why).
    """
    settings = flow_settings(
        as_of=as_of, data_dir=Path(data_dir) if data_dir else None, symbols=symbols, seed=seed
    )
    run_id = current_run_id()
    config = execution_config(settings)
    broker = open_broker(broker_settings(settings, live=live or settings.live))
    kill_switch = KillSwitch(settings.state_dir)
    was_on = kill_switch.status().on
    opened_before = config.circuit().state().opened_at
    with order_slot(settings.data_dir, settings.portfolio_id), execution_lock(config.state_dir):
        report = reconcile_task(broker, config, run_id)
        source = intents_run_id or latest_intents_run(settings.lake_dir)
        intents = load_intents(settings.lake_dir, source) if source else []
        hold = gate_hold(settings.lake_dir) if intents else None
        results = submit_task(broker, config, whole(intents), run_id, hold)
        held = positions_task(broker, config)
    circuit = config.circuit().state()
    if circuit.opened_at is not None and circuit.opened_at != opened_before:
        raise_alert(
            settings.lake_dir,
            event=CIRCUIT_OPEN,
            run_id=run_id,
            message=f"venue circuit open until {circuit.open_until}: {circuit.reason}",
            severity="critical",
        )
    state = kill_switch.status()
    if state.on and not was_on:
        raise_alert(
            settings.lake_dir,
            event=KILL_SWITCH,
            run_id=run_id,
            message=f"kill switch tripped by execution: {state.reason}",
            severity="critical",
        )
    publish_table("orders-cycle", _rows(results), f"Orders of intents run {source} ({broker.name})")
    actions = [r.action for r in results]
    return {
        "run_id": run_id,
        "intents_run_id": source,
        "broker": broker.name,
        "intents": len(intents),
        "actions": {a: actions.count(a) for a in sorted(set(actions))},
        "held": hold,
        "repairs": list(report.repairs),
        "kill_switch_tripped": state.on and not was_on,
        "positions": held,
    }
