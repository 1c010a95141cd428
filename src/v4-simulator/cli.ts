// `npm run simulator`: a standalone V4 simulator for the demo and manual tries.
//   SIM_PORT (4000), SIM_HOST (127.0.0.1), SIM_API_KEYS (comma list, "demo-key"),
//   SIM_SEED_USERS (users seeded per tenant, none by default).
import { V4Simulator } from './simulator';
import { exitAfterStopOnSignal } from '../process-signals';
import { cliFailure, integerEnv } from './cli-env';

const fail = cliFailure('v4-simulator');

async function main(): Promise<void> {
  const port = integerEnv('SIM_PORT', 4000, 0, 65535, fail);
  const host = process.env.SIM_HOST || '127.0.0.1';
  const keys = (process.env.SIM_API_KEYS ?? 'demo-key')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (keys.length === 0) fail('SIM_API_KEYS names no key.');
  const seed = integerEnv('SIM_SEED_USERS', 0, 0, 10_000_000, fail);

  // No recording: nobody can read it from another process, and it would grow without bound.
  const sim = new V4Simulator({ apiKeys: keys, record: false });
  for (const key of keys) sim.seedUsers(key, seed);
  const url = await sim.start(port, host);
  process.stdout.write(`V4 simulator listening on ${url} (API keys: ${keys.join(', ')}; ${seed} users each)\n`);

  exitAfterStopOnSignal(() => sim.stop(), (error) => process.stderr.write(`stop failed: ${String(error)}\n`));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
