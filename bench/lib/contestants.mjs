// Contestant discovery: every folder contestants/<name>/ holding server.mjs and
// client.mjs is a contestant. Its client.mjs may export
//   meta = { echoModes: ['modeA', 'modeB'], transports: ['websocket', 'polling'] }
// (first mode is the default; per-mode scenarios run once per mode; scenarios that
// need a transport other than websocket run only the contestants listing it).
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const DIR = fileURLToPath(new URL("../contestants/", import.meta.url));
/** Preferred column order; anything else found follows alphabetically. */
const ORDER = ["ws", "socketio", "switchboard-sioc", "switchboard", "uws"];
/** Every ratio in the main table is relative to this contestant. */
export const BASELINE = "ws";
/** The second table compares these columns with Socket.IO (same echo mode). */
export const SIO_BASELINE = "socketio";

/** Names of the folders of `dir` that hold a contestant (server.mjs and client.mjs). */
function contestantsIn(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() &&
        existsSync(`${dir}${d.name}/server.mjs`) &&
        existsSync(`${dir}${d.name}/client.mjs`),
    )
    .map((d) => d.name);
}

/** Names of the contestant folders, in column order. */
export function discoverContestants() {
  const names = contestantsIn(DIR);
  const rank = (n) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

// Contestants for the profiling tools only (bench/profile/contestants/<name>/): the same
// files, found by contestantModule() but never by discoverContestants(), so the full run
// does not include them.
const PROFILE_DIR = fileURLToPath(new URL("../profile/contestants/", import.meta.url));

/**
 * Names of the profile-only contestants: a run includes one only when `--contestants`
 * names it (e.g. `floor` beside `ws` in the broadcast scenario).
 */
export function profileContestants() {
  return contestantsIn(PROFILE_DIR);
}

/**
 * The URL of `file` (`server.mjs` or `client.mjs`) of contestant `name`: a bench
 * contestant's, or else a profile-only one's.
 */
export function contestantModule(name, file) {
  const dir = existsSync(`${DIR}${name}/${file}`) ? DIR : PROFILE_DIR;
  return pathToFileURL(`${dir}${name}/${file}`);
}

/** Loads a contestant's client module (throws if it does not load) and reads its meta. */
export async function loadMeta(name) {
  const mod = await import(contestantModule(name, "client.mjs"));
  if (typeof mod.connect !== "function") throw new Error("client.mjs exports no connect()");
  const modes = mod.meta?.echoModes?.length ? mod.meta.echoModes : ["default"];
  const transports = mod.meta?.transports?.length ? mod.meta.transports : ["websocket"];
  return { name, modes, transports };
}

/** Column id of a (contestant, mode) pair: the default mode keeps the bare name. */
export const entryId = (name, mode, modes) => (mode === modes[0] ? name : `${name}:${mode}`);
