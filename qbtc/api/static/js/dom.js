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
  for (const child of children.flat(Infinity)) {
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
  num(v, digits = 2) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    // No "-0.00": what rounds to zero is shown as zero.
    return numberFormat(digits).format(Math.abs(v) < 0.5 * 10 ** -digits ? 0 : v);
  },
  usd(v) { return fmt.num(v, Math.abs(v ?? 0) >= 1000 ? 0 : 2); },
  qty(v) {
    if (v === null || v === undefined) return "–";
    if (v === 0) return "0";
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

/** A table column of signed USDT amounts (the unit goes in the header). */
export const usdColumn = (key, label) => ({ key, label: `${label} (USDT)`, num: true, format: fmt.usd, cls: sign });

export function empty(container, text) {
  container.replaceChildren(h("p", { class: "empty" }, text));
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
