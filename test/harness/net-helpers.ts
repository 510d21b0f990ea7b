// Real sockets on 127.0.0.1 for the proxy tests: small servers that record what they hear,
// clients that record what comes back, and bounded waits (no test loop runs unbounded).
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Poll `cond` every stepMs until it holds or timeoutMs passes; bounded in count and time. */
export async function waitFor(cond: () => boolean, timeoutMs = 5_000, stepMs = 10): Promise<boolean> {
  const steps = Math.ceil(timeoutMs / stepMs);
  for (let i = 0; i <= steps; i++) {
    if (cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A server that keeps every accepted socket and everything each one sent. */
export interface Sink {
  readonly server: Server;
  readonly port: number;
  readonly sockets: Socket[];
  /** All bytes received, over all connections, as text. */
  received(): string;
  close(): Promise<void>;
}

export async function startSink(options: { echo?: boolean } = {}): Promise<Sink> {
  const sockets: Socket[] = [];
  let text = '';
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      if (options.echo === true && !s.destroyed) s.write(b);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    sockets,
    received: () => text,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A client socket and what it has received, and whether it was closed or got an error. */
export interface Client {
  readonly socket: Socket;
  received(): string;
  readonly closed: () => boolean;
  readonly error: () => NodeJS.ErrnoException | undefined;
}

/** Connect to 127.0.0.1:port; resolves once connected, or once the attempt failed (see error()). */
export function dial(port: number): Promise<Client> {
  return new Promise((resolve) => {
    let text = '';
    let closed = false;
    let error: NodeJS.ErrnoException | undefined;
    const socket = connect({ host: '127.0.0.1', port });
    const client: Client = { socket, received: () => text, closed: () => closed, error: () => error };
    socket.on('data', (b: Buffer) => {
      text += b.toString('utf8');
    });
    socket.on('error', (e) => {
      error = e;
      resolve(client);
    });
    socket.on('close', () => {
      closed = true;
      resolve(client);
    });
    socket.on('connect', () => resolve(client));
  });
}
