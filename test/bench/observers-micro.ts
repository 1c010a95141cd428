/**
 * The per-call cost of the two observers every call ends with (issue 14): GatewayMetrics.observe
 * and logTranslation, in-process, in ns per call; and, for scale, what one scrape of the per-call
 * metrics costs. Single-threaded and short (a few seconds): it does not disturb a load test much,
 * but its own figures are only comparable on an idle machine.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/test/bench/observers-micro.js
 *
 * Each figure is the median of ROUNDS timed rounds of CALLS calls, after a warm-up round.
 */
import { GatewayMetrics } from '../../src/observability/metrics';
import { logTranslation, translationLog } from '../../src/observability/translation-log';
import type { RequestState } from '../../src/http/request-state';
import type { TranslationRecord } from '../../src/operations/translation-record';

const CALLS = 200_000;
const ROUNDS = 5;

function state(record: Partial<TranslationRecord> & { route: string }, i: number): RequestState {
  return {
    requestId: `0b9a3c1e-5d2f-4e6a-9c7b-00000000000${i}`,
    startedAt: performance.now() - 3.2 * (i + 1),
    clientAddress: '127.0.0.1',
    admitted: true,
    authorization: null,
    ownHeaders: [],
    credential: '3f9a1c0e7b2d4a65',
    record: { legacyMethod: 'GET', legacyPath: '/api/management/user/{email}', rules: [], v4Calls: 1, ...record },
  };
}

/** A mix of the calls a gateway sees: reads and writes, hits and misses, a rejection, an upstream failure, an abort. */
const CALLS_MIX: ReadonlyArray<{ state: RequestState; status: number; completed: boolean }> = [
  { state: state({ route: 'get-user', v4Method: 'GET', v4Path: '/api/user/management/v4/users/u-1', v4Status: 200, resolution: 'hit', lookupMs: 0.01, forwardMs: 2.41, email: 'e:9c1f0a2b' }, 0), status: 200, completed: true },
  { state: state({ route: 'get-user', v4Method: 'GET', v4Path: '/api/user/management/v4/users/u-2', v4Status: 200, resolution: 'miss', v4Calls: 2, lookupMs: 3.5, forwardMs: 2.2, email: 'e:77aa01cd' }, 1), status: 200, completed: true },
  { state: state({ route: 'update-user', legacyMethod: 'PUT', v4Method: 'PATCH', v4Path: '/api/user/management/v4/users/u-3', v4Status: 200, resolution: 'hit', lookupMs: 0.02, forwardMs: 4.8, rules: ['name-split'], email: 'e:0f0f0f0f' }, 2), status: 200, completed: true },
  { state: state({ route: 'list-users', legacyPath: '/api/management/user', v4Method: 'GET', v4Path: '/api/user/management/v4/users', v4Status: 200, forwardMs: 11.3 }, 3), status: 200, completed: true },
  { state: state({ route: 'create-user', legacyMethod: 'POST', legacyPath: '/api/management/user', errorCode: 'VALIDATION_ERROR', reason: 'email: not an email address', v4Calls: 0 }, 4), status: 400, completed: true },
  { state: state({ route: 'get-user', v4Method: 'GET', v4Path: '/api/user/management/v4/users/u-4', resolution: 'hit', lookupMs: 0.01, forwardMs: 5000, errorCode: 'UPSTREAM_TIMEOUT', upstreamFailure: 'timeout' }, 5), status: 504, completed: true },
  { state: state({ route: 'delete-user', legacyMethod: 'DELETE', v4Method: 'DELETE', v4Path: '/api/user/management/v4/users/u-5', resolution: 'hit', lookupMs: 0.01, forwardMs: 1.9, v4Status: 204 }, 6), status: 204, completed: false },
  { state: state({ route: 'get-user', v4Method: 'GET', v4Path: '/api/user/management/v4/users/u-6', v4Status: 404, resolution: 'healed', v4Calls: 3, lookupMs: 6.1, forwardMs: 2.0, email: 'e:12345678' }, 7), status: 404, completed: true },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** ns per call of `run(i)`, median of the rounds. */
function time(run: (i: number) => void): number {
  const rounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i += 1) run(i);
    const ns = Number(process.hrtime.bigint() - start) / CALLS;
    if (round > 0) rounds.push(ns); // round 0 warms up
  }
  return median(rounds);
}

async function main(): Promise<void> {
  const mix = CALLS_MIX.length;

  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const observeNs = time((i) => {
    const call = CALLS_MIX[i % mix]!;
    metrics.observe(call.state, call.status, call.completed);
  });

  // The sink does what bufferedStdout does with the lines of one turn of the event loop: joins
  // them into one chunk (so a line made of concatenated pieces pays for being flattened).
  let written = 0;
  let pending: string[] = [];
  const log = translationLog('info', (line) => {
    pending.push(line);
    if (pending.length === 64) {
      written += (pending.join('\n') + '\n').length;
      pending = [];
    }
  });
  const logNs = time((i) => {
    const call = CALLS_MIX[i % mix]!;
    logTranslation(log, call.state, call.status, call.completed);
  });

  const scrapes: number[] = [];
  for (let round = 0; round <= 100; round += 1) {
    const start = process.hrtime.bigint();
    await metrics.registry.metrics();
    if (round > 0) scrapes.push(Number(process.hrtime.bigint() - start) / 1000);
  }

  console.log(JSON.stringify({ observe_ns: round1(observeNs), log_translation_ns: round1(logNs), scrape_us: round1(median(scrapes)), characters_written: written }));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

void main();
