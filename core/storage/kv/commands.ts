// The key-value face's vocabulary: the commands a Raft group applies from its log (and the read
// commands a ReadIndex read runs without the log), and what applying one answers.
import type { Value } from '../encoding.js';

/** Which keys a list, count or delete-where looks at. Key order is Unicode code point order. */
export type KeyMatch =
  | { readonly type: 'all' }
  | { readonly type: 'prefix'; readonly prefix: string }
  | { readonly type: 'suffix'; readonly suffix: string }
  | { readonly type: 'contains'; readonly text: string }
  /** start <= key < end; either bound may be left out. */
  | { readonly type: 'range'; readonly start?: string; readonly end?: string }
  /** A regular expression (JavaScript syntax, run by the linear-time engine in regex.ts) searched in each key; flags from "imsu". */
  | { readonly type: 'regex'; readonly pattern: string; readonly flags?: string };

/** An optional filter on values (applied after the key match). */
export type ValueFilter =
  | { readonly type: 'equals'; readonly value: Value }
  /** String values containing `text`. */
  | { readonly type: 'contains'; readonly text: string }
  /** String values starting with `prefix`. */
  | { readonly type: 'prefix'; readonly prefix: string };

/** Conditions a put may carry; all given must hold. */
export interface PutConditions {
  /** The current value must equal this (by encoded bytes); an absent key fails with not-found. */
  readonly expected?: Value;
  /** The key's modification revision must be this; 0 means "the key must be absent". */
  readonly expectedRevision?: number;
  /** The key must be absent. */
  readonly ifAbsent?: boolean;
}

export interface PutItem extends PutConditions {
  readonly key: string;
  readonly value: Value;
  /** Time to live from this entry's log timestamp. Without it (and without keepTtl) the key never expires. */
  readonly ttlMs?: number;
  /** Keep the key's current expiry (ignored when ttlMs is given). */
  readonly keepTtl?: boolean;
}

export interface DeleteItem {
  readonly key: string;
  readonly expected?: Value;
  readonly expectedRevision?: number;
}

export type BulkWriteItem = ({ readonly type: 'put' } & PutItem) | ({ readonly type: 'delete' } & DeleteItem);

export interface TouchItem {
  readonly key: string;
  readonly ttlMs: number;
}

export type KvCommand =
  | ({ readonly op: 'put' } & PutItem)
  | { readonly op: 'get'; readonly key: string }
  | ({ readonly op: 'delete' } & DeleteItem)
  | ({ readonly op: 'touch' } & TouchItem)
  | {
      readonly op: 'increment';
      readonly key: string;
      /** Default 1. A bigint delta works on bigint counters and on number counters alike. */
      readonly delta?: number | bigint;
      /** The value an absent key starts from before the delta is added. Default 0. */
      readonly initial?: number | bigint;
      /** Applied only when the increment creates the key. */
      readonly ttlMs?: number;
    }
  | {
      readonly op: 'list';
      readonly match: KeyMatch;
      readonly filter?: ValueFilter;
      readonly limit?: number;
      readonly offset?: number;
      readonly reverse?: boolean;
      /** Leave values out of the answer. */
      readonly keysOnly?: boolean;
    }
  | { readonly op: 'count'; readonly match: KeyMatch; readonly filter?: ValueFilter }
  | { readonly op: 'delete-where'; readonly match: KeyMatch; readonly filter?: ValueFilter; readonly limit?: number }
  /** `atomic`: every item is validated and its conditions checked first; one failure fails all. */
  | { readonly op: 'bulk-put'; readonly items: readonly PutItem[]; readonly atomic: boolean }
  | { readonly op: 'bulk-get'; readonly keys: readonly string[] }
  | { readonly op: 'bulk-delete'; readonly items: readonly DeleteItem[]; readonly atomic: boolean }
  | { readonly op: 'bulk-touch'; readonly items: readonly TouchItem[]; readonly atomic: boolean }
  /** Puts and deletes mixed, each item tagged with its `type`; keys distinct (HTTP's _bulk). */
  | { readonly op: 'bulk-write'; readonly items: readonly BulkWriteItem[]; readonly atomic: boolean };

