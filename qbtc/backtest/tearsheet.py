"""The tear sheet of a backtest: one self-contained HTML file (inline SVG, no script, no CDN).

Equity and drawdown curves, gross and net exposure over time, monthly returns and the
metrics table. It opens offline in any browser; the API serves it and the backtest flow
links it from its Prefect artifact.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import datetime

import polars as pl

from qbtc.backtest.metrics import Metric

WIDTH, HEIGHT, PAD = 880, 220, 48


def _polyline(times: Sequence[datetime], series: Sequence[float], lo: float, hi: float) -> str:
    t0, t1 = times[0].timestamp(), times[-1].timestamp()
    span_t = (t1 - t0) or 1.0
    span_v = (hi - lo) or 1.0
    points = []
    for moment, value in zip(times, series, strict=True):
        x = PAD + (moment.timestamp() - t0) / span_t * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD / 2 - (value - lo) / span_v * (HEIGHT - PAD)
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def line_chart(
    title: str, times: Sequence[datetime], lines: dict[str, Sequence[float]], unit: str
) -> str:
    """An SVG chart of one or more series over the same times."""
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    values = [v for series in lines.values() for v in series if math.isfinite(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff" stroke="#ddd"/>',
        f'<text x="{PAD}" y="16" font-size="13" font-family="sans-serif">'
        f"{html.escape(title)} ({html.escape(unit)})</text>",
        f'<text x="4" y="{PAD / 2 + 12}" font-size="10" font-family="sans-serif">{hi:,.4g}</text>',
        f'<text x="4" y="{HEIGHT - PAD / 2}" font-size="10" font-family="sans-serif">{lo:,.4g}</text>',
    ]
    if times:
        parts.append(
            f'<text x="{PAD}" y="{HEIGHT - 4}" font-size="10" font-family="sans-serif">'
            f"{times[0]:%Y-%m-%d %H:%M}</text>"
            f'<text x="{WIDTH - PAD - 90}" y="{HEIGHT - 4}" font-size="10" '
            f'font-family="sans-serif">{times[-1]:%Y-%m-%d %H:%M}</text>'
        )
    for (name, series), colour in zip(lines.items(), colours, strict=False):
        if len(series) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                f'points="{_polyline(times, series, lo, hi)}"><title>{html.escape(name)}'
                "</title></polyline>"
            )
    legend = " ".join(
        f'<tspan fill="{c}">■ {html.escape(n)}</tspan>'
        for n, c in zip(lines, colours, strict=False)
    )
    parts.append(
        f'<text x="{WIDTH - PAD - 260}" y="16" font-size="11" font-family="sans-serif">'
        f"{legend}</text></svg>"
    )
    return "".join(parts)


def monthly_returns(equity: pl.DataFrame, initial_equity: float) -> pl.DataFrame:
    """Return of each calendar month (fraction): last equity of the month over the previous."""
    if equity.is_empty():
        return pl.DataFrame(schema={"month": pl.String(), "return": pl.Float64()})
    last = (
        equity.sort("timestamp")
        .group_by(pl.col("timestamp").dt.strftime("%Y-%m").alias("month"), maintain_order=True)
        .agg(pl.col("equity").last())
    )
    previous = pl.concat([pl.Series([initial_equity]), last["equity"].head(-1)])
    return last.select("month", (pl.col("equity") / previous.to_numpy() - 1.0).alias("return"))


def _table(rows: list[tuple[str, str, str]], header: tuple[str, str, str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_tear_sheet(
    *,
    title: str,
    equity: pl.DataFrame,
    metrics: Sequence[Metric],
    initial_equity: float,
    parameters: dict[str, object],
    caveat: str | None,
) -> str:
    """The tear sheet HTML of a backtest (``equity`` has the ``backtest_equity`` schema)."""
    times = equity["timestamp"].to_list()
    charts = [
        line_chart("Equity", times, {"equity": equity["equity"].to_list()}, "USDT"),
        line_chart(
            "Drawdown", times, {"drawdown": (-equity["drawdown"]).to_list()}, "fraction of peak"
        ),
        line_chart(
            "Exposure",
            times,
            {"gross": equity["gross_notional"].to_list(), "net": equity["net_notional"].to_list()},
            "USDT notional",
        ),
    ]
    months = monthly_returns(equity, initial_equity)
    month_rows = [(m, f"{r:+.2%}", "fraction") for m, r in months.iter_rows()]
    metric_rows = [
        (m.name, "n/a" if not math.isfinite(m.value) else f"{m.value:,.6g}", m.unit)
        for m in metrics
    ]
    params = [(k, str(v), "") for k, v in sorted(parameters.items())]
    warning = f'<p class="caveat"><b>Caveat:</b> {html.escape(caveat)}</p>' if caveat else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;margin:8px 0 24px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
        ".caveat{background:#fff4d6;padding:8px;border:1px solid #e0c060}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{warning}"
        + "".join(f"<div>{c}</div>" for c in charts)
        + "<h2>Monthly returns</h2>"
        + _table(month_rows, ("month", "return", "unit"))
        + "<h2>Metrics</h2>"
        + _table(metric_rows, ("metric", "value", "unit"))
        + "<h2>Parameters</h2>"
        + _table(params, ("parameter", "value", ""))
        + "</body></html>"
    )
