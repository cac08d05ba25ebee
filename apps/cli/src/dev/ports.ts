/** Loopback ports for the dev stack: bind, note the port, release. */
import { createServer } from 'node:net';

/** Binds 127.0.0.1:`port` (0: any free port), releases it, and resolves with the port; rejects if taken. */
export function probePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
