// Markdown rendering of the collected results.
//   rows: [{ scenario, metric, better: 'higher' | 'lower' | 'info', values: { entryId: number[] } }]
//   columns: entry ids in display order.
import { median, minMax } from "./stats.mjs";

/** A number for a table cell: thousands separators, 3 significant digits below 1,000. */
export function fmt(v) {
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "n/a");

const has = (row, c) => (row.values[c]?.length ?? 0) > 0;

/** median(column) / median(baseline) for a row, or NaN when either is missing or it is info. */
export function ratio(row, column, baseline) {
  if (row.better === "info" || !has(row, column) || !has(row, baseline)) return NaN;
  return median(row.values[column]) / median(row.values[baseline]);
}

/** A ratio turned so that above 1 always means better than the baseline. */
export const goodness = (row, r) => (row.better === "lower" ? 1 / r : r);

function header(head, leading) {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i < leading ? "---" : "---:")).join("|")}|`,
  ];
}

/** Medians of every column, then ratios of every other column against `baseline`. */
export function resultsTable(rows, columns, baseline) {
  const others = columns.filter((c) => c !== baseline);
  const head = [
    "Scenario",
    "Metric",
    "Better",
    ...columns.map((c) => `${c} (median)`),
    ...others.map((c) => `${c}/${baseline}`),
  ];
  const lines = header(head, 3);
  for (const row of rows) {
    const cells = columns.map((c) => (has(row, c) ? fmt(median(row.values[c])) : "-"));
    const ratios = others.map((c) => {
      const r = ratio(row, c, baseline);
      return Number.isFinite(r) ? fmtRatio(r) : "-";
    });
    lines.push(`| ${[row.scenario, row.metric, row.better, ...cells, ...ratios].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The baseline column for `column`: same echo mode if the baseline has it. */
function pairOf(column, baseline, columns) {
  const mode = column.includes(":") ? column.slice(column.indexOf(":")) : "";
  return mode && columns.includes(`${baseline}${mode}`) ? `${baseline}${mode}` : baseline;
}

/** (max - min) / median of a column's repetitions, 0 with fewer than two. */
function spreadOf(row, column) {
  const xs = (row.values[column] ?? []).filter(Number.isFinite);
  if (xs.length < 2) return 0;
  const [lo, hi] = minMax(xs);
  const m = Math.abs(median(xs));
  return m > 0 ? (hi - lo) / m : 0;
}

/** Within this much of 1 (either way), a ratio is called a tie. */
const TIE = 0.1;
/** Above this spread of the repetitions of either side, the verdict is flagged as noisy. */
const NOISY = 0.3;

/**
 * "win, 1.25x" / "loss, 0.70x" / "tie (0.96x)": performance against the baseline (above
 * 1 = better), flagged "noisy" when either side's repetitions spread by more than 30 %.
 */
function verdict(row, r, spread) {
  if (!Number.isFinite(r)) return "-";
  const g = goodness(row, r);
  const noisy = spread > NOISY ? `, noisy (spread ${(spread * 100).toFixed(0)}%)` : "";
  if (Math.abs(g - 1) < TIE) return `tie (${g.toFixed(2)}x)${noisy}`;
  return `${g > 1 ? "**win**" : "**loss**"}, ${g.toFixed(2)}x${noisy}`;
}

/**
 * Ratios of `subjects` against `baseline` (each mode against the same mode), and a
 * verdict for the first subject: its performance relative to the baseline, turned so
 * that above 1 is better whichever way the metric points.
 */
export function versusTable(rows, columns, baseline, subjects) {
  const present = subjects.filter((s) => columns.includes(s));
  if (!columns.includes(baseline) || present.length === 0) return "";
  const pairs = present.map((s) => [s, pairOf(s, baseline, columns)]);
  const head = [
    "Scenario",
    "Metric",
    "Better",
    `${baseline} (median)`,
    ...pairs.map(([s, b]) => `${s}/${b}`),
    `${present[0]} verdict`,
  ];
  const lines = header(head, 3);
  for (const row of rows) {
    if (row.better === "info" || !has(row, baseline)) continue;
    const ratios = pairs.map(([s, b]) => ratio(row, s, b));
    const cells = ratios.map((r) => (Number.isFinite(r) ? fmtRatio(r) : "-"));
    const base = fmt(median(row.values[baseline]));
    const [subject, against] = pairs[0];
    const spread = Math.max(spreadOf(row, subject), spreadOf(row, against));
    const v = verdict(row, ratios[0], spread);
    lines.push(`| ${[row.scenario, row.metric, row.better, base, ...cells, v].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Per-repetition values and spread, for the record. */
export function rawTable(rows, columns) {
  const lines = header(["Scenario", "Metric", ...columns], 2);
  for (const row of rows) {
    const cells = columns.map((c) => {
      const xs = row.values[c] ?? [];
      if (!xs.length) return "-";
      const [lo, hi] = minMax(xs);
      const m = Math.abs(median(xs));
      const spread =
        m > 0 && xs.length > 1 ? ` (spread ${(((hi - lo) / m) * 100).toFixed(0)}%)` : "";
      return `${xs.map(fmt).join(" / ")}${spread}`;
    });
    lines.push(`| ${row.scenario} | ${row.metric} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