export type KvOp = KvCommand['op'];
/** The commands that never write: they may be served by a ReadIndex read. */
export type KvReadCommand = Extract<KvCommand, { readonly op: 'get' | 'list' | 'count' | 'bulk-get' }>;

export function isReadCommand(c: KvCommand): c is KvReadCommand {
  return c.op === 'get' || c.op === 'list' || c.op === 'count' || c.op === 'bulk-get';
}

export type KvErrorCode =
  /** The key is absent (or expired). */
  | 'not-found'
  /** A condition (expected, expectedRevision, ifAbsent) did not hold; `current` says what is there. */
  | 'condition-failed'
  /** The command is malformed or breaks a limit. */
  | 'invalid-argument'
  /** More items than BULK_ITEMS_MAX. */
  | 'too-many'
  /** increment on a value that is not an integer. */
  | 'wrong-type';

/** The state of a key as a condition saw it; null when absent. */
export interface CurrentState {
  readonly value: Value;
  readonly revision: number;
}

export interface KvError {
  readonly status: 'error';
  readonly code: KvErrorCode;
  readonly message: string;
  /** For condition-failed: the key's current value and revision, or null when absent. */
  readonly current?: CurrentState | null;
  /** For a failed bulk item (atomic bulk calls): which item. */
  readonly index?: number;
}

/** A key as reads return it. */
export interface KvEntry {
  readonly key: string;
  readonly value: Value;
  /** Store revision of the last change to the value (etcd's mod revision). */
  readonly revision: number;
  /** Store revision that created the key (since it was last absent). */
  readonly createRevision: number;
  /** Number of writes since creation (1 after the first put). */
  readonly version: number;
  /** Log-time milliseconds when the key expires; null for never. */
  readonly expiresAtMs: number | null;
}

export type ListItem = KvEntry | Omit<KvEntry, 'value'>;

export type BulkItemResult = { readonly status: 'ok'; readonly revision: number } | KvError;
export type BulkGetItem = { readonly key: string; readonly found: true; readonly entry: KvEntry } | { readonly key: string; readonly found: false };

export type KvOk =
  | { readonly status: 'ok'; readonly op: 'put'; readonly revision: number; readonly createRevision: number; readonly version: number; readonly expiresAtMs: number | null }
  | { readonly status: 'ok'; readonly op: 'get'; readonly entry: KvEntry }
  | { readonly status: 'ok'; readonly op: 'delete'; readonly revision: number }
  | { readonly status: 'ok'; readonly op: 'touch'; readonly expiresAtMs: number }
  | { readonly status: 'ok'; readonly op: 'increment'; readonly value: number | bigint; readonly revision: number }
  /** `more`: further matches exist past this page. `revision`: the store revision read at. */
  | { readonly status: 'ok'; readonly op: 'list'; readonly items: readonly ListItem[]; readonly more: boolean; readonly revision: number }
  | { readonly status: 'ok'; readonly op: 'count'; readonly count: number; readonly revision: number }
  /** `more`: matches remain because DELETE_WHERE_MAX or `limit` stopped the call. */
  | { readonly status: 'ok'; readonly op: 'delete-where'; readonly deleted: readonly string[]; readonly more: boolean; readonly revision: number }
  | { readonly status: 'ok'; readonly op: 'bulk-put' | 'bulk-delete' | 'bulk-touch' | 'bulk-write'; readonly results: readonly BulkItemResult[]; readonly revision: number }
  | { readonly status: 'ok'; readonly op: 'bulk-get'; readonly items: readonly BulkGetItem[]; readonly revision: number };

export type KvResult = KvOk | KvError;

/** Thrown inside apply for a client's mistake or a failed condition; apply turns it into a KvError. */
export class KvFailure extends Error {
  override readonly name = 'KvFailure';
  constructor(
    readonly code: KvErrorCode,
    message: string,
    readonly current?: CurrentState | null,
    /** Which item of a bulk call failed. */
    readonly index?: number,
  ) {
    super(message);
  }

  toResult(index: number | undefined = this.index): KvError {
    return {
      status: 'error',
      code: this.code,
      message: this.message,
      ...(this.current !== undefined ? { current: this.current } : {}),
      ...(index !== undefined ? { index } : {}),
    };
  }
}
