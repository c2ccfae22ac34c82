// Orders (blotter and lineage), Operations and Backtests panels.
import { getJSON, routes } from "./api.js";
import { empty, facts, fmt, h, showDetail, Table } from "./dom.js";

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
    body.push(h("p", { class: "empty" }, "no signal of this run for the symbol (a hedge or a flatten order)"));
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
      { key: "lag_seconds", label: "Lag (s → age)", num: true, format: fmt.age },
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
      { key: "run_id", label: "Prefect flow run (opens the UI)" },
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
    const [health, desk, runPage, alertPage] = await Promise.all([
      getJSON("/api/health"), getJSON("/api/desk"), getJSON("/api/runs", { limit: 20 }), getJSON("/api/alerts", { limit: 50 }),
    ]);
    state.desk = { ...state.desk, circuit: desk.circuit };
    pills(health, desk);
    const gate = health.quality_gate;
    $("controls").replaceChildren(
      h("dt", {}, "Desk"), h("dd", { class: health.status === "ok" ? "pos" : "neg" }, health.status + (health.problems.length ? `: ${health.problems.join("; ")}` : "")),
      h("dt", {}, "Quality gate"), h("dd", {}, `${gate.passed ? "pass" : "fail"}${gate.timestamp ? ` at ${fmt.time(gate.timestamp)} UTC` : ""}${gate.reasons.length ? ` (${gate.reasons.join("; ")})` : ""}`),
      h("dt", {}, "Quarantine (files)"), h("dd", {}, String(health.datasets.find((d) => d.dataset === "quarantine")?.files ?? 0)),
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
    empty: available ? "no backtests yet: run one (qbtc backtest)" : "no backtests yet: this API does not serve them",
    onOpen: (row) => openBacktest(row),
    columns: [
      { key: "id", label: "Backtest" },
      { key: "created_at", label: "Created (UTC)", format: fmt.time },
      { key: "strategy", label: "Strategy" },
      { key: "start", label: "From (UTC)", format: fmt.time },
      { key: "end", label: "To (UTC)", format: fmt.time },
      { key: "total_return", label: "Return (%)", num: true, format: (v) => fmt.pct(v) },
      { key: "sharpe", label: "Sharpe (annualised)", num: true, format: (v) => fmt.num(v, 2) },
      { key: "max_drawdown", label: "Max drawdown (%)", num: true, format: (v) => fmt.pct(v) },
    ],
  });
  async function openBacktest(row) {
    const detail = await getJSON(`/api/backtests/${encodeURIComponent(row.id)}`);
    showDetail(`Backtest ${row.id}`, h("pre", {}, JSON.stringify(detail, null, 2)));
  }
  async function refresh() {
    if (!available) { table.setRows([]); $("backtests-meta").textContent = ""; return; }
    const body = await getJSON("/api/backtests");
    const items = (body.items || body).map((b) => ({ ...b, id: b.id ?? b.backtest_id }));
    table.setRows(items);
    $("backtests-meta").textContent = `${items.length} backtests`;
  }
  return { refresh, tables: { backtests: table } };
}
