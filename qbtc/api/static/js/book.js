// Account and Book panels.
import { getAll, getJSON } from "./api.js";
import { LineChart, seconds } from "./charts.js";
import { fmt, h, sign, usdColumn } from "./dom.js";
import { Table } from "./table.js";

const $ = (id) => document.getElementById(id);

export function accountPanel(state) {
  let window = "all";
  const maxPoints = Number(new URLSearchParams(location.search).get("points")) || 2000;
  const pnl = new LineChart($("chart-pnl"), {
    yLabel: "equity (USDT)", y2Label: "PnL (USDT)",
    series: [
      { label: "equity (USDT)", color: "--s1", spanGaps: true, width: 2 },
      { label: "total PnL (USDT)", color: "--s3", scale: "y2" },
      { label: "realised (USDT)", color: "--s4", scale: "y2" },
      { label: "unrealised (USDT)", color: "--s6", scale: "y2" },
      { label: "fees (USDT)", color: "--s2", scale: "y2", dash: [4, 3] },
      { label: "funding (USDT)", color: "--s5", scale: "y2", dash: [4, 3] },
    ],
  });
  const dd = new LineChart($("chart-dd"), {
    yLabel: "drawdown (%)",
    series: [
      { label: "drawdown (%)", color: "--s2", spanGaps: true, width: 2 },
      { label: "kill-switch level (%)", color: "--muted", dash: [6, 4] },
    ],
  });
  for (const button of $("pnl-window").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      window = button.dataset.window;
      for (const b of $("pnl-window").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
      refresh();
    });
  }

  const lastOf = (values) => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  };

  function kpis(s) {
    const n = s.timestamp.length;
    const at = (column) => (n ? s[column][n - 1] : 0);
    const equity = lastOf(s.equity) ?? s.capital + at("total_pnl");
    const drawdown = lastOf(s.drawdown) ?? 0;
    const item = (label, value, cls) => h("div", {}, h("dt", {}, label), h("dd", { class: cls || "" }, value));
    $("account-kpis").replaceChildren(
      item("Equity (USDT)", fmt.usd(equity)),
      item("Total PnL (USDT)", fmt.usd(at("total_pnl")), sign(at("total_pnl"))),
      item("Realised (USDT)", fmt.usd(at("realized_pnl")), sign(at("realized_pnl"))),
      item("Unrealised (USDT)", fmt.usd(at("unrealized_pnl")), sign(at("unrealized_pnl"))),
      item("Fees (USDT)", fmt.usd(at("fees"))),
      item("Funding (USDT)", fmt.usd(at("funding")), sign(at("funding"))),
      item("Drawdown / kill level (%)", `${fmt.pct(drawdown)} / ${fmt.pct(s.max_drawdown, 1)}`,
        drawdown >= s.max_drawdown * 0.8 ? "neg" : ""),
      item("Points (shown / in window)", `${n} / ${s.total_points}`),
    );
  }

  async function refresh() {
    const s = await getJSON("/api/pnl", { window, max_points: maxPoints, portfolio_id: state.desk.portfolio_id });
    state.pnl = s;
    kpis(s);
    if (!s.timestamp.length) {
      pnl.empty("no equity or PnL yet: run a cycle (qbtc run)");
      dd.empty("no drawdown yet");
      return;
    }
    const xs = Float64Array.from(s.timestamp, seconds);
    const drawdown = s.drawdown.map((v) => (v === null ? null : v * 100));
    const level = new Float64Array(xs.length).fill(s.max_drawdown * 100);
    pnl.setData([xs, s.equity, s.total_pnl, s.realized_pnl, s.unrealized_pnl, s.fees, s.funding]);
    dd.setData([xs, drawdown, level]);
  }
  return { refresh, charts: [pnl, dd] };
}

function structureOf(row) {
  return row.structure_id || null;
}

