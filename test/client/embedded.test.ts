// Embedded mode, imported as a user does (`from 'conclave'`, the package's "." export): the same
// KV API and error codes as conclave/client, data durable across close and reopen, a directory
// of another shape refused.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open } from 'conclave';
import { ConclaveError } from 'conclave/client';

describe('embedded mode', () => {
  it('puts, reads, compares-and-swaps, deletes, and keeps its data across a reopen', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'conclave-embedded-')), 'db');
    const db = await open(dir, { partitions: 4 });
    try {
      const r1 = await db.kv.put('a', { n: 1 });
      expect(r1.revision).toBeGreaterThan(0);
      expect(await db.kv.get('a')).toEqual({ value: { n: 1 }, revision: r1.revision });
      expect(await db.kv.get('a', { consistency: 'eventual' })).toMatchObject({ value: { n: 1 } });
      expect(await db.kv.get('absent')).toBeNull();
      await expect(db.kv.put('a', 2, { expected: { n: 9 } })).rejects.toMatchObject({ code: 'condition_failed' });
      await expect(db.kv.put('nope', 2, { expected: 1 })).rejects.toMatchObject({ code: 'not_found' });
      expect((await db.kv.put('a', 2, { expected: { n: 1 } })).revision).toBeGreaterThan(r1.revision);
      await db.kv.put('b', 'x', { ttl: 3600 });
      await db.kv.put('gone', true);
      await db.kv.delete('gone');
      const err = await db.kv.delete('gone').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConclaveError);
      expect(err).toMatchObject({ code: 'not_found' });
      await expect(db.kv.list()).rejects.toMatchObject({ code: 'unsupported' });
    } finally {
      await db.close();
    }
    await expect(db.kv.get('a')).rejects.toMatchObject({ code: 'closed' });

    const again = await open(dir, { partitions: 4 });
    try {
      expect(await again.kv.get('a')).toMatchObject({ value: 2 });
      expect(await again.kv.get('b')).toMatchObject({ value: 'x' });
      expect(await again.kv.get('gone')).toBeNull();
    } finally {
      await again.close();
    }
    // Another shape (partition count) is another database: refused, nothing changed.
    await expect(open(dir, { partitions: 8 })).rejects.toThrow();
    const third = await open(dir, { partitions: 4 });
    expect(await third.kv.get('a')).toMatchObject({ value: 2 });
    await third.close();
  });
});
