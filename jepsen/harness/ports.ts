// Free TCP ports on 127.0.0.1 for the real-process harness: node peer ports, HTTP ports and
// the fault proxy's listeners. The harness binds loopback only.
//
// A port is found by letting the kernel pick one (listen on port 0) and closing the socket
// again. Asking for all the ports a run needs in one call holds every listener open until
// all are picked, so one call never returns the same port twice. Between picking and the
// real bind another program could take a port; that window is short on a test machine, and
// a node or proxy that cannot bind fails loudly (EADDRINUSE) rather than silently sharing.

import { createServer, type AddressInfo, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** The most ports one call hands out (a 5-node run with a proxy per directed link needs 30). */
export const FREE_PORTS_MAX = 1024;

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    const onError = (err: Error): void => {
      server.removeListener('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // exclusive: never share the port with a cluster worker of this process.
    server.listen({ host: LOOPBACK, port, exclusive: true });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct free ports on 127.0.0.1, in the order the kernel gave them. */
export async function freePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0 || count > FREE_PORTS_MAX) {
    throw new RangeError(`freePorts: count must be an integer in 0..${FREE_PORTS_MAX}, got ${count}`);
  }
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOn(0));
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** One free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** True when nothing listens on 127.0.0.1:port right now (this process could bind it). */
export async function isPortFree(port: number): Promise<boolean> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`isPortFree: not a port: ${port}`);
  try {
    await close(await listenOn(port));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return false;
    throw err;
  }
}
