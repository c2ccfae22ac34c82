// The desk dashboard: every panel reads the public REST API and follows the WebSockets.
import { ensureToken, getJSON, openStream } from "./api.js";
import { accountPanel, bookPanel } from "./book.js";
import { rebuildAll } from "./charts.js";
import { marketPanel, signalsPanel } from "./market.js";
import { backtestsPanel, operationsPanel, ordersPanel } from "./ops.js";
import { riskPanel } from "./risk.js";

const $ = (id) => document.getElementById(id);
/** Quiet time after a stream frame before the REST panels are re-read (ms). */
const SETTLE_MS = 400;
/** Ages and freshness are re-read at least this often (ms). */
const POLL_MS = 15000;

const state = { desk: null, positions: [], exposures: null, pnl: null, panels: {}, updates: 0 };
window.qbtc = state; // for the browser test and curious users: what the page holds

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem("qbtc.theme", theme);
  rebuildAll();
}

function currentTheme() {
  const set = document.documentElement.dataset.theme;
  if (set) return set;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function keyboard() {
  const links = [...document.querySelectorAll(".panel-nav a")];
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    const link = links.find((a) => a.dataset.key === e.key);
    if (link) {
      e.preventDefault();
      const panel = document.querySelector(link.getAttribute("href"));
      panel.scrollIntoView({ block: "start" });
      panel.focus({ preventScroll: true });
    } else if (e.key === "t") {
      setTheme(currentTheme() === "dark" ? "light" : "dark");
    } else if (e.key === "?") {
      $("help-dialog").showModal();
    }
  });
  $("theme").addEventListener("click", () => setTheme(currentTheme() === "dark" ? "light" : "dark"));
  // Following the system's theme: charts take the new colours when it changes.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => rebuildAll());
  $("help").addEventListener("click", () => $("help-dialog").showModal());
  $("detail-close").addEventListener("click", () => $("detail-dialog").close());
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
}

function report(panel, error) {
  const section = $(panel);
  let line = section.querySelector(":scope > .error");
  if (!error) { line?.remove(); return; }
  if (!line) { line = document.createElement("p"); line.className = "error"; line.setAttribute("role", "alert"); section.querySelector("header").after(line); }
  line.textContent = `Could not load: ${error.message}`;
}

async function refresh(names) {
  const started = performance.now();
  await Promise.all(names.map((name) =>
    state.panels[name].refresh().then(() => report(name), (error) => report(name, error))));
  state.updates += 1;
  state.lastRefreshMs = performance.now() - started;
  document.body.dataset.updates = String(state.updates);
}

const ALL = ["account", "book", "risk", "market", "signals", "orders", "operations", "backtests"];
let pending = null;
function refreshSoon(names = ALL) {
  clearTimeout(pending);
  pending = setTimeout(() => refresh(names), SETTLE_MS);
}

function streams() {
  const open = new Map();
  const live = () => {
    const up = [...open.values()].filter(Boolean).length;
    const el = $("pill-live");
    el.textContent = up === open.size ? "live" : up ? `live ${up}/${open.size}` : "offline: reconnecting";
    el.className = `pill ${up === open.size ? "good" : "warn"}`;
  };
  const channel = (name, onFrame) => {
    open.set(name, false);
    openStream(name, (message) => { state.frames = (state.frames || 0) + 1; onFrame(message); },
      (isOpen) => { open.set(name, isOpen); live(); });
  };
  let positionsSeq = 0;
  channel("positions", (m) => {
    state.panels.book.onPositions(m.data);
    // A new position snapshot means a cycle wrote: re-read what it wrote (not on connect).
    if (positionsSeq++) refreshSoon();
  });
  let pricesSeq = 0;
  channel("prices", (m) => {
    state.panels.market.onPrices(m.data);
    // New bars or tickers: the risk monitor and the ingest write with them.
    if (pricesSeq++) refreshSoon();
  });
  channel("alerts", (m) => state.panels.operations.onAlerts(m.data));
}

async function main() {
  keyboard();
  await ensureToken(() => getJSON("/api/desk"));
  state.desk = await getJSON("/api/desk");
  state.panels = {
    account: accountPanel(state),
    book: bookPanel(state),
    risk: riskPanel(state),
    market: marketPanel(state),
    signals: signalsPanel(state),
    orders: ordersPanel(state),
    operations: operationsPanel(state),
    backtests: backtestsPanel(state),
  };
  // Exposures feed the risk limit bars: the book first, then the rest at once.
  await refresh(["book"]);
  await refresh(ALL.filter((n) => n !== "book"));
  state.readyAt = performance.now();
  document.body.dataset.ready = "true";
  streams();
  setInterval(() => refresh(["operations"]), POLL_MS);
}

main().catch((error) => {
  const line = document.createElement("p");
  line.className = "error";
  line.setAttribute("role", "alert");
  line.textContent = `The dashboard could not start: ${error.message}`;
  $("main").prepend(line);
});
