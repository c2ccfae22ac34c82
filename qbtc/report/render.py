"""The cycle summary as markdown (the pipeline's Prefect artifact) and as terminal text
(``qbtc run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from qbtc.execution.modes import describe_mode
from qbtc.optionsbook import render_options_markdown, shown_pnl_columns
from qbtc.report.summary import CycleSummary


def _seconds(value: Any) -> str:
    return f" in {float(value):.2f} s" if isinstance(value, (int, float)) else ""


def _mode_line(report: CycleSummary) -> str:
    mode = report.mode
    if mode not in ("paper", "dry-run", "testnet", "live"):
        return mode
    return describe_mode(mode, report.exchange)  # type: ignore[arg-type]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"
    return str(value)


def _order_line(report: CycleSummary) -> str:
    if report.orders:
        return "order events " + ", ".join(f"{k} {v}" for k, v in report.orders.items())
    orders_failed = (report.message or "").startswith("stage orders failed")
    if report.status != "completed" and ("orders" not in report.durations or orders_failed):
        return "no order sent: the cycle stopped before its orders went out"
    if report.intents["accepted"]:
        # Submission skips what the ledger already has: a re-run of a decided bar.
        return "no order sent: the accepted intents were submitted by an earlier run"
    return "no order to send"


#: Within this share of the kill-switch level, the drawdown is flagged as close.
DRAWDOWN_WARNING_SHARE = 0.8


def _var_label(risk: dict[str, Any]) -> str:
    """``99% 1-day``: the confidence and horizon the VaR was computed at."""
    confidence, horizon = risk.get("confidence"), risk.get("horizon_days")
    if confidence is None or horizon is None:
        return ""
    return f"{confidence:.0%} {horizon:g}-day"


def _phase_words(risk: dict[str, Any]) -> str:
    return "after orders" if risk.get("phase") == "book" else "before orders"


def _drawdown_words(drawdown: float, limit: float | None) -> str:
    """The drawdown against the kill-switch level, with a warning when it is close."""
    text = f"drawdown {drawdown:.2%} of peak"
    if limit is None:
        return text
    text += f" (kill switch at {limit:.2%})"
    if drawdown >= limit:
        return text + " BEYOND THE KILL-SWITCH LEVEL"
    if drawdown >= DRAWDOWN_WARNING_SHARE * limit:
        return text + f" WARNING: within {limit - drawdown:.2%} of the kill switch"
    return text


def _decided_by(report: CycleSummary) -> str:
    decider = report.intents.get("run_id")
    return f" (decided by run {decider})" if decider and decider != report.run_id else ""


def render_markdown(report: CycleSummary) -> str:
    """The report as markdown (Prefect artifact)."""
    lines = [f"# Cycle {report.run_id}: {report.status}", ""]
    if report.message:
        lines += [f"**{report.message}**", ""]
    m, r = report.market, report.risk
    lines += [f"- as of: {report.as_of}", f"- mode: {_mode_line(report)}"]
    if report.left_alone:
        lines.append(
            f"- this run traded only {', '.join(report.symbols or [])}; positions in "
            f"{', '.join(report.left_alone)} left as they are (a run on a subset of symbols "
            "sends no order outside it; the whole book stays in its risk)"
        )
    lines += [
        f"- data: {m['ohlcv_rows']:,} bars for {m['symbols']} symbols (last {m['last_bar']}), "
        f"{m['option_quote_rows']:,} option quotes; quarantined this run: {m['quarantined_this_run']}",
        f"- quality gate: {report.gate['status']}{_seconds(report.gate.get('seconds'))}"
        + (f"; Data Docs: {report.gate['docs']}" if report.gate.get("docs") else ""),
        f"- signals: {len(report.signals)}; intents accepted {report.intents['accepted']}, "
        f"refused {report.intents['refused']}{_decided_by(report)}; {_order_line(report)}",
        f"- positions: {len(report.positions)} open; PnL realised {_fmt(report.pnl['realized_pnl'])}, "
        f"unrealised {_fmt(report.pnl['unrealized_pnl'])}, fees {_fmt(report.pnl['fees'])}, "
        f"funding {_fmt(report.pnl['funding'])} USDT"
        + "".join(
            f"; coin-settled options {value:+.6f} {coin}" for coin, value in report.coin_pnl.items()
        ),
    ]
    if r:
        lines.append(
            f"- risk ({r['method']}, {_phase_words(r)}): VaR {_var_label(r)} {_fmt(r['var'])}, "
            f"CVaR {_fmt(r['cvar'])} USDT, equity {_fmt(r['equity'])} USDT, "
            f"{_drawdown_words(r['drawdown'] or 0.0, report.drawdown_limit)}"
        )
        if r.get("sharpe") is not None:
            lines.append(
                f"- Sharpe {r['sharpe']:.2f}, Sortino {_fmt(r.get('sortino'))} "
                "(hourly equity returns over the last 30 days, annualised)"
            )
    lines += [f"- alert: {message}" for message in report.alerts]
    fallbacks = sorted({s["fallback_reason"] for s in report.signals if s["fallback_reason"]})
    for reason in fallbacks:
        lines.append(f"- signals fell back to rules: {reason}")
    for refusal in report.intents.get("refusals", [])[:5]:
        lines.append(f"- refused {refusal['symbol']}: {refusal['reason']}")
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in report.durations.items())
    lines.append(f"- stage durations: {stages}")
    lines += [*render_options_markdown(report.options), ""]
    if report.signals:
        lines += [
            "| symbol | direction | strength | confidence | provider |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {s['symbol']} | {s['direction']} | {s['strength']:.2f} | {s['confidence']:.2f} "
            f"| {s['provider']} |"
            for s in report.signals
        ]
    return "\n".join(lines) + "\n"


def render_text(report: CycleSummary, *, data_dir: Path, command: str = "qbtc") -> str:
    """The report for a terminal: the markdown summary, open positions, where to go next.

    ``command`` is how this terminal runs qbtc (``.venv/bin/qbtc``, ``uv run qbtc``), so the
    "next" commands work as typed.
    """
    text = render_markdown(report).replace("**", "").replace("# ", "", 1)
    if report.positions:
        with pl.Config(
            tbl_rows=50, tbl_cols=-1, tbl_hide_dataframe_shape=True, tbl_width_chars=120
        ):
            positions = shown_pnl_columns(pl.DataFrame(report.positions))
            text += "\nopen positions\n" + str(positions) + "\n"
            legs = report.options.get("legs") or []
            if legs:
                shown = shown_pnl_columns(pl.DataFrame(legs))
                text += "\noption legs by structure\n" + str(shown) + "\n"
    text += "\n".join(
        [
            "",
            f"data:     {data_dir.resolve()}  (lake: {data_dir.resolve() / 'lake'})",
            f"catalog:  {data_dir.resolve() / 'qbtc.duckdb'}  (open it read-only any time)",
            "next:",
            f'  {command} sql "SELECT * FROM positions"',
            f'  {command} sql "SELECT symbol, direction, strength, rationale FROM signals ORDER BY timestamp DESC LIMIT 10"',
            f'  {command} sql "SELECT * FROM risk_metrics ORDER BY timestamp DESC LIMIT 5"',
            "  make up      # Prefect UI at http://127.0.0.1:4200, schedules, REST API on :8000",
            "",
        ]
    )
    return text
