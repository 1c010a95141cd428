// `npm run legacy-simulator`: a standalone legacy backend for manual tries and the demo.
//   LEGACY_SIM_PORT (4100), LEGACY_SIM_HOST (127.0.0.1), LEGACY_SIM_SEED_USERS (none by default).
// Standalone it holds its own users; sharing data with a V4 simulator needs both in one process
// (LegacySimulator.sharing), as the tests and the demo do.
import { exitAfterStopOnSignal } from '../process-signals';
import { cliFailure, integerEnv } from '../v4-simulator/cli-env';
import { LegacySimulator } from './simulator';

const fail = cliFailure('legacy-simulator');

async function main(): Promise<void> {
  const port = integerEnv('LEGACY_SIM_PORT', 4100, 0, 65535, fail);
  const host = process.env.LEGACY_SIM_HOST || '127.0.0.1';
  const seed = integerEnv('LEGACY_SIM_SEED_USERS', 0, 0, 10_000_000, fail);
  // No recording: nobody can read it from another process, and it would grow without bound.
  const sim = new LegacySimulator({ record: false });
  for (let i = 0; i < seed; i++) sim.store.create({ name: `User ${i}`, contact_details: { email: `user${i}@example.com` }, external_id: `CUST-${i}` });
  const url = await sim.start(port, host);
  process.stdout.write(`legacy simulator listening on ${url} (${seed} users; legacy API under /api/management/user)\n`);
  exitAfterStopOnSignal(() => sim.stop(), (error) => process.stderr.write(`stop failed: ${String(error)}\n`));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
