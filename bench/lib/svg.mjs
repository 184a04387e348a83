// A small dependency-free SVG bar chart of the ratios against the baseline (ws).
// One group of horizontal bars per metric row, one bar per contestant (default echo
// mode only), on a log scale centred on 1. Every ratio is turned so that a bar to the
// right of 1 means better than the baseline, whichever way the metric points
// (a "lower is better" ratio r is drawn as 1/r).
import { goodness, ratio } from "./report.mjs";

const PALETTE = {
  socketio: "#8c8c8c",
  "switchboard-sioc": "#1f6fb4",
  switchboard: "#2a9d3c",
  uws: "#e07b00",
};
const SPARE = ["#9467bd", "#c0392b", "#17becf", "#bcbd22"];

const W = 960;
const LABEL_W = 360;
const PLOT_L = LABEL_W + 10;
const PLOT_W = W - PLOT_L - 70;
const BAR_H = 9;
const BAR_GAP = 2;
const GROUP_GAP = 12;
const TOP = 92;

const esc = (s) =>
  String(s).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

function colorOf(column, i) {
  return PALETTE[column] ?? SPARE[i % SPARE.length];
}

/** The chart's data: rows that have a ratio for at least one plotted column. */
function chartData(rows, columns, baseline) {
  const plotted = columns.filter((c) => c !== baseline && !c.includes(":"));
  const groups = [];
  for (const row of rows) {
    const bars = plotted.map((c) => {
      const r = ratio(row, c, baseline);
      return { column: c, value: Number.isFinite(r) && r > 0 ? goodness(row, r) : NaN };
    });
    if (bars.some((b) => Number.isFinite(b.value))) {
      groups.push({ scenario: row.scenario, metric: row.metric, better: row.better, bars });
    }
  }
  const missing = rows.filter((r) => r.better !== "info" && !(r.values[baseline]?.length > 0));
  const skipped = [...new Set(missing.map((r) => r.scenario))];
  return { plotted, groups, skipped };
}

/** Log2 axis bounds covering every value (at least 1/2 .. 2), in whole powers of two. */
function domain(groups) {
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
  const lo = Math.floor(Math.log2(Math.min(0.5, ...values)));
  const hi = Math.ceil(Math.log2(Math.max(2, ...values)));
  return [lo, hi];
}

function axis(lo, hi, x, height) {
  const out = [];
  for (let e = lo; e <= hi; e++) {
    const xe = x(2 ** e).toFixed(1);
    const label = e >= 0 ? `${2 ** e}x` : `1/${2 ** -e}x`;
    const stroke = e === 0 ? 'stroke="#000" stroke-width="1.5"' : 'stroke="#ddd"';
    out.push(`<line x1="${xe}" y1="${TOP - 6}" x2="${xe}" y2="${height - 28}" ${stroke}/>`);
    out.push(`<text x="${xe}" y="${height - 14}" text-anchor="middle">${label}</text>`);
  }
  return out;
}

function legend(plotted, baseline) {
  const out = [];
  plotted.forEach((c, i) => {
    const lx = PLOT_L + i * 150;
    out.push(`<rect x="${lx}" y="52" width="12" height="12" fill="${colorOf(c, i)}"/>`);
    out.push(`<text x="${lx + 17}" y="62">${esc(c)}</text>`);
  });
  out.push(`<text x="${LABEL_W}" y="62" text-anchor="end">vs ${esc(baseline)} = 1:</text>`);
  return out;
}

function group(g, y, x, plotted) {
  const out = [];
  const h = Math.max(plotted.length * (BAR_H + BAR_GAP), 26);
  const arrow = g.better === "lower" ? " (lower is better)" : "";
  const mid = y + h / 2;
  out.push(
    `<text x="${LABEL_W}" y="${(mid - 2).toFixed(1)}" text-anchor="end" font-weight="bold">${esc(g.scenario)}</text>`,
    `<text x="${LABEL_W}" y="${(mid + 10).toFixed(1)}" text-anchor="end">${esc(g.metric + arrow)}</text>`,
  );
  g.bars.forEach((b, i) => {
    const by = y + i * (BAR_H + BAR_GAP);
    if (!Number.isFinite(b.value)) return;
    const x0 = x(1);
    const x1 = x(b.value);
    const left = Math.min(x0, x1).toFixed(1);
    const width = Math.max(1, Math.abs(x1 - x0)).toFixed(1);
    const fill = colorOf(b.column, i);
    out.push(
      `<rect x="${left}" y="${by}" width="${width}" height="${BAR_H}" fill="${fill}"><title>${esc(b.column)}: ${b.value.toFixed(2)}x</title></rect>`,
    );
    const tx = x1 >= x0 ? x1 + 3 : x1 - 3;
    const anchor = x1 >= x0 ? "start" : "end";
    out.push(
      `<text x="${tx.toFixed(1)}" y="${by + BAR_H - 1}" text-anchor="${anchor}" class="v">${b.value.toFixed(2)}</text>`,
    );
  });
  return { parts: out, height: h };
}

/**
 * The SVG document. `subtitle` says what run the figures come from.
 * Returns null when no row has a ratio to draw.
 */
export function ratioChart(rows, columns, baseline, subtitle) {
  const { plotted, groups, skipped } = chartData(rows, columns, baseline);
  if (groups.length === 0) return null;
  const [lo, hi] = domain(groups);
  const x = (v) => PLOT_L + ((Math.log2(v) - lo) / (hi - lo)) * PLOT_W;
  const body = [];
  let y = TOP;
  for (const g of groups) {
    const { parts, height } = group(g, y, x, plotted);
    body.push(...parts);
    y += height + GROUP_GAP;
  }
  const footnote = skipped.length
    ? `Not drawn (no ${baseline} figure to compare with): ${skipped.join(", ")}; see the tables.`
    : "";
  const height = y + (footnote ? 58 : 40);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="title" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<title id="title">Benchmark ratios against ${esc(baseline)}: ${esc(subtitle)}</title>`,
    "<style>text{fill:#222}.v{font-size:9px;fill:#444}</style>",
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Performance relative to raw ${esc(baseline)} (log scale; right of 1x = better than ${esc(baseline)})</text>`,
    `<text x="10" y="38">${esc(subtitle)}. Cost metrics (lower is better) are drawn as ${esc(baseline)}/contestant.</text>`,
    ...legend(plotted, baseline),
    ...axis(lo, hi, x, height),
    ...body,
    footnote ? `<text x="10" y="${height - 4}">${esc(footnote)}</text>` : "",
    "</svg>",
    "",
  ].join("\n");
}
