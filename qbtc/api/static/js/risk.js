// Risk panel: VaR and CVaR over time against the limit, limit use, stress, latest by method.
import { getJSON } from "./api.js";
import { LineChart, seconds } from "./charts.js";
import { empty, fmt, h, sign, usdColumn } from "./dom.js";
import { Table } from "./table.js";

const $ = (id) => document.getElementById(id);

export function riskPanel(state) {
  const chart = new LineChart($("chart-var"), {
    yLabel: "USDT (loss positive)",
    series: [
      { label: "VaR after orders (USDT)", color: "--s1", spanGaps: true, width: 2 },
      { label: "CVaR after orders (USDT)", color: "--s4", spanGaps: true },
      { label: "VaR before orders (USDT)", color: "--s6", spanGaps: true, dash: [4, 3] },
      { label: "CVaR before orders (USDT)", color: "--s5", spanGaps: true, dash: [4, 3] },
      { label: "VaR limit (USDT)", color: "--s2", dash: [8, 4] },
    ],
  });
  const latest = new Table($("risk-table"), {
    label: "Latest risk",
    empty: "no risk rows yet",
    columns: [
      { key: "method", label: "Method" },
      { key: "phase", label: "Phase" },
      { key: "var", label: "VaR (USDT)", num: true, format: fmt.usd },
      { key: "cvar", label: "CVaR (USDT)", num: true, format: fmt.usd },
      { key: "confidence", label: "Confidence (%)", num: true, format: (v) => fmt.pct(v, 1) },
      { key: "horizon_days", label: "Horizon (days)", num: true, format: (v) => fmt.num(v, 2) },
      { key: "equity", label: "Equity (USDT)", num: true, format: fmt.usd },
      { key: "leverage", label: "Leverage (×)", num: true, format: (v) => fmt.num(v, 3) },
      { key: "drawdown", label: "Drawdown (%)", num: true, format: (v) => fmt.pct(v) },
      { key: "timestamp", label: "At (UTC)", format: fmt.time },
    ],
  });
  const stress = new Table($("stress-table"), {
    label: "Stress scenarios",
    empty: "no book to stress",
    columns: [
      { key: "name", label: "Scenario" },
      { key: "spot_shift", label: "Spot move (%)", num: true, format: (v) => fmt.pct(v, 0) },
      { key: "vol_shift", label: "Vol move (vol pts)", num: true, format: (v) => fmt.num(v * 100, 0) },
      usdColumn("pnl", "PnL"),
    ],
  });
  const methodSelect = $("risk-method");
  methodSelect.addEventListener("change", () => refresh());

  function limitBars(rows) {
    const limits = state.desk.limits;
    const book = rows.find((r) => r.phase === "book" && r.method === methodSelect.value) || rows.find((r) => r.phase === "book");
    const container = $("limits");
    if (!book) { empty(container, "no risk rows yet"); return; }
    const exp = state.exposures;
    const items = [
      ["VaR 99% 1d (USDT)", book.var, limits.max_var_99],
      ["Gross notional (USDT)", book.gross_notional, limits.max_gross_notional],
      ["Net notional (USDT)", Math.abs(book.net_notional ?? 0), limits.max_net_notional],
      ["Leverage (×)", book.leverage, limits.max_leverage],
      ["Delta (USDT)", Math.abs(exp?.delta_usd ?? book.delta_usd ?? 0), limits.max_delta_usd],
      ["Gamma per 1% (USDT)", Math.abs(exp?.gamma_usd ?? book.gamma_usd ?? 0), limits.max_gamma_usd],
      ["Vega per vol pt (USDT)", Math.abs(exp?.vega_usd ?? book.vega_usd ?? 0), limits.max_vega_usd],
      ["Drawdown (%)", (book.drawdown ?? 0) * 100, limits.max_drawdown * 100],
    ];
    container.replaceChildren(...items.map(([label, used, limit]) => {
      const share = limit ? Math.max(0, (used ?? 0) / limit) : 0;
      const level = share >= 1 ? "bad" : share >= 0.8 ? "warn" : "";
      return h("div", {},
        h("div", { class: "bar-label" }, h("span", {}, label), h("span", {}, `${fmt.num(used, 2)} / ${fmt.num(limit, 2)} (${fmt.num(share * 100, 0)} %)`)),
        h("div", { class: `bar ${level}`, role: "meter", "aria-label": label, "aria-valuenow": String(used ?? 0), "aria-valuemin": "0", "aria-valuemax": String(limit) },
          h("span", { style: `width:${Math.min(share, 1) * 100}%` })));
    }));
  }

  async function refresh() {
    const [metrics, stressed] = await Promise.all([
      getJSON("/api/risk/metrics", { portfolio_id: state.desk.portfolio_id, limit: 1 }),
      getJSON("/api/risk/stress", { portfolio_id: state.desk.portfolio_id }),
    ]);
    const methods = [...new Set(metrics.latest.map((r) => r.method))].sort();
    if (methods.length && ![...methodSelect.options].some((o) => o.value === methodSelect.value && methods.includes(o.value))) {
      methodSelect.replaceChildren(...methods.map((m) => h("option", { value: m }, m)));
      methodSelect.value = methods.includes("monte_carlo") ? "monte_carlo" : methods[0];
    }
    latest.setRows(metrics.latest);
    stress.setRows(stressed.scenarios);
    limitBars(metrics.latest);
    $("risk-meta").textContent = stressed.note || (metrics.latest[0] ? `latest at ${fmt.time(metrics.latest.at(-1).timestamp)} UTC` : "");
    const method = methodSelect.value;
    if (!method) { chart.empty("no risk rows yet: run a cycle"); return; }
    const series = await getJSON("/api/risk/series", { portfolio_id: state.desk.portfolio_id, method, max_points: 2000 });
    if (!series.timestamp.length) { chart.empty("no risk history yet"); return; }
    const limit = new Float64Array(series.timestamp.length).fill(series.var_limit);
    chart.setData([Float64Array.from(series.timestamp, seconds), series.var_book, series.cvar_book,
      series.var_pre_trade, series.cvar_pre_trade, limit]);
  }

  return { refresh, charts: [chart], tables: { latest, stress } };
}
