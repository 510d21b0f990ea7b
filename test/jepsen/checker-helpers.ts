// Small builders for hand-written histories in tests.
import type { EventType, HistoryEvent } from '../../jepsen/types.js';

export type Step = readonly [process: number, type: EventType, f: string, value?: unknown, key?: string | null];

/** Events from compact steps; line = position + 1, as if read from a JSON Lines file. */
export function events(...steps: readonly Step[]): HistoryEvent[] {
  return steps.map(([process, type, f, value, key], i) => ({ process, type, f, key: key ?? null, value: value ?? null, line: i + 1 }));
}

/** The JSON Lines text of steps. */
export function jsonl(...steps: readonly Step[]): string {
  return steps
    .map(([process, type, f, value, key]) => JSON.stringify({ process, type, f, ...(key != null ? { key } : {}), value: value ?? null }))
    .join('\n');
}
