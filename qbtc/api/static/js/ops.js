// Orders (blotter and lineage), Operations and Backtests panels.
import { getAll, getJSON, getText, routes } from "./api.js";
import { LineChart, seconds } from "./charts.js";
import { empty, facts, fmt, h, showDetail, sign } from "./dom.js";
import { Table } from "./table.js";

const $ = (id) => document.getElementById(id);

function runLink(state, runId) {
  return h("a", { href: `${state.desk.prefect_ui_url}/runs/flow-run/${runId}`, target: "_blank", rel: "noopener" }, runId);
}

export function ordersPanel(state) {
  const table = new Table($("orders-table"), {
    label: "Order blotter",
    empty: "no orders yet",
    onOpen: (row) => openLineage(state, row.client_order_id),
    columns: [
      { key: "timestamp", label: "Decision bar (UTC)", format: fmt.time },
      { key: "symbol", label: "Symbol" },
      { key: "leg", label: "Leg" },
      { key: "structure_id", label: "Structure" },
      { key: "side", label: "Side" },
      { key: "quantity", label: "Quantity (contracts)", num: true, format: fmt.qty },
      { key: "order_type", label: "Type" },
      { key: "limit_price", label: "Limit (USDT)", num: true, format: fmt.price },
      { key: "notional", label: "Notional (USDT)", num: true, format: fmt.usd },
      { key: "status", label: "Checks", cls: (v) => (v === "refused" ? "neg" : "") },
      { key: "last_event", label: "Ledger state" },
      { key: "filled_quantity", label: "Filled (contracts)", num: true, format: fmt.qty },
      { key: "last_price", label: "Price (USDT)", num: true, format: fmt.price },
      { key: "reason", label: "Reason", wrap: true },
    ],
  });
  async function refresh() {
    const page = await getJSON("/api/orders", { limit: 300 });
    table.setRows(page.items);
    $("orders-meta").textContent = `${page.items.length} of ${page.total} orders, newest first`;
  }
  return { refresh, tables: { orders: table } };
}

