/**
 * `npm run bench:resolution`: what resolution costs V4 for a scripted bulk legacy job, and what
 * the cache costs in memory. Counts, not times: the figures are the same on any machine.
 *   - 10,000 legacy PUTs over 2,000 users (each updated 5 times, interleaved), 8 in flight;
 *   - with and without VERIFY_CACHED_WRITES, with and without a warm-up pass first;
 *   - upstream calls per legacy call (as the simulator recorded them), lookups per distinct email;
 *   - heap bytes per cached entry at 100,000 and at 1,000,000 entries (run with --expose-gc).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { createMemoryLogger } from '../integration/memory-logger';
import { credentialFingerprint } from '../../src/resolution/credential-fingerprint';
import { Resolver } from '../../src/resolution/resolver';
import { V4Simulator } from '../../src/v4-simulator';
import { call, listenLocal, runPool } from './serve';


const USERS = 2_000;
const UPDATES = 10_000;
const CONCURRENCY = 8;
const KEY = 'bench-key-000001';

interface JobResult {
  verify: boolean;
  warmUp: boolean;
  legacyCalls: number;
  failed: number;
  warmUpPages: number;
  lookups: number;
  verifications: number;
  patches: number;
  upstreamPerLegacyCall: number;
  upstreamPerLegacyCallInclWarmUp: number;
  lookupsPerDistinctEmail: number;
}

async function bulkJob(verify: boolean, warmUp: boolean): Promise<JobResult> {
  const sim = new V4Simulator({ apiKeys: [KEY] });
  const simUrl = await sim.start(0);
  sim.seedUsers(KEY, USERS);
  const config = loadConfig({ env: {}, overrides: { v4BaseUrl: simUrl, v4ApiKey: KEY, verifyCachedWrites: verify, logLevel: 'warn' } });
  const gateway = createApp(config, { logger: createMemoryLogger('warn').logger });
  const server = await listenLocal(gateway.listener);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    if (warmUp) await gateway.warmUp();
    const warmUpPages = sim.requests.length;
    sim.clearRequests();
    let failed = 0;
    await runPool(UPDATES, CONCURRENCY, async (i) => {
      // A stride co-prime with USERS visits every user once per 2,000 calls, in a scattered order.
      const user = (i * 7919) % USERS;
      const res = await call(agent, server.url, 'PUT', `/api/management/user/user${user}%40example.com`, JSON.stringify({ name: `User ${user} v${i}`, cid: `CUST-${user}` }));
      if (res.status !== 200) failed += 1;
    });
    const requests = sim.requests;
    const lookups = requests.filter((r) => r.method === 'GET' && r.url.includes('?email=')).length;
    const verifications = requests.filter((r) => r.method === 'GET' && !r.url.includes('?')).length;
    const patches = requests.filter((r) => r.method === 'PATCH').length;
    return {
      verify,
      warmUp,
      legacyCalls: UPDATES,
      failed,
      warmUpPages,
      lookups,
      verifications,
      patches,
      upstreamPerLegacyCall: round(requests.length / UPDATES),
      upstreamPerLegacyCallInclWarmUp: round((requests.length + warmUpPages) / UPDATES),
      lookupsPerDistinctEmail: round(lookups / USERS),
    };
  } finally {
    agent.destroy();
    await server.close();
    gateway.close();
    await sim.stop();
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with node --expose-gc');
  collect();
  collect();
}

/**
 * Heap bytes per entry of the resolver's cache at `entries` entries of the real shape: the email
 * and id strings are made inside the measured loop, as requests would bring them, so the figure
 * is everything an entry keeps alive (key, value and the cache's own bookkeeping).
 */
function heapPerEntry(entries: number): { entries: number; bytesPerEntry: number } {
  const resolver = new Resolver(async () => null, { max: entries, ttlMs: 300_000 });
  const credential = credentialFingerprint(`Apikey ${KEY}`);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < entries; i += 1) {
    // Strings as the gateway holds them: parsed out of a V4 answer (flat copies, as JSON.parse makes).
    const user = JSON.parse(JSON.stringify({ id: randomUUID(), contact_details: { email: `Firstname.Lastname${i}@example.com` } })) as { id: string; contact_details: { email: string } };
    resolver.remember(credential, user.contact_details.email.toLowerCase(), user.id);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (resolver.size !== entries) throw new Error('cache did not hold every entry');
  return { entries, bytesPerEntry: Math.round((after - before) / entries) };
}

async function main(): Promise<void> {
  const jobs: JobResult[] = [];
  for (const verify of [true, false]) {
    for (const warmUp of [false, true]) {
      const result = await bulkJob(verify, warmUp);
      jobs.push(result);
      process.stdout.write(`.`);
    }
  }
  process.stdout.write('\n');
  const memory = heapPerEntry(100_000);
  const memoryAtMillion = heapPerEntry(1_000_000);
  console.log(`Bulk job: ${UPDATES} legacy PUTs over ${USERS} users, ${CONCURRENCY} in flight`);
  console.table(
    jobs.map((j) => ({
      VERIFY_CACHED_WRITES: j.verify,
      'warm-up': j.warmUp,
      'failed calls': j.failed,
      'warm-up pages': j.warmUpPages,
      lookups: j.lookups,
      'verify reads': j.verifications,
      PATCHes: j.patches,
      'upstream / legacy call': j.upstreamPerLegacyCall,
      'incl. warm-up': j.upstreamPerLegacyCallInclWarmUp,
      'lookups / distinct email': j.lookupsPerDistinctEmail,
    })),
  );
  console.log(`Cache memory: ${memory.bytesPerEntry} bytes of heap per entry at ${memory.entries.toLocaleString('en')} entries`);
  console.log(`Cache memory: ${memoryAtMillion.bytesPerEntry} bytes of heap per entry at ${memoryAtMillion.entries.toLocaleString('en')} entries (target ≤ 150, issue 14: ${memoryAtMillion.bytesPerEntry <= 150 ? 'PASS' : 'MISS'})`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/resolution.json', JSON.stringify({ date: new Date().toISOString(), node: process.version, jobs, memory, memoryAtMillion }, null, 2));
  console.log('Written to bench-results/resolution.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
