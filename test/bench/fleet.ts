/**
 * `npm run bench:fleet`: three gateway processes (as `npm start` runs them) behind one bulk job,
 * with and without a shared Redis, against the simulator in a process of its own.
 *   1. Upstream V4 calls per legacy call for 10,000 legacy PUTs over 2,000 users (5 passes,
 *      each call to the next replica in turn, 8 in flight), VERIFY_CACHED_WRITES on and off:
 *      the cold first pass and the warm passes after it, counted by the simulator.
 *   2. The added p50 of a cache hit served through Redis (a local miss that Redis answers) over
 *      one served from the local level, and the in-memory gateway's hit, at one connection.
 * Counts are the same on any machine; the times are this machine's. Nothing is asserted.
 */
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { killAll, SimProcess, startGateway, stopChild, type GatewayProcess } from './children';
import { haveRedisServer, RedisServer } from './redis-server';
import { call, runPool } from './serve';

const USERS = 2_000;
const PASSES = 5;
const CONCURRENCY = 8;
const REPLICAS = 3;
const KEY = 'fleet-bench-key-0001';
const LATENCY_SAMPLES = 1_000;

interface JobResult {
  redis: boolean;
  verify: boolean;
  failed: number;
  cold: { calls: number; upstream: number; gets: number; perCall: number };
  warm: { calls: number; upstream: number; gets: number; perCall: number };
}

