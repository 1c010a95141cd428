/**
 * The V4 simulator in a process of its own (its own event loop, as V4 would be), for the benches;
 * with BENCH_LEGACY_TENANT (`npm run bench:shadow`) also a legacy simulator sharing that tenant's
 * live store (LegacySimulator.sharing: both APIs show the same users, so a shadow comparison
 * finds them equal; sharing needs one process, the store is an object, not a database).
 *   env BENCH_SIM_TENANTS   JSON object, API key → users to seed at start-up
 *   env BENCH_LEGACY_TENANT the API key whose users the legacy simulator serves (none: no legacy simulator)
 * Prints one JSON line `{"port":…,"url":…[,"legacyUrl":…]}` once it listens, then answers the
 * parent's IPC commands (protocol.ts): user ids of a tenant, seed a tenant, request counts, reset
 * counts. Requests are counted per server from the `http.server.request.start` diagnostics
 * channel, so the simulators run exactly as they always do (record: false): `total` and
 * `byMethod` are the V4 simulator's, `legacy` the legacy simulator's.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { LegacySimulator } from '../../src/legacy-simulator';
import { exitAfterStopOnSignal } from '../../src/process-signals';
import { V4Simulator } from '../../src/v4-simulator';
import { isSimCommand, type ListeningLine, type SimCommand, type SimReply, type TenantSeeds } from './protocol';

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

/** Set once the legacy simulator listens: requests arriving on this local port are its. */
let legacyPort = -1;
let total = 0;
let legacy = 0;
let byMethod: Record<string, number> = {};
diagnostics_channel.subscribe('http.server.request.start', (message) => {
  const request = (message as { request: IncomingMessage }).request;
  if (request.socket.localPort === legacyPort) {
    legacy += 1;
    return;
  }
  const method = request.method ?? 'UNKNOWN';
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
      return { id: command.id, type: 'counts', counts: { total, byMethod: { ...byMethod }, legacy } };
    case 'reset':
      total = 0;
      legacy = 0;
      byMethod = {};
      return { id: command.id, type: 'reset' };
  }
}

async function main(): Promise<void> {
  const seeds = parseSeeds(process.env.BENCH_SIM_TENANTS);
  const tenant = process.env.BENCH_LEGACY_TENANT ?? '';
  if (tenant !== '' && !(tenant in seeds)) throw new Error('BENCH_LEGACY_TENANT must name one of the tenants of BENCH_SIM_TENANTS');
  const sim = new V4Simulator({ apiKeys: Object.keys(seeds), record: false });
  for (const [key, count] of Object.entries(seeds)) sim.seedUsers(key, count);
  const legacySim = tenant === '' ? null : LegacySimulator.sharing(sim, tenant, { record: false });
  const url = await sim.start(0, '127.0.0.1');
  const legacyUrl = legacySim === null ? undefined : await legacySim.start(0, '127.0.0.1');
  if (legacyUrl !== undefined) legacyPort = Number(new URL(legacyUrl).port);
  const line: ListeningLine = { port: Number(new URL(url).port), url, ...(legacyUrl === undefined ? {} : { legacyUrl }) };
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
  exitAfterStopOnSignal(() => Promise.all([sim.stop(), legacySim?.stop()]).then(() => undefined));
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-process: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
