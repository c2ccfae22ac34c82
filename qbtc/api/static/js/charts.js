// Charts with uPlot (vendored, MIT): theme-aware colours, resize with their box.
/* global uPlot */
const charts = new Set();

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function axis(label, values, size) {
  const fg = css("--muted");
  return {
    label, stroke: fg, labelSize: label ? 18 : 0, labelGap: 2, size, gap: 4,
    grid: { stroke: css("--chart-grid"), width: 1 },
    ticks: { stroke: css("--chart-grid"), width: 1 },
    values,
  };
}

const formats = new Map();
function decimals(digits) {
  if (!formats.has(digits)) {
    formats.set(digits, new Intl.NumberFormat("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  }
  return formats.get(digits);
}

/** Tick labels with as many decimals as the tick step needs (grouped thousands). */
function numberTicks(u, splits, axisIdx, space, incr) {
  const digits = incr > 0 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(incr)))) : 2;
  const f = decimals(digits);
  return splits.map((v) => (v === null ? "" : f.format(v)));
}

/** Time ticks in UTC, 24 h: HH:MM, with the date under the first tick of each day. */
function timeTicks(u, splits, axisIdx, space, incr) {
  let previous = null;
  return splits.map((v) => {
    const iso = new Date(v * 1000).toISOString();
    const date = iso.slice(5, 10);
    if (incr >= 86400) return date;
    const label = date === previous ? iso.slice(11, 16) : `${iso.slice(11, 16)}\n${date}`;
    previous = date;
    return label;
  });
}

/** The x range: uPlot's own, except around a single point (it would span 1,000 days). */
function single(u, min, max, pad) {
  const xs = u.data[0];
  return xs.length === 1 ? [xs[0] - pad, xs[0] + pad] : [min, max];
}

const compact = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 7 });
const utc = (v) => (v === null ? "–" : new Date(v * 1000).toISOString().slice(0, 16).replace("T", " "));

/**
 * A line chart that keeps its configuration, so it can be rebuilt when the theme changes.
 * series: [{label, color: "--s1", width, dash, points: {size}, line: false, scale}]
 */
export class LineChart {
  constructor(el, { series, x = "time", yLabel = "", y2Label = null, height = 220 }) {
    this.el = el;
    this.spec = { series, x, yLabel, y2Label, height };
    this.data = null;
    this.plot = null;
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(el);
    charts.add(this);
  }

  options() {
    const { series, x, yLabel, y2Label, height } = this.spec;
    const width = Math.max(this.el.clientWidth, 200);
    const axes = [
      x === "time" ? axis("", timeTicks, 44) : axis(x, numberTicks, 48),
      axis(yLabel, numberTicks, 84),
    ];
    if (y2Label) axes.push({ ...axis(y2Label, numberTicks, 76), side: 1, scale: "y2", grid: { show: false } });
    return {
      width, height,
      // A single point gets an hour (or a unit) either side instead of a range of years.
      scales: { x: { time: x === "time", range: (u, min, max) => single(u, min, max, x === "time" ? 3600 : 1) }, ...(y2Label ? { y2: {} } : {}) },
      axes,
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      legend: { live: true },
      series: [
        { label: x === "time" ? "time (UTC)" : x, value: x === "time" ? (u, v) => utc(v) : (u, v) => (v === null ? "–" : compact.format(v)) },
        ...series.map((s) => ({
          label: s.label,
          scale: s.scale || "y",
          stroke: css(s.color),
          width: s.width ?? 1.5,
          dash: s.dash,
          spanGaps: s.spanGaps ?? false,
          paths: s.line === false ? () => null : undefined,
          // Lines need two points: with few points, dots show them.
          points: s.points ? { show: true, size: s.points.size || 8, fill: css(s.color), stroke: css(s.color) }
            : { show: (u) => u.data[0].length < 30, size: 6, fill: css(s.color), stroke: css(s.color) },
          value: (u, v) => (v === null || v === undefined ? "–" : compact.format(v)),
        })),
      ],
    };
  }

  /** data: [xs, ys1, ys2, ...] with xs in seconds (time) or units. */
  setData(data) {
    this.data = data;
    if (!this.plot) {
      this.el.replaceChildren();
      this.plot = new uPlot(this.options(), data, this.el);
    } else {
      this.plot.setData(data);
    }
  }

  resize() {
    if (this.plot && this.el.clientWidth) this.plot.setSize({ width: this.el.clientWidth, height: this.spec.height });
  }

  rebuild() {
    if (!this.plot) return;
    this.plot.destroy();
    this.plot = new uPlot(this.options(), this.data, this.el);
  }

  empty(text) {
    this.plot?.destroy();
    this.plot = null;
    this.el.replaceChildren(Object.assign(document.createElement("p"), { className: "empty", textContent: text }));
  }
}

export function rebuildAll() {
  for (const chart of charts) chart.rebuild();
}

/** Seconds since the epoch of an ISO time (uPlot's time unit). */
export const seconds = (iso) => Date.parse(iso) / 1000;