async function startFleet(simUrl: string, verify: boolean, redis: RedisServer | null, prefix: string): Promise<GatewayProcess[]> {
  const env: Record<string, string> = redis === null ? {} : { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, V4_PROBE_INTERVAL_MS: '0' };
  if (redis === null) env.V4_PROBE_INTERVAL_MS = '0';
  const fleet = await Promise.all(Array.from({ length: REPLICAS }, () => startGateway({ v4BaseUrl: simUrl, apiKey: KEY, verifyCachedWrites: verify, logLevel: 'warn', env })));
  if (redis !== null) {
    // Serving starts before Redis answers; the bench waits until every replica uses it.
    const agent = new http.Agent({ keepAlive: false });
    for (const gateway of fleet) {
      const until = Date.now() + 15_000;
      while (!(await call(agent, gateway.adminUrl, 'GET', '/metrics')).body.includes('legacy_gateway_redis_up 1')) {
        if (Date.now() > until) throw new Error('a replica did not reach Redis within 15 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    agent.destroy();
  }
  return fleet;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

async function pass(fleet: readonly GatewayProcess[], agent: http.Agent, first: number, count: number): Promise<number> {
  let failed = 0;
  await runPool(count, CONCURRENCY, async (n) => {
    const i = first + n;
    // A stride co-prime with USERS visits every user once per pass, scattered; the replica turns with every call.
    const user = (i * 7919) % USERS;
    const replica = fleet[i % REPLICAS] as GatewayProcess;
    const res = await call(agent, replica.url, 'PUT', `/api/management/user/user${user}%40example.com`, JSON.stringify({ name: `User ${user} v${i}` }));
    if (res.status !== 200) failed += 1;
  });
  return failed;
}

async function bulkJob(sim: SimProcess, redis: RedisServer | null, verify: boolean, prefix: string): Promise<JobResult> {
  const fleet = await startFleet(sim.url, verify, redis, prefix);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await sim.reset();
    let failed = await pass(fleet, agent, 0, USERS);
    const cold = await sim.counts();
    await sim.reset();
    failed += await pass(fleet, agent, USERS, USERS * (PASSES - 1));
    const warm = await sim.counts();
    const coldCalls = USERS;
    const warmCalls = USERS * (PASSES - 1);
    return {
      redis: redis !== null,
      verify,
      failed,
      cold: { calls: coldCalls, upstream: cold.total, gets: cold.byMethod.GET ?? 0, perCall: round(cold.total / coldCalls) },
      warm: { calls: warmCalls, upstream: warm.total, gets: warm.byMethod.GET ?? 0, perCall: round(warm.total / warmCalls) },
    };
  } finally {
    agent.destroy();
    await Promise.all(fleet.map((gateway) => stopChild(gateway.child)));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** p50 in ms of one GET by email per user, one at a time, on `gateway`. */
async function p50Of(gateway: GatewayProcess, agent: http.Agent, firstUser: number): Promise<number> {
  const times: number[] = [];
  for (let n = 0; n < LATENCY_SAMPLES; n += 1) {
    const user = firstUser + n;
    const started = performance.now();
    const res = await call(agent, gateway.url, 'GET', `/api/management/user/user${user}%40example.com`);
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET user${user}: ${res.status}`);
  }
  return round(median(times));
}

interface LatencyResult {
  memoryHitP50: number;
  localHitP50: number;
  redisHitP50: number;
  addedByRedisP50: number;
}

/**
 * One connection, GETs by email (a GET by id reaches V4 either way). Users are filled by replica
 * 0 (lookups), then read on replica 1: the first read of each is a local miss that Redis
 * answers, the second a local hit. The in-memory gateway's hits are read the same way.
 */
async function hitLatency(sim: SimProcess, redis: RedisServer): Promise<LatencyResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const [filler, reader] = await startFleet(sim.url, true, redis, 'latency');
  const memory = (await startFleet(sim.url, true, null, ''))[0] as GatewayProcess;
  try {
    const users = { first: 0 };
    // Warm the JIT and the sockets on users outside the measured range.
    for (const gateway of [filler, reader, memory] as GatewayProcess[]) await p50Of(gateway, agent, USERS - LATENCY_SAMPLES);
    for (let n = 0; n < LATENCY_SAMPLES; n += 1) await call(agent, (filler as GatewayProcess).url, 'GET', `/api/management/user/user${users.first + n}%40example.com`);
    const redisHitP50 = await p50Of(reader as GatewayProcess, agent, users.first);
    const localHitP50 = await p50Of(reader as GatewayProcess, agent, users.first);
    await p50Of(memory, agent, users.first);
    const memoryHitP50 = await p50Of(memory, agent, users.first);
    return { memoryHitP50, localHitP50, redisHitP50, addedByRedisP50: round(redisHitP50 - localHitP50) };
  } finally {
    agent.destroy();
    await Promise.all([filler, reader, memory].map((gateway) => (gateway === undefined ? undefined : stopChild(gateway.child))));
  }
}

async function main(): Promise<void> {
  if (!haveRedisServer()) throw new Error('bench:fleet needs redis-server on PATH (apt-get install redis-server)');
  const sim = await SimProcess.start({ [KEY]: USERS });
  const redis = await RedisServer.start();
  try {
    const jobs: JobResult[] = [];
    for (const verify of [true, false]) {
      for (const withRedis of [false, true]) {
        jobs.push(await bulkJob(sim, withRedis ? redis : null, verify, `bulk-${String(verify)}`));
        process.stdout.write('.');
      }
    }
    const latency = await hitLatency(sim, redis);
    process.stdout.write('\n');
    console.log(`Bulk job: ${USERS * PASSES} legacy PUTs over ${USERS} users (${PASSES} passes), ${REPLICAS} replicas in turn, ${CONCURRENCY} in flight`);
    console.table(
      jobs.map((j) => ({
        Redis: j.redis,
        VERIFY_CACHED_WRITES: j.verify,
        failed: j.failed,
        'cold pass: V4 calls / legacy call': j.cold.perCall,
        'cold: GETs (lookups + checks)': j.cold.gets,
        'warm passes: V4 calls / legacy call': j.warm.perCall,
        'warm: GETs (lookups + checks)': j.warm.gets,
      })),
    );
    console.log(`Cache hit at 1 connection, GET by email (p50 of ${LATENCY_SAMPLES}): in memory ${latency.memoryHitP50} ms; Redis-backed replica, local hit ${latency.localHitP50} ms, Redis hit ${latency.redisHitP50} ms: Redis adds ${latency.addedByRedisP50} ms`);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/fleet.json', JSON.stringify({ date: new Date().toISOString(), node: process.version, jobs, latency }, null, 2));
    console.log('Written to bench-results/fleet.json');
  } finally {
    await redis.stop();
    killAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  killAll();
  process.exit(1);
});
