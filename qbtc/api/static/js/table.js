// A sortable, keyboard-friendly table that renders only the rows in view when long.
import { empty, h } from "./dom.js";

/** Tables longer than this render only the rows in view (plus a margin) as they scroll. */
const VIRTUAL_ROWS = 120;
const MARGIN_ROWS = 20;

/**
 * A sortable table with roving focus: arrow keys, Page Up/Down, Home and End move between
 * rows, Enter opens a row (onOpen), Enter or click on a header sorts by that column.
 * Column widths come from the longest text of each column (fixed layout); a long table only
 * renders the rows in view, so 500 or 5,000 rows cost the same to show, sort and move in.
 *
 * columns: [{key, label (with its unit), num, format(value, row), cls(value, row), wrap,
 *            link(value, row) -> href}]
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
    this.focusIndex = 0;
    this.rowHeight = 27;
    this.window = null;
    this.scheduled = false;
    container.addEventListener("scroll", () => {
      if (!this.virtual || this.scheduled) return;
      this.scheduled = true;
      requestAnimationFrame(() => { this.scheduled = false; this.renderWindow(); });
    });
  }

  /** Show ``rows``; the same rows again (a live refresh that changed nothing) cost nothing. */
  setRows(rows) {
    const signature = JSON.stringify(rows);
    if (signature === this.signature && this.container.isConnected && (this.table || !rows.length)) return;
    this.signature = signature;
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
    const cells = this.columns.map((col, c) => {
      const th = h("th", { scope: "col", tabindex: "0", class: col.num ? "num" : "", title: "Sort" }, col.label);
      if (this.sort?.key === col.key) th.setAttribute("aria-sort", this.sort.dir > 0 ? "ascending" : "descending");
      const toggle = () => {
        const dir = this.sort?.key === col.key ? -this.sort.dir : (col.num ? -1 : 1);
        this.sort = { key: col.key, dir };
        this.render();
        this.table.tHead.rows[0].cells[c].focus();
      };
      th.addEventListener("click", toggle);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
      return th;
    });
    return h("thead", {}, h("tr", {}, cells));
  }

  /** Display rows (items, and group headers when grouped) with their cell texts. */
  layout() {
    const display = [];
    const widths = this.columns.map((col) => col.label.length + (col.num ? 1 : 2));
    let group;
    for (const item of this.sorted()) {
      if (this.groupBy) {
        const g = this.groupBy(item);
        if (g !== group) {
          group = g;
          display.push({ group: this.groupLabel ? this.groupLabel(g, item) : g });
        }
      }
      const texts = this.columns.map((col, c) => {
        const text = String(col.format ? col.format(item[col.key], item) : item[col.key] ?? "–");
        if (text.length > widths[c]) widths[c] = text.length;
        return text;
      });
      display.push({ item, texts });
    }
    return { display, widths };
  }

  row(index) {
    const entry = this.display[index];
    let tr = this.cache.get(index);
    if (tr) return tr;
    if (entry.group !== undefined) {
      tr = h("tr", { class: "group" }, h("td", { colspan: String(this.columns.length) }, entry.group));
    } else {
      tr = document.createElement("tr");
      tr.tabIndex = -1;
      if (this.onOpen) tr.className = "clickable";
      this.columns.forEach((col, c) => {
        const td = document.createElement("td");
        if (col.link) {
          const a = h("a", { href: col.link(entry.item[col.key], entry.item), target: "_blank", rel: "noopener", tabindex: "-1" }, entry.texts[c]);
          td.append(a);
        } else {
          td.textContent = entry.texts[c];
        }
        const cls = [col.num ? "num" : "", col.wrap ? "wrap" : "", col.cls ? col.cls(entry.item[col.key], entry.item) : ""].join(" ").trim();
        if (cls) td.className = cls;
        if (col.wrap && this.virtual) td.title = entry.texts[c];
        tr.append(td);
      });
      tr._item = entry.item;
    }
    tr._index = index;
    this.cache.set(index, tr);
    return tr;
  }

  render() {
    if (!this.rows.length) {
      this.table = null;
      empty(this.container, this.emptyText);
      return;
    }
    const hadFocus = this.table && this.container.contains(document.activeElement) && document.activeElement.tagName === "TR";
    const { display, widths } = this.layout();
    this.display = display;
    this.cache = new Map();
    this.virtual = display.length > VIRTUAL_ROWS;
    this.window = null;
    this.focusIndex = Math.min(this.focusIndex, display.length - 1);
    if (!display[this.focusIndex].item) this.focusIndex = this.step(this.focusIndex, 1) ?? 0;
    const chars = this.columns.map((col, c) => (col.wrap ? Math.min(Math.max(widths[c], 24), 60) : widths[c]));
    const cols = chars.map((n) => h("col", { style: `width: calc(${n}ch + 18px)` }));
    const width = `calc(${chars.reduce((a, b) => a + b, 0)}ch + ${chars.length * 18}px)`;
    const body = document.createElement("tbody");
    body.addEventListener("keydown", (e) => this.onKey(e));
    body.addEventListener("click", (e) => {
      const tr = e.target.closest("tr");
      if (tr?._item) { this.focusRow(tr._index); if (this.onOpen) this.onOpen(tr._item); }
    });
    const classes = this.virtual ? "fixed virtual" : "fixed";
    const items = display.filter((d) => d.item).length;
    const table = h("table", { "aria-label": this.label || "", "aria-rowcount": String(display.length + 1), "data-items": String(items), class: classes, style: `width: ${width}` },
      h("colgroup", {}, cols), this.head(), body);
    this.table = table;
    this.body = body;
    const scroll = [this.container.scrollTop, this.container.scrollLeft];
    this.container.replaceChildren(table);
    // A live update keeps the reader where they were.
    [this.container.scrollTop, this.container.scrollLeft] = scroll;
    this.renderWindow();
    if (hadFocus) this.focusRow(this.focusIndex);
  }

  /** The rows in view (all of them for a short table), with spacers for the rest. */
  renderWindow() {
    if (!this.table) return;
    const n = this.display.length;
    let start = 0, end = n;
    if (this.virtual) {
      const first = this.body.rows[0];
      if (first && !first.classList.contains("spacer") && first.offsetHeight) this.rowHeight = first.offsetHeight;
      const header = this.table.tHead.offsetHeight;
      const top = Math.max(0, this.container.scrollTop - header);
      const view = this.container.clientHeight || 360;
      start = Math.max(0, Math.floor(top / this.rowHeight) - MARGIN_ROWS);
      end = Math.min(n, Math.ceil((top + view) / this.rowHeight) + MARGIN_ROWS);
      if (this.window && start >= this.window[0] && end <= this.window[1]) return;
      start = Math.max(0, start - MARGIN_ROWS);
      end = Math.min(n, end + MARGIN_ROWS);
    }
    this.window = [start, end];
    const focused = this.container.contains(document.activeElement) ? document.activeElement : null;
    const frag = document.createDocumentFragment();
    const spacer = (rows) => {
      const td = h("td", { colspan: String(this.columns.length), style: `height:${rows * this.rowHeight}px;padding:0;border:0` });
      return h("tr", { class: "spacer", "aria-hidden": "true" }, td);
    };
    if (start > 0) frag.append(spacer(start));
    for (let i = start; i < end; i++) frag.append(this.row(i));
    if (end < n) frag.append(spacer(n - end));
    this.body.replaceChildren(frag);
    // One row is reachable with Tab: the focused one, else the first item in view.
    const current = this.cache.get(this.focusIndex);
    const tabbable = current?.isConnected ? current : [...this.body.rows].find((tr) => tr._item);
    for (const tr of this.body.querySelectorAll('tr[tabindex="0"]')) if (tr !== tabbable) tr.tabIndex = -1;
    if (tabbable) tabbable.tabIndex = 0;
    if (focused?.isConnected) focused.focus({ preventScroll: true });
  }

  step(index, direction) {
    for (let i = index + direction; i >= 0 && i < this.display.length; i += direction) {
      if (this.display[i].item) return i;
    }
    return null;
  }

  /** Scroll row ``index`` into view, render it and move the focus there. */
  focusRow(index) {
    if (this.virtual) {
      const header = this.table.tHead.offsetHeight;
      const top = index * this.rowHeight;
      const view = this.container.clientHeight - header;
      if (top < this.container.scrollTop) this.container.scrollTop = top;
      else if (top + this.rowHeight > this.container.scrollTop + view) this.container.scrollTop = top + this.rowHeight - view;
      this.renderWindow();
    }
    const previous = this.cache.get(this.focusIndex);
    if (previous && this.focusIndex !== index) previous.tabIndex = -1;
    this.focusIndex = index;
    const tr = this.row(index);
    tr.tabIndex = 0;
    tr.focus({ preventScroll: this.virtual });
  }

  onKey(e) {
    const tr = e.target.closest("tr");
    if (!tr?._item) return;
    const i = tr._index;
    const page = Math.max(1, Math.floor(this.container.clientHeight / this.rowHeight) - 2);
    let next = null;
    if (e.key === "ArrowDown") next = this.step(i, 1);
    else if (e.key === "ArrowUp") next = this.step(i, -1);
    else if (e.key === "PageDown") next = this.step(Math.min(i + page, this.display.length) - 1, 1) ?? this.step(this.display.length, -1);
    else if (e.key === "PageUp") next = this.step(Math.max(i - page, 0) + 1, -1) ?? this.step(-1, 1);
    else if (e.key === "Home") next = this.step(-1, 1);
    else if (e.key === "End") next = this.step(this.display.length, -1);
    else if (e.key === "Enter" && this.onOpen) { e.preventDefault(); this.onOpen(tr._item); return; }
    if (next !== null) { e.preventDefault(); this.focusRow(next); }
  }
}
