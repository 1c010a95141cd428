// `npm run legacy-simulator`: a standalone legacy backend for manual tries and the demo.
//   LEGACY_SIM_PORT (4100), LEGACY_SIM_HOST (127.0.0.1), LEGACY_SIM_SEED_USERS (none by default).
// Standalone it holds its own users; sharing data with a V4 simulator needs both in one process
// (LegacySimulator.sharing), as the tests and the demo do.
import { exitAfterStopOnSignal } from '../process-signals';
import { LegacySimulator } from './simulator';

function fail(message: string): never {
  process.stderr.write(`legacy-simulator: ${message}\n`);
  process.exit(2);
}

function integerEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${name} must be an integer between ${min} and ${max}; got ${JSON.stringify(raw)}.`);
  return n;
}

async function main(): Promise<void> {
  const port = integerEnv('LEGACY_SIM_PORT', 4100, 0, 65535);
  const host = process.env.LEGACY_SIM_HOST || '127.0.0.1';
  const seed = integerEnv('LEGACY_SIM_SEED_USERS', 0, 0, 10_000_000);
  // No recording: nobody can read it from another process, and it would grow without bound.
  const sim = new LegacySimulator({ record: false });
  for (let i = 0; i < seed; i++) sim.store.create({ name: `User ${i}`, contact_details: { email: `user${i}@example.com` }, external_id: `CUST-${i}` });
  const url = await sim.start(port, host);
  process.stdout.write(`legacy simulator listening on ${url} (${seed} users; legacy API under /api/management/user)\n`);
  exitAfterStopOnSignal(() => sim.stop(), (error) => process.stderr.write(`stop failed: ${String(error)}\n`));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