export async function openLineage(state, clientOrderId) {
  showDetail(`Order ${clientOrderId}`, h("p", { class: "empty" }, "loading the lineage…"));
  const l = await getJSON(`/api/orders/${encodeURIComponent(clientOrderId)}/lineage`);
  const i = l.intent;
  const body = [
    h("h3", {}, "Intent and risk decision"),
    facts([
      ["Symbol / leg", `${i.symbol} / ${i.leg}`],
      i.structure_id ? ["Option structure", i.structure_id] : null,
      ["Side, quantity (contracts)", `${i.side} ${fmt.qty(i.quantity)}`],
      ["Type, limit (USDT)", `${i.order_type} ${fmt.price(i.limit_price)}`],
      ["Notional (USDT)", fmt.usd(i.notional)],
      ["Decision bar (UTC)", fmt.time(i.timestamp)],
      ["Pre-trade checks", `${i.status}${i.reason ? ": " + i.reason : ""}`],
      ["Strategy", i.strategy],
      ["Reduce only", String(i.reduce_only)],
    ]),
  ];
  if (l.risk.length) {
    body.push(h("h3", {}, "Risk the checks saw (pre-trade, USDT)"), h("table", {},
      h("thead", {}, h("tr", {}, ["Method", "VaR (USDT)", "CVaR (USDT)", "Equity (USDT)", "Leverage (×)", "Delta (USDT)"].map((t) => h("th", {}, t)))),
      h("tbody", {}, l.risk.map((r) => h("tr", {}, h("td", {}, r.method), h("td", { class: "num" }, fmt.usd(r.var)), h("td", { class: "num" }, fmt.usd(r.cvar)),
        h("td", { class: "num" }, fmt.usd(r.equity)), h("td", { class: "num" }, fmt.num(r.leverage, 3)), h("td", { class: "num" }, fmt.usd(r.delta_usd)))))));
  }
  body.push(h("h3", {}, "Ledger events"), l.events.length ? h("table", {},
    h("thead", {}, h("tr", {}, ["At (UTC)", "Event", "Filled (contracts)", "Price (USDT)", "Venue id", "Reason"].map((t) => h("th", {}, t)))),
    h("tbody", {}, l.events.map((e) => h("tr", {}, h("td", {}, fmt.time(e.timestamp)), h("td", {}, e.event), h("td", { class: "num" }, fmt.qty(e.filled_quantity)),
      h("td", { class: "num" }, fmt.price(e.price)), h("td", {}, e.venue_order_id ?? "–"), h("td", {}, e.reason ?? "")))))
    : h("p", { class: "empty" }, "never sent"));
  if (l.fills.length) {
    body.push(h("h3", {}, "Fills"), h("table", {},
      h("thead", {}, h("tr", {}, ["At (UTC)", "Quantity (contracts)", "Price (USDT)", "Fee", "Liquidity"].map((t) => h("th", {}, t)))),
      h("tbody", {}, l.fills.map((f) => h("tr", {}, h("td", {}, fmt.time(f.timestamp)), h("td", { class: "num" }, fmt.qty(f.quantity)),
        h("td", { class: "num" }, fmt.price(f.price)), h("td", { class: "num" }, `${fmt.num(f.fee, 4)} ${f.fee_currency}`), h("td", {}, f.liquidity))))));
  }
  body.push(h("h3", {}, "Signal"));
  if (l.signal) {
    const s = l.signal;
    body.push(facts([
      ["Direction, strength (−1…1)", `${s.direction} ${fmt.num(s.strength, 2)}`],
      ["Confidence (0…1)", fmt.num(s.confidence, 2)],
      ["Provider / model", `${s.provider} / ${s.model ?? "–"}`],
      ["Rationale", s.rationale],
      ["Feature snapshot", s.feature_snapshot],
      s.fallback_reason ? ["Fallback", s.fallback_reason] : null,
    ]));
  } else {
    body.push(h("p", { class: "empty" }, l.vol_view
      ? "no directional signal: an option leg or a hedge, decided from the volatility view below"
      : "no signal of this run for the symbol (a hedge or a flatten order)"));
  }
  if (l.vol_view) {
    const v = l.vol_view;
    body.push(h("h3", {}, `Volatility view of ${v.underlying}`), facts([
      ["Vol view (−1 sell … 1 buy)", fmt.num(v.vol_view, 2)],
      ["Confidence (0…1)", fmt.num(v.confidence, 2)],
      ["ATM IV / realised forecast (%)", `${fmt.pct(v.atm_iv, 1)} / ${fmt.pct(v.realised_forecast, 1)}`],
      ["Tenor (days)", fmt.num(v.tenor_days, 1)],
      ["Provider / model", `${v.provider} / ${v.model ?? "–"}`],
      ["Rationale", v.rationale],
      ["Feature snapshot", v.feature_snapshot],
    ]));
  }
  if (l.features) {
    body.push(h("details", {}, h("summary", {}, `Feature row at the decision bar (${Object.keys(l.features).length} features)`),
      facts(Object.entries(l.features).map(([k, v]) => [k, typeof v === "number" ? fmt.num(v, 6) : String(v)]))));
  }
  for (const call of l.llm_calls) {
    body.push(h("h3", {}, `LLM call (${call.model}, ${call.status})`),
      h("details", {}, h("summary", {}, "Prompt"), h("pre", {}, call.prompt)),
      h("details", {}, h("summary", {}, "Answer"), h("pre", {}, call.response ?? call.error ?? "–")));
  }
  body.push(h("h3", {}, "Run"));
  if (l.run) {
    body.push(facts([
      ["Run (Prefect flow run)", runLink(state, l.run.run_id)],
      ["Flow, status", `${l.run.flow}, ${l.run.status}`],
      ["Started / finished (UTC)", `${fmt.time(l.run.timestamp)} / ${fmt.time(l.run.finished_at)}`],
      ["Seed", l.run.seed],
      ["Code version", l.run.code_version],
      ["LLM model", l.run.llm_model],
    ]), h("details", {}, h("summary", {}, "Manifest"), h("pre", {}, JSON.stringify(l.run, null, 2))));
  } else {
    body.push(h("p", { class: "empty" }, "no manifest stored for this run"));
  }
  showDetail(`Order ${clientOrderId}`, body);
}

