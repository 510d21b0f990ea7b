// Planted bugs in a real server process, for the real-process harness only (`conclave jepsen
// run --bug NAME`): the harness must show it catches a broken node, as the simulator does. There
// is deliberately no config field or flag for this; only an environment variable whose name
// says what it does, and the node logs at error level that it is unsafe.
import { isPlantedBug, PLANTED_BUG_ENV, PLANTED_BUGS, type Bugs, type PlantedBug } from '../core/bugs.js';

export { PLANTED_BUG_ENV };

export class PlantedBugError extends Error {
  override readonly name = 'PlantedBugError';
}

/** The bugs named by CONCLAVE_UNSAFE_PLANTED_BUG (comma-separated); empty when unset. Throws on an unknown name. */
export function plantedBugsFromEnv(env: NodeJS.ProcessEnv = process.env): Bugs {
  const raw = env[PLANTED_BUG_ENV];
  if (raw === undefined || raw.trim() === '') return new Set();
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bugs = new Set<PlantedBug>();
  for (const n of names) {
    if (!isPlantedBug(n)) throw new PlantedBugError(`${PLANTED_BUG_ENV}: unknown planted bug '${n}' (known: ${Object.keys(PLANTED_BUGS).join(', ')})`);
    bugs.add(n);
  }
  return bugs;
}
