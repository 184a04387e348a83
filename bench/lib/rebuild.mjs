// Rebuilds the report's rows and columns from a run's raw JSON (bench/results/*.json),
// so a report can be re-rendered without measuring again (`--from-json`).
import { discoverContestants } from "./contestants.mjs";

/** Column ids in display order: contestant order, then the default mode before the others. */
function orderColumns(ids) {
  const names = discoverContestants();
  const rank = (id) => {
    const name = id.split(":")[0];
    const i = names.indexOf(name);
    return (i < 0 ? names.length : i) * 2 + (id.includes(":") ? 1 : 0);
  };
  return [...new Set(ids)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Contestants skipped by the preflight, from the JSON or else from its notes. */
function excludedOf(json) {
  if (json.excluded) return json.excluded;
  return json.notes
    .map((n) => /^contestant (\S+) skipped: (.*)$/.exec(n))
    .filter(Boolean)
    .map(([, name, why]) => ({ name, why }));
}

/**
 * Adds the values of one run (`result`, of column `entry`) to its scenario's rows. A metric
 * the run did not measure (undefined) adds nothing.
 */
export function addRunValues(scRows, entry, result) {
  for (const row of scRows) {
    row.values[entry] ??= [];
    if (result[row.key] !== undefined) row.values[entry].push(result[row.key]);
  }
}

/**
 * { rows, columns, chosen, excluded } from the JSON of a run. `rowsFor(sc, p)` makes the
 * empty rows of one scenario, as the orchestrator does.
 */
export function rebuildState(json, scenarios, rowsFor) {
  const ids = json.scenarios ?? [...new Set(json.runs.map((r) => r.scenario))];
  const chosen = scenarios.filter((s) => ids.includes(s.id));
  const rows = [];
  for (const sc of chosen) {
    const scRows = rowsFor(sc, json.params[sc.id]);
    for (const run of json.runs) {
      if (run.scenario !== sc.id || !run.result) continue;
      addRunValues(scRows, run.entry, run.result);
    }
    rows.push(...scRows);
  }
  const columns = json.columns ?? orderColumns(json.runs.map((r) => r.entry));
  return { rows, columns, chosen, excluded: excludedOf(json) };
}
