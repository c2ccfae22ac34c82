// Market and Signals panels.
import { getAll, getJSON, routes } from "./api.js";
import { LineChart, seconds } from "./charts.js";
import { fmt, h, showDetail, sign } from "./dom.js";
import { Table } from "./table.js";

const $ = (id) => document.getElementById(id);
const MAX_EXPIRIES = 6;

/** Index of the last bar at or before t (bars sorted), or -1. */
function barIndex(xs, t) {
  let lo = 0, hi = xs.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

export function marketPanel(state) {
  const select = $("market-symbol");
  select.addEventListener("change", () => refreshPrice());
  let universe = { perps: [], option_underlyings: [] };

  /** Symbols with data, the configured ones first (a fresh desk has none yet). */
  function updateSymbols() {
    const known = new Set(universe.perps);
    const symbols = [...state.desk.symbols.filter((s) => known.has(s)), ...universe.perps.filter((s) => !state.desk.symbols.includes(s))];
    if (select.dataset.symbols === symbols.join()) return;
    const current = select.value;
    select.replaceChildren(...symbols.map((s) => h("option", { value: s }, s)));
    if (symbols.includes(current)) select.value = current;
    select.dataset.symbols = symbols.join();
  }
  const price = new LineChart($("chart-price"), {
    yLabel: "price (USDT)", height: 300,
    series: [
      { label: "close (USDT)", color: "--s1", width: 1.5 },
      { label: "long signal", color: "--s3", line: false, points: { size: 11 } },
      { label: "short signal", color: "--s2", line: false, points: { size: 11 } },
      { label: "flat signal", color: "--muted", line: false, points: { size: 9 } },
      { label: "fill (USDT)", color: "--s4", line: false, points: { size: 8 } },
    ],
  });
  const prices = new Table($("prices-table"), {
    label: "Latest prices",
    empty: "no prices yet",
    columns: [
      { key: "symbol", label: "Symbol" },
      { key: "last", label: "Last (USDT)", num: true, format: fmt.price },
      { key: "bid", label: "Bid (USDT)", num: true, format: fmt.price },
      { key: "ask", label: "Ask (USDT)", num: true, format: fmt.price },
      { key: "mark", label: "Mark (USDT)", num: true, format: fmt.price },
      { key: "close", label: "Last close (USDT)", num: true, format: fmt.price },
      { key: "ticker_timestamp", label: "Ticker at (UTC)", format: fmt.time },
      { key: "bar_timestamp", label: "Bar at (UTC)", format: fmt.time },
    ],
    onOpen: (row) => { select.value = row.symbol; refreshPrice(); },
  });
  const volBox = $("vol-charts");
  const smiles = new Map();
  for (const u of state.desk.option_underlyings) {
    const el = h("div", { class: "chart", id: `chart-smile-${u}` });
    volBox.append(h("figure", {}, h("figcaption", {}, `${u} implied volatility smile per expiry: mark IV (%) by strike (USDT)`), el));
    smiles.set(u, { el, chart: null });
  }
  const termEl = h("div", { class: "chart", id: "chart-term" });
  volBox.append(h("figure", {}, h("figcaption", {}, "Term structure: ATM implied volatility (%) by days to expiry"), termEl));
  const term = new LineChart(termEl, {
    x: "days to expiry", yLabel: "ATM IV (%)",
    series: state.desk.option_underlyings.map((u, i) => ({ label: `${u} ATM IV (%)`, color: `--s${i + 1}`, spanGaps: true, points: { size: 6 } })),
  });

  async function refreshPrice() {
    const symbol = select.value;
    if (!symbol) { price.empty("no market data yet: run qbtc ingest or qbtc run"); $("market-meta").textContent = ""; return; }
    const path = `/api/market/${symbol}`;
    const [bars, summary] = await Promise.all([
      getJSON(`${path}/ohlcv`, { timeframe: "1m", limit: 1000 }),
      getJSON(path),
    ]);
    $("market-meta").textContent = `${symbol}: last ${fmt.price(summary.last_price)} USDT · 24h ${fmt.pct(summary.change_24h)} % · realised vol 24h ${fmt.pct(summary.realized_vol_24h, 1)} % · funding ${fmt.pct(summary.funding_rate, 4)} % per 8h`;
    if (!bars.items.length) { price.empty(`no bars for ${symbol} yet`); return; }
    const since = bars.items[0].timestamp;
    const [signals, orders] = await Promise.all([
      getAll("/api/signals", { symbol, since }, { max: 2000 }),
      getAll("/api/orders", { symbol, since }, { max: 2000 }),
    ]);
    const xs = bars.items.map((b) => seconds(b.timestamp));
    const close = bars.items.map((b) => b.close);
    const n = xs.length;
    const marks = [new Array(n).fill(null), new Array(n).fill(null), new Array(n).fill(null), new Array(n).fill(null)];
    for (const s of signals) {
      const i = barIndex(xs, seconds(s.timestamp));
      if (i >= 0) marks[s.direction === "long" ? 0 : s.direction === "short" ? 1 : 2][i] = close[i];
    }
    for (const o of orders) {
      if (!o.filled_quantity || o.last_price === null) continue;
      const i = barIndex(xs, seconds(o.last_event_at || o.timestamp));
      if (i >= 0) marks[3][i] = o.last_price;
    }
    price.setData([xs, close, ...marks]);
  }

  async function refreshVol() {
    const quoted = new Set(universe.option_underlyings);
    const chains = await Promise.all(state.desk.option_underlyings.map((u) => (quoted.has(u)
      ? getJSON(`/api/options/${u}/chain`) : { underlying: u, quotes: [] })));
    const termRows = new Map();
    chains.forEach((chain, k) => {
      const u = state.desk.option_underlyings[k];
      const slot = smiles.get(u);
      const quotes = chain.quotes.filter((q) => q.mark_iv !== null);
      if (!quotes.length) {
        slot.chart?.empty(`no ${u} option quotes yet`);
        if (!slot.chart) slot.el.replaceChildren(h("p", { class: "empty" }, `no ${u} option quotes yet`));
        return;
      }
      const expiries = [...new Set(quotes.map((q) => q.expiry))].sort();
      const shown = expiries.slice(0, MAX_EXPIRIES);
      const strikes = [...new Set(quotes.filter((q) => shown.includes(q.expiry)).map((q) => q.strike))]
        .sort((a, b) => a - b);
      if (!slot.chart || slot.expiries !== shown.join()) {
        slot.chart?.plot?.destroy();
        slot.el.replaceChildren();
        slot.chart = new LineChart(slot.el, {
          x: "strike (USDT)", yLabel: "mark IV (%)",
          series: shown.map((e, i) => ({ label: `${e.slice(0, 10)} (%)`, color: `--s${(i % 6) + 1}`, spanGaps: true, points: { size: 4 } })),
        });
        slot.expiries = shown.join();
      }
      // One IV per strike and expiry: out-of-the-money side (puts below the forward, calls above).
      const cols = shown.map(() => new Array(strikes.length).fill(null));
      const sIndex = new Map(strikes.map((s, i) => [s, i]));
      for (const q of quotes) {
        const e = shown.indexOf(q.expiry);
        if (e < 0) continue;
        const otm = q.underlying_price === null || (q.option_type === "put") === (q.strike < q.underlying_price);
        const i = sIndex.get(q.strike);
        if (otm || cols[e][i] === null) cols[e][i] = q.mark_iv * 100;
      }
      slot.chart.setData([strikes, ...cols]);
      for (const e of expiries) {
        const atExpiry = quotes.filter((q) => q.expiry === e && q.underlying_price !== null);
        if (!atExpiry.length) continue;
        const forward = atExpiry[0].underlying_price;
        const atm = atExpiry.reduce((best, q) => (Math.abs(q.strike - forward) < Math.abs(best.strike - forward) ? q : best));
        const ivs = atExpiry.filter((q) => q.strike === atm.strike).map((q) => q.mark_iv);
        const days = Math.round(atm.expiry_years * 365 * 10) / 10;
        if (!termRows.has(days)) termRows.set(days, new Array(chains.length).fill(null));
        termRows.get(days)[k] = (ivs.reduce((a, b) => a + b, 0) / ivs.length) * 100;
      }
    });
    const days = [...termRows.keys()].sort((a, b) => a - b);
    if (!days.length) { term.empty("no option quotes yet"); return; }
    term.setData([days, ...state.desk.option_underlyings.map((u, k) => days.map((d) => termRows.get(d)[k]))]);
  }

  function onPrices(items) {
    prices.setRows(items);
  }

  async function refresh() {
    universe = await getJSON("/api/symbols");
    updateSymbols();
    await Promise.all([refreshPrice(), refreshVol()]);
  }
  return { refresh, refreshPrice, onPrices, charts: [price, term], tables: { prices } };
}

const VOL_VIEW_ROUTES = ["/api/vol-views"];

export function signalsPanel(state) {
  const table = new Table($("signals-table"), {
    label: "Latest signals",
    empty: "no signals yet: run a cycle",
    onOpen: (row) => openSignal(row),
    columns: [
      { key: "symbol", label: "Symbol" },
      { key: "direction", label: "Direction" },
      { key: "strength", label: "Strength (−1…1)", num: true, format: (v) => fmt.num(v, 2), cls: sign },
      { key: "confidence", label: "Confidence (0…1)", num: true, format: (v) => fmt.num(v, 2) },
      { key: "horizon_minutes", label: "Horizon (min)", num: true },
      { key: "provider", label: "Provider" },
      { key: "rationale", label: "Rationale", wrap: true },
    ],
  });
  const volRoute = VOL_VIEW_ROUTES.find((r) => routes.has(r));
  const vol = new Table($("vol-views-table"), {
    label: "Latest volatility views",
    empty: volRoute ? "no volatility views yet" : "no volatility views: this API does not serve them yet",
    onOpen: (row) => showDetail(`Volatility view ${row.underlying}`, h("pre", {}, JSON.stringify(row, null, 2))),
    columns: [
      { key: "underlying", label: "Underlying" },
      { key: "vol_view", label: "Vol view (−1 sell … 1 buy)", num: true, format: (v) => fmt.num(v, 2), cls: sign },
      { key: "confidence", label: "Confidence (0…1)", num: true, format: (v) => fmt.num(v, 2) },
      { key: "atm_iv", label: "ATM IV (%)", num: true, format: (v) => fmt.pct(v, 1) },
      { key: "realised_forecast", label: "Realised forecast (%)", num: true, format: (v) => fmt.pct(v, 1) },
      { key: "tenor_days", label: "Tenor (days)", num: true, format: (v) => fmt.num(v, 1) },
      { key: "rr_25d", label: "25Δ risk reversal (vol pts)", num: true, format: (v) => (v === null ? "–" : fmt.num(v * 100, 1)) },
      { key: "provider", label: "Provider" },
      { key: "rationale", label: "Rationale", wrap: true },
    ],
  });

  async function openSignal(row) {
    const body = [
      h("dl", { class: "facts" },
        h("dt", {}, "Symbol"), h("dd", {}, row.symbol),
        h("dt", {}, "Decision bar (UTC)"), h("dd", {}, fmt.time(row.timestamp)),
        h("dt", {}, "Direction / strength"), h("dd", {}, `${row.direction} / ${fmt.num(row.strength, 2)}`),
        h("dt", {}, "Provider / model"), h("dd", {}, `${row.provider} / ${row.model ?? "–"}`),
        h("dt", {}, "Run"), h("dd", {}, row.run_id),
        h("dt", {}, "Feature snapshot"), h("dd", {}, row.feature_snapshot),
        row.fallback_reason ? [h("dt", {}, "Fallback"), h("dd", {}, row.fallback_reason)] : null),
      h("h3", {}, "Rationale"), h("pre", {}, row.rationale),
    ];
    if (routes.has("/api/llm-calls")) {
      const calls = await getJSON("/api/llm-calls", { run_id: row.run_id, limit: 10 });
      body.push(h("h3", {}, `LLM calls of this run (${calls.total})`));
      if (!calls.items.length) body.push(h("p", { class: "empty" }, "none: the rules provider made these signals"));
      for (const call of calls.items) {
        body.push(h("p", {}, `${call.model} · ${call.status} · ${call.latency_ms?.toFixed(0) ?? "–"} ms · ${call.input_tokens} in / ${call.output_tokens} out tokens`),
          h("details", {}, h("summary", {}, "Prompt"), h("pre", {}, call.prompt)),
          h("details", {}, h("summary", {}, "Answer"), h("pre", {}, call.response ?? call.error ?? "–")));
      }
    }
    showDetail(`Signal ${row.symbol}`, body);
  }

  async function refresh() {
    const page = await getJSON("/api/signals", { limit: 200 });
    const run = page.items[0]?.run_id;
    const latest = page.items.filter((s) => s.run_id === run);
    table.setRows(latest);
    $("signals-meta").textContent = run ? `run ${run.slice(0, 8)} · decision bar ${fmt.time(latest[0].timestamp)} UTC` : "";
    if (volRoute) {
      const views = await getJSON(volRoute, { limit: 100 });
      const items = views.items || [];
      const vrun = items[0]?.run_id;
      vol.setRows(items.filter((v) => v.run_id === vrun));
    } else {
      vol.setRows([]);
    }
  }
  return { refresh, tables: { signals: table, vol } };
}
