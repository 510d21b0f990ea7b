// Free 127.0.0.1 ports: distinct within a call, really free, bad counts refused.
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts, isPortFree } from '../../jepsen/harness/ports.js';

describe('free ports', () => {
  it('hands out distinct ports that can be bound', async () => {
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    for (const p of ports) {
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(65536);
      expect(await isPortFree(p)).toBe(true);
    }
    expect(await freePorts(0)).toEqual([]);
  });

  it('sees a port in use', async () => {
    const server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, () => resolve()));
    try {
      expect(await isPortFree((server.address() as AddressInfo).port)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses bad counts and ports', async () => {
    await expect(freePorts(-1)).rejects.toThrow(/count/);
    await expect(freePorts(1.5)).rejects.toThrow(/count/);
    await expect(freePorts(100_000)).rejects.toThrow(/count/);
    await expect(isPortFree(0)).rejects.toThrow(/not a port/);
  });
});
