// Every limit of the key-value face, named, so memory and work per command are bounded by
// construction and a client learns the bound from the error that cites it.

/** Longest key, in UTF-8 bytes. */
export const KEY_BYTES_MAX = 1024;
/** Largest stored value, in encoded bytes (see encodeValue). */
export const VALUE_BYTES_MAX = 1024 * 1024;
/** Most items in one bulk put/get/delete/touch. */
export const BULK_ITEMS_MAX = 500;
/** Largest page a list may return; also the default limit. */
export const LIST_LIMIT_MAX = 10_000;
export const LIST_LIMIT_DEFAULT = 1000;
/** Largest offset a list may skip (skipping still costs a scan). */
export const LIST_OFFSET_MAX = 1_000_000;
/** Most keys one delete-where removes; the rest stay for the next call. */
export const DELETE_WHERE_MAX = 10_000;
/** Longest key regex, in UTF-16 units. */
export const REGEX_SOURCE_MAX = 256;
/** Largest repeat count in a {n,m} quantifier. */
export const REGEX_REPEAT_MAX = 100;
/**
 * Most instructions a compiled key regex may have. A test costs at most this many steps per
 * character of the key (see regex.ts), so with KEY_BYTES_MAX it bounds the work per key.
 */
export const REGEX_PROGRAM_MAX = 1000;
/** Longest TTL: about 100 years, so expiresAt stays a safe integer of milliseconds. */
export const TTL_MS_MAX = 100 * 365 * 24 * 3600 * 1000;
/** Most expired keys purged by the sweep at the start of one apply. */
export const EXPIRY_SWEEP_MAX = 64;
