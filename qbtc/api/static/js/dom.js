// DOM helpers, number formats and a keyboard-friendly sortable table.

/** Element with attributes (on* are listeners) and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const nf = new Map();
function numberFormat(digits) {
  if (!nf.has(digits)) {
    nf.set(digits, new Intl.NumberFormat("en-US", {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    }));
  }
  return nf.get(digits);
}

export const fmt = {
  num(v, digits = 2) { return v === null || v === undefined || Number.isNaN(v) ? "–" : numberFormat(digits).format(v); },
  usd(v) { return fmt.num(v, Math.abs(v ?? 0) >= 1000 ? 0 : 2); },
  qty(v) {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    return fmt.num(v, a >= 1000 ? 0 : a >= 1 ? 4 : 6);
  },
  price(v) {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    return fmt.num(v, a >= 1000 ? 1 : a >= 1 ? 4 : 6);
  },
  pct(v, digits = 2) { return v === null || v === undefined ? "–" : fmt.num(v * 100, digits); },
  time(ts) { return ts ? ts.replace("T", " ").replace(/(\.\d+)?Z$/, "").replace(/\+00:00$/, "") : "–"; },
  age(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.abs(seconds);
    if (s < 120) return `${Math.round(seconds)} s`;
    if (s < 7200) return `${Math.round(seconds / 60)} min`;
    if (s < 172800) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86400).toFixed(1)} d`;
  },
};

/** Class for a signed number: pos, neg or none. */
export function sign(v) { return v > 0 ? "pos" : v < 0 ? "neg" : ""; }

export function empty(container, text) {
  container.replaceChildren(h("p", { class: "empty" }, text));
}

/**
 * A sortable table with roving focus: arrow keys, Home and End move between rows, Enter opens
 * a row (onOpen), Enter or click on a header sorts by that column.
 *
 * columns: [{key, label (with its unit), num, format(value, row), cls(value, row), wrap}]
 */
export class Table {
  constructor(container, { columns, onOpen, empty: emptyText, label, groupBy, groupLabel }) {
    this.container = container;
    this.columns = columns;
    this.onOpen = onOpen;
    this.emptyText = emptyText || "nothing yet";
    this.label = label;
    this.groupBy = groupBy;
    this.groupLabel = groupLabel;
    this.rows = [];
    this.sort = null;
    this.table = null;
  }

  setRows(rows) {
    this.rows = rows;
    this.render();
  }

  sorted() {
    if (!this.sort) return this.rows;
    const { key, dir } = this.sort;
    const out = [...this.rows];
    out.sort((a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    return out;
  }

  head() {
    const cells = this.columns.map((col) => {
      const th = h("th", { scope: "col", tabindex: "0", class: col.num ? "num" : "", title: "Sort" }, col.label);
      if (this.sort?.key === col.key) th.setAttribute("aria-sort", this.sort.dir > 0 ? "ascending" : "descending");
      const toggle = () => {
        const dir = this.sort?.key === col.key ? -this.sort.dir : (col.num ? -1 : 1);
        this.sort = { key: col.key, dir };
        this.render();
        this.table.querySelector(`th:nth-child(${this.columns.indexOf(col) + 1})`)?.focus();
      };
      th.addEventListener("click", toggle);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
      return th;
    });
    return h("thead", {}, h("tr", {}, cells));
  }

  row(item, first) {
    const tr = document.createElement("tr");
    tr.tabIndex = first ? 0 : -1;
    if (this.onOpen) tr.className = "clickable";
    for (const col of this.columns) {
      const value = item[col.key];
      const td = document.createElement("td");
      td.textContent = col.format ? col.format(value, item) : value ?? "–";
      const cls = [col.num ? "num" : "", col.wrap ? "wrap" : "", col.cls ? col.cls(value, item) : ""].join(" ").trim();
      if (cls) td.className = cls;
      tr.append(td);
    }
    tr._item = item;
    return tr;
  }

  render() {
    if (!this.rows.length) {
      this.table = null;
      empty(this.container, this.emptyText);
      return;
    }
    const active = this.table && this.container.contains(document.activeElement)
      ? document.activeElement._item : null;
    const body = document.createElement("tbody");
    const frag = document.createDocumentFragment();
    let group;
    this.sorted().forEach((item, i) => {
      if (this.groupBy) {
        const g = this.groupBy(item);
        if (g !== group) {
          group = g;
          const td = h("td", { colspan: String(this.columns.length) }, this.groupLabel ? this.groupLabel(g, item) : g);
          frag.append(h("tr", { class: "group" }, td));
        }
      }
      frag.append(this.row(item, i === 0));
    });
    body.append(frag);
    body.addEventListener("keydown", (e) => this.onKey(e));
    body.addEventListener("click", (e) => {
      const tr = e.target.closest("tr");
      if (tr?._item && this.onOpen) { this.focusRow(tr); this.onOpen(tr._item); }
    });
    const table = h("table", { "aria-label": this.label || "" }, this.head(), body);
    this.container.replaceChildren(table);
    this.table = table;
    if (active) {
      const again = [...body.rows].find((tr) => tr._item === active || (this.key && tr._item && this.key(tr._item) === this.key(active)));
      if (again) this.focusRow(again);
    }
  }

  focusRow(tr) {
    for (const other of this.table.tBodies[0].rows) other.tabIndex = -1;
    tr.tabIndex = 0;
    tr.focus();
  }

  onKey(e) {
    const tr = e.target.closest("tr");
    if (!tr) return;
    const rows = [...this.table.tBodies[0].rows].filter((r) => r._item);
    const i = rows.indexOf(tr);
    let next = null;
    if (e.key === "ArrowDown") next = rows[Math.min(i + 1, rows.length - 1)];
    else if (e.key === "ArrowUp") next = rows[Math.max(i - 1, 0)];
    else if (e.key === "Home") next = rows[0];
    else if (e.key === "End") next = rows[rows.length - 1];
    else if (e.key === "Enter" && this.onOpen && tr._item) { e.preventDefault(); this.onOpen(tr._item); return; }
    if (next) { e.preventDefault(); this.focusRow(next); }
  }
}

/** Open the detail dialog with a title and body nodes (Esc or ✕ closes it). */
export function showDetail(title, body) {
  const dialog = document.getElementById("detail-dialog");
  document.getElementById("detail-h").textContent = title;
  document.getElementById("detail-body").replaceChildren(...[body].flat().filter(Boolean));
  if (!dialog.open) dialog.showModal();
}

/** A definition list from [label, value] pairs (null values shown as –). */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]));
}