export function bookPanel(state) {
  const perps = new Table($("perps-table"), {
    label: "Perpetual positions",
    empty: "no open perpetual positions",
    columns: [
      { key: "symbol", label: "Symbol" },
      { key: "side", label: "Side" },
      { key: "quantity", label: "Quantity (contracts)", num: true, format: fmt.qty, cls: sign },
      { key: "entry_price", label: "Entry (USDT)", num: true, format: fmt.price },
      { key: "mark_price", label: "Mark (USDT)", num: true, format: fmt.price },
      usdColumn("notional", "Notional"),
      usdColumn("unrealized_pnl", "Unrealised PnL"),
      usdColumn("realized_pnl", "Realised PnL"),
      { key: "fees", label: "Fees (USDT)", num: true, format: fmt.usd },
      usdColumn("funding", "Funding"),
      { key: "timestamp", label: "Updated (UTC)", format: fmt.time },
    ],
  });
  const options = new Table($("options-table"), {
    label: "Option positions",
    empty: "no open option positions",
    groupBy: (row) => row.group,
    groupLabel: (group, row) => row.group_label,
    columns: [
      { key: "symbol", label: "Symbol" },
      { key: "expiry", label: "Expiry (UTC)", format: fmt.time },
      { key: "strike", label: "Strike (USDT)", num: true, format: fmt.price },
      { key: "option_type", label: "Type" },
      { key: "quantity", label: "Quantity (contracts)", num: true, format: fmt.qty, cls: sign },
      { key: "entry_price", label: "Entry (premium ccy)", num: true, format: fmt.price },
      { key: "mark_price", label: "Mark (premium ccy)", num: true, format: fmt.price },
      usdColumn("notional", "Delta notional"),
      usdColumn("unrealized_pnl", "Unrealised PnL"),
      { key: "delta", label: "Delta (coin)", num: true, format: fmt.qty, cls: sign },
      { key: "gamma", label: "Gamma (coin/USDT)", num: true, format: (v) => (v === null ? "–" : v.toExponential(2)) },
      usdColumn("vega", "Vega per vol pt"),
      usdColumn("theta", "Theta per day"),
    ],
  });
  const exposure = new Table($("exposure-table"), {
    label: "Exposure per underlying",
    empty: "no exposure",
    columns: [
      { key: "underlying", label: "Underlying" },
      { key: "spot", label: "Spot (USDT)", num: true, format: fmt.price },
      { key: "delta_coin", label: "Net delta (coin)", num: true, format: fmt.qty, cls: sign },
      { key: "directional_coin", label: "Directional target (coin)", num: true, format: fmt.qty, cls: sign },
      { key: "hedge_gap_usd", label: "Hedge gap (USDT)", num: true, format: fmt.usd, cls: sign },
      { key: "in_band", label: "Gap within band (USDT)" },
      { key: "options_delta_coin", label: "Options delta (coin)", num: true, format: fmt.qty, cls: sign },
      { key: "perp_delta_coin", label: "Perps delta (coin)", num: true, format: fmt.qty, cls: sign },
      usdColumn("delta_usd", "Net delta"),
      usdColumn("gamma_usd", "Gamma per 1%"),
      usdColumn("vega_usd", "Vega per vol pt"),
      usdColumn("theta_usd", "Theta per day"),
    ],
  });

  function render() {
    const rows = state.positions || [];
    const notional = new Map((state.exposures?.by_symbol || []).map((r) => [r.symbol, r.notional]));
    const open = rows.filter((r) => r.quantity !== 0);
    const withNotional = open.map((r) => ({
      ...r,
      notional: notional.get(r.symbol) ?? (r.type === "perp" && r.mark_price !== null ? r.quantity * r.mark_price : null),
    }));
    perps.setRows(withNotional.filter((r) => r.type !== "option"));
    const opts = withNotional.filter((r) => r.type === "option").map((r) => {
      const structure = structureOf(r);
      const group = structure ? `structure ${structure}` : `${r.underlying} ${fmt.time(r.expiry).slice(0, 10)}`;
      return { ...r, group, group_label: structure ? `Structure ${structure}` : `${r.underlying} · expiry ${fmt.time(r.expiry).slice(0, 10)}` };
    });
    // Each group's header sums its legs: delta (coin), vega, theta and unrealised PnL (USDT).
    const sums = new Map();
    for (const r of opts) {
      const s = sums.get(r.group) || { legs: 0, delta: 0, vega: 0, theta: 0, pnl: 0 };
      s.legs += 1; s.delta += r.delta ?? 0; s.vega += r.vega ?? 0; s.theta += r.theta ?? 0; s.pnl += r.unrealized_pnl ?? 0;
      sums.set(r.group, s);
    }
    for (const r of opts) {
      const s = sums.get(r.group);
      r.group_label = `${r.group_label} · ${s.legs} leg${s.legs > 1 ? "s" : ""} · delta ${fmt.qty(s.delta)} coin · vega ${fmt.usd(s.vega)} USDT/vol pt · theta ${fmt.usd(s.theta)} USDT/day · unrealised ${fmt.usd(s.pnl)} USDT`;
    }
    opts.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    const byStructure = opts.some((r) => structureOf(r));
    $("options-grouping").textContent = opts.length ? (byStructure ? "grouped by structure" : "grouped by underlying and expiry") : "";
    options.setRows(opts);
    const ex = state.exposures;
    if (ex) {
      // The hedge: the cycle aimed at its directional delta with the perp offsetting the
      // options; the gap is how far the book's net delta now is from that aim.
      const plans = new Map((state.hedges || []).map((g) => [g.underlying, g]));
      exposure.setRows(ex.by_underlying.map((u) => {
        const plan = plans.get(u.underlying);
        const aim = plan?.directional_coin ?? null;
        const gap = aim === null ? null : (u.delta_coin - aim) * u.spot;
        const band = plan?.band_usd ?? ex.hedge_band_usd;
        const in_band = gap === null ? "no plan" : `${Math.abs(gap) <= band ? "yes" : "NO"} (±${fmt.usd(band)})`;
        return { ...u, directional_coin: aim, hedge_gap_usd: gap, in_band };
      }));
      $("book-meta").textContent = ex.note
        ? ex.note
        : `${open.length} open positions · gross ${fmt.usd(ex.gross_notional)} USDT · net ${fmt.usd(ex.net_notional)} USDT · marks at ${fmt.time(ex.as_of)} UTC`;
    }
  }

  async function refresh() {
    const [positions, exposures, risk] = await Promise.all([
      getAll("/api/positions", { portfolio_id: state.desk.portfolio_id }),
      getJSON("/api/exposures", { portfolio_id: state.desk.portfolio_id }),
      getJSON("/api/risk/metrics", { portfolio_id: state.desk.portfolio_id, phase: "pre_trade", limit: 1 }),
    ]);
    state.positions = positions;
    state.exposures = exposures;
    // The latest plan per underlying: directional target and hedge band of the last cycle.
    state.hedges = (risk.greeks || []).filter((g) => g.phase === "pre_trade");
    render();
  }

  /** A /ws/positions frame: every position (flat ones too) of every portfolio. */
  function onPositions(items) {
    state.positions = items.filter((p) => p.portfolio_id === state.desk.portfolio_id);
    render();
  }
  return { refresh, onPositions, tables: { perps, options, exposure } };
}