export function operationsPanel(state) {
  const freshness = new Table($("freshness-table"), {
    label: "Data freshness",
    empty: "no datasets",
    columns: [
      { key: "dataset", label: "Dataset" },
      { key: "lag_seconds", label: "Age (s, min, h, d)", num: true, format: fmt.age },
      { key: "newest", label: "Newest (UTC)", format: fmt.time },
      { key: "files", label: "Files (count)", num: true },
    ],
  });
  const alerts = new Table($("alerts-table"), {
    label: "Alerts",
    empty: "no alerts",
    onOpen: (row) => showDetail(`Alert ${row.kind}`, [facts([["At (UTC)", fmt.time(row.timestamp)], ["Severity", row.severity], ["Run", row.run_id]]), h("pre", {}, row.message + "\n\n" + row.details)]),
    columns: [
      { key: "timestamp", label: "At (UTC)", format: fmt.time },
      { key: "severity", label: "Severity", cls: (v) => (v === "critical" ? "neg" : "") },
      { key: "kind", label: "Kind" },
      { key: "message", label: "Message", wrap: true },
    ],
  });
  const runs = new Table($("runs-table"), {
    label: "Last runs",
    empty: "no runs yet",
    onOpen: (row) => window.open(`${state.desk.prefect_ui_url}/runs/flow-run/${row.run_id}`, "_blank", "noopener"),
    columns: [
      { key: "timestamp", label: "Started (UTC)", format: fmt.time },
      { key: "flow", label: "Flow" },
      { key: "status", label: "Status", cls: (v) => (v === "failed" || v === "crashed" ? "neg" : v === "completed" ? "pos" : "") },
      { key: "duration", label: "Duration (s)", num: true, format: (v) => fmt.num(v, 1) },
      { key: "run_id", label: "Prefect flow run (opens the UI)", link: (v) => `${state.desk.prefect_ui_url}/runs/flow-run/${v}` },
      { key: "message", label: "Message", wrap: true },
    ],
  });
  let alertItems = [];

  function pills(health, desk) {
    const set = (id, text, level) => { const el = $(id); el.textContent = text; el.className = `pill ${level}`; };
    set("pill-gate", health.quality_gate.passed ? "gate pass" : "gate FAIL", health.quality_gate.passed ? "good" : "bad");
    set("pill-kill", health.kill_switch.on ? "kill switch ON" : "kill switch off", health.kill_switch.on ? "bad" : "good");
    set("pill-circuit", desk.circuit.open ? "circuit OPEN" : "circuit closed", desk.circuit.open ? "bad" : "good");
  }

  async function refresh() {
    const [health, desk, runPage, alertPage, quarantine] = await Promise.all([
      getJSON("/api/health"), getJSON("/api/desk"), getJSON("/api/runs", { limit: 20 }), getJSON("/api/alerts", { limit: 50 }),
      getJSON("/api/quarantine"),
    ]);
    const refused = quarantine.datasets;
    const quarantined = refused.length
      ? refused.map((d) => `${d.dataset} ${d.last_gate_rows} / ${d.rows}`).join(", ")
      : "none";
    state.desk = { ...state.desk, circuit: desk.circuit };
    pills(health, desk);
    const gate = health.quality_gate;
    $("controls").replaceChildren(
      h("dt", {}, "Desk"), h("dd", { class: health.status === "ok" ? "pos" : "neg" }, health.status + (health.problems.length ? `: ${health.problems.join("; ")}` : "")),
      h("dt", {}, "Quality gate"), h("dd", {}, `${gate.passed ? "pass" : "fail"}${gate.timestamp ? ` at ${fmt.time(gate.timestamp)} UTC` : ""}${gate.reasons.length ? ` (${gate.reasons.join("; ")})` : ""}`),
      h("dt", {}, "Quarantined rows (last gate / all)"), h("dd", { class: refused.some((d) => d.last_gate_rows) ? "neg" : "" }, quarantined),
      h("dt", {}, "Kill switch"), h("dd", { class: health.kill_switch.on ? "neg" : "" }, health.kill_switch.on ? `ON since ${fmt.time(health.kill_switch.since)} UTC: ${health.kill_switch.reason ?? ""}` : "off"),
      h("dt", {}, "Circuit breaker"), h("dd", { class: desk.circuit.open ? "neg" : "" }, desk.circuit.open ? `OPEN until ${fmt.time(desk.circuit.open_until)} UTC: ${desk.circuit.reason}` : `closed (${desk.circuit.consecutive_errors} of ${desk.circuit.threshold} venue errors)`),
      h("dt", {}, "Venue / options"), h("dd", {}, `${desk.exchange} / ${desk.options_exchange}${desk.live ? " (LIVE)" : " (paper)"}`),
      h("dt", {}, "Signals"), h("dd", {}, desk.signal_provider),
      h("dt", {}, "Prefect UI"), h("dd", {}, h("a", { href: desk.prefect_ui_url, target: "_blank", rel: "noopener" }, desk.prefect_ui_url)),
    );
    freshness.setRows(health.datasets);
    runs.setRows(runPage.items.map((r) => ({
      ...r, duration: r.finished_at ? (Date.parse(r.finished_at) - Date.parse(r.timestamp)) / 1000 : null,
    })));
    alertItems = alertPage.items;
    alerts.setRows(alertItems);
    $("ops-meta").textContent = `as of ${fmt.time(health.time)} UTC · last run ${health.last_run ? `${health.last_run.status}, ${fmt.age(health.last_run.age_seconds)} ago` : "none"}`;
  }

  /** /ws/alerts frames carry each alert once: newest go on top. */
  function onAlerts(items) {
    const known = new Set(alertItems.map((a) => a.alert_id));
    const fresh = items.filter((a) => !known.has(a.alert_id));
    if (!fresh.length) return;
    alertItems = [...fresh.reverse(), ...alertItems].slice(0, 200);
    alerts.setRows(alertItems);
  }
  return { refresh, onAlerts, tables: { freshness, alerts, runs } };
}

