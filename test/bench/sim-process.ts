/**
 * The V4 simulator in a process of its own (its own event loop, as V4 would be), for `bench.ts`.
 *   env BENCH_SIM_TENANTS  JSON object, API key → users to seed at start-up
 * Prints one JSON line `{"port":…,"url":…}` on stdout once it listens, then answers the parent's
 * IPC commands (protocol.ts): user ids of a tenant, seed a tenant, request counts, reset counts.
 * Requests are counted with the `http.server.request.start` diagnostics channel, so the
 * simulator runs exactly as it always does (record: false: no request log grows meanwhile).
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { V4Simulator } from '../../src/v4-simulator';
import { isSimCommand, type ListeningLine, type SimCommand, type SimReply, type TenantSeeds } from './protocol';
import { exitAfterStopOnSignal } from '../../src/process-signals';

function parseSeeds(raw: string | undefined): TenantSeeds {
  const parsed: unknown = JSON.parse(raw ?? '{}');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('BENCH_SIM_TENANTS must be a JSON object');
  const seeds: TenantSeeds = {};
  for (const [key, count] of Object.entries(parsed)) {
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Error(`BENCH_SIM_TENANTS: ${key} needs a whole number of users`);
    seeds[key] = count;
  }
  return seeds;
}

let total = 0;
let byMethod: Record<string, number> = {};
diagnostics_channel.subscribe('http.server.request.start', (message) => {
  const method = (message as { request: IncomingMessage }).request.method ?? 'UNKNOWN';
  total += 1;
  byMethod[method] = (byMethod[method] ?? 0) + 1;
});

function answer(sim: V4Simulator, command: SimCommand): SimReply {
  switch (command.type) {
    case 'ids':
      return { id: command.id, type: 'ids', ids: sim.listUsers(command.key).slice(0, command.count).map((user) => user.id) };
    case 'seed': {
      const started = performance.now();
      sim.addTenant(command.key);
      sim.seedUsers(command.key, command.count);
      return { id: command.id, type: 'seeded', key: command.key, size: command.count, ms: Math.round(performance.now() - started) };
    }
    case 'counts':
      return { id: command.id, type: 'counts', counts: { total, byMethod: { ...byMethod } } };
    case 'reset':
      total = 0;
      byMethod = {};
      return { id: command.id, type: 'reset' };
  }
}

async function main(): Promise<void> {
  const seeds = parseSeeds(process.env.BENCH_SIM_TENANTS);
  const sim = new V4Simulator({ apiKeys: Object.keys(seeds), record: false });
  for (const [key, count] of Object.entries(seeds)) sim.seedUsers(key, count);
  const url = await sim.start(0, '127.0.0.1');
  const line: ListeningLine = { port: Number(new URL(url).port), url };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  process.on('message', (message: unknown) => {
    if (!isSimCommand(message)) return;
    let reply: SimReply;
    try {
      reply = answer(sim, message);
    } catch (err) {
      reply = { id: message.id, type: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    process.send?.(reply);
  });
  // The parent is gone (also when it was killed): never outlive it.
  process.on('disconnect', () => process.exit(0));
  exitAfterStopOnSignal(() => sim.stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-process: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
