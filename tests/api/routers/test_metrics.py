from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_expose_lag_runs_gate_orders_pnl_and_var(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("qbtc_data_lag_seconds", (("dataset", "ohlcv"),))] > 0
    assert ("qbtc_data_lag_seconds", (("dataset", "quarantine"),)) not in samples
    assert samples[("qbtc_last_run_age_seconds", ())] > 0
    assert samples[("qbtc_last_run_status", (("flow", "pipeline"), ("status", "completed")))] == 1
    assert samples[("qbtc_quality_gate_passed", ())] == 1
    assert samples[("qbtc_kill_switch_on", ())] == 0
    assert samples[("qbtc_orders", (("status", "accepted"),))] == 2
    assert samples[("qbtc_orders", (("status", "refused"),))] == 1
    assert samples[("qbtc_order_events", (("event", "filled"),))] == 2
    assert samples[("qbtc_order_rejects", ())] == 0
    # Latest snapshot: quantities 1, -2, 3 at prices 100, 200, 300 -> 1% of notional each.
    unrealized = (("component", "unrealized"), ("portfolio_id", "main"))
    assert samples[("qbtc_pnl_usdt", unrealized)] == 1.0 - 4.0 + 9.0
    held = (("method", "historical"), ("phase", "book"), ("portfolio_id", "main"))
    assert samples[("qbtc_risk_var", held)] == 12000
    pre_trade = (("method", "historical"), ("phase", "pre_trade"), ("portfolio_id", "main"))
    assert samples[("qbtc_risk_var", pre_trade)] == 11000