export function backtestsPanel(state) {
  const available = routes.has("/api/backtests");
  const table = new Table($("backtests-table"), {
    label: "Backtests",
    empty: available ? "no backtests yet: run one with qbtc backtest" : "no backtests yet: this API does not serve them",
    onOpen: (row) => openBacktest(row),
    columns: [
      { key: "timestamp", label: "Ran (UTC)", format: fmt.time },
      { key: "backtest_id", label: "Backtest" },
      { key: "strategy", label: "Strategy" },
      { key: "start", label: "From (UTC)", format: fmt.time },
      { key: "end", label: "To (UTC)", format: fmt.time },
      { key: "interval", label: "Interval" },
      { key: "fill_model", label: "Fills" },
      { key: "total_return", label: "Return (%)", num: true, format: (v) => fmt.pct(v), cls: sign },
      { key: "annual_return", label: "Annualised (%)", num: true, format: (v) => fmt.pct(v), cls: sign },
      { key: "sharpe", label: "Sharpe (annualised)", num: true, format: (v) => fmt.num(v, 2) },
      { key: "max_drawdown", label: "Max drawdown (%)", num: true, format: (v) => fmt.pct(v) },
      { key: "final_equity", label: "Final equity (USDT)", num: true, format: fmt.usd },
      { key: "decisions", label: "Decisions (count)", num: true },
    ],
  });

  async function openBacktest(row) {
    const id = row.backtest_id;
    showDetail(`Backtest ${id}`, h("p", { class: "empty" }, "loading…"));
    const detail = await getJSON(`/api/backtests/${encodeURIComponent(id)}`);
    const b = detail.backtest;
    const chartBox = h("div", { class: "chart", id: "chart-backtest" });
    const sheet = h("div", {});
    const body = [
      facts([
        ["Strategy / provider", `${b.strategy} / ${b.provider}`],
        ["Window (UTC)", `${fmt.time(b.start)} → ${fmt.time(b.end)} every ${b.interval}`],
        ["Fills, fee rate (%), slippage (bps)", `${b.fill_model}, ${fmt.pct(b.fee_rate, 3)}, ${fmt.num(b.slippage_bps, 1)}`],
        ["Equity (USDT)", `${fmt.usd(b.initial_equity)} → ${fmt.usd(b.final_equity)}`],
        ["Seed, code version", `${b.seed}, ${b.code_version}`],
        ["Data snapshot", b.data_snapshot],
        b.caveat ? ["Caveat", b.caveat] : null,
      ]),
      h("h3", {}, "Equity (USDT)"), chartBox,
      h("h3", {}, "Metrics"),
      h("table", {}, h("thead", {}, h("tr", {}, ["Metric", "Value", "Unit"].map((t) => h("th", {}, t)))),
        h("tbody", {}, detail.metrics.map((m) => h("tr", {}, h("td", {}, m.metric), h("td", { class: "num" }, fmt.num(m.value, 4)), h("td", {}, m.unit))))),
      h("p", { class: "meta" }, `${detail.trades.length} trades`),
      h("h3", {}, "Tear sheet"), sheet,
    ];
    showDetail(`Backtest ${id}`, body);
    if (detail.equity.length) {
      const chart = new LineChart(chartBox, { yLabel: "equity (USDT)", series: [{ label: "equity (USDT)", color: "--s1", width: 2 }] });
      chart.setData([Float64Array.from(detail.equity, (p) => seconds(p.timestamp)), detail.equity.map((p) => p.equity)]);
    } else {
      empty(chartBox, "no equity points");
    }
    if (!b.tear_sheet_url) { empty(sheet, "no tear sheet"); return; }
    try {
      // Fetched with the token, shown sandboxed: scripts of the sheet may run, nothing else.
      const html = await getText(b.tear_sheet_url);
      sheet.replaceChildren(h("iframe", { title: `Tear sheet of ${id}`, sandbox: "allow-scripts", srcdoc: html, class: "tearsheet" }));
    } catch (error) {
      empty(sheet, `tear sheet not available: ${error.message}`);
    }
  }

  async function refresh() {
    if (!available) { table.setRows([]); $("backtests-meta").textContent = ""; return; }
    const items = await getAll("/api/backtests", {}, { max: 1000 });
    table.setRows(items);
    $("backtests-meta").textContent = items.length ? `${items.length} backtest${items.length === 1 ? "" : "s"}, newest first; Enter opens one` : "";
  }
  return { refresh, tables: { backtests: table } };
}
