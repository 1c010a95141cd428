import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListeningLine } from './protocol';

/** A whole-number bench setting from the environment, within [min, max]; unset or empty: `fallback`. */
export function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * A baseline server as a child process of the bench: listens on a free loopback port, tells the
 * parent where (one JSON line on stdout), and stops on SIGTERM/SIGINT or when the parent goes.
 */
export async function serveAsChild(server: Server, onStop: () => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const line: ListeningLine = { port, url: `http://127.0.0.1:${port}` };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    onStop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (process.send !== undefined) {
    process.on('disconnect', () => process.exit(0));
    process.channel?.unref();
  }
}

/** Runs a child's main; a failure is one line on stderr and exit 1. */
export function runChild(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
