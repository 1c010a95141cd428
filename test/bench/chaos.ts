/**
 * `npm run chaos`: a bounded run of mixed legacy traffic from several tenants while V4 misbehaves
 * at random, then a ledger check of what clients were told against what V4 actually applied
 * (the simulator's write journal, keyed by X-Request-Id):
 *   lost        a write the client was told succeeded that V4 never applied
 *   duplicated  a legacy write V4 applied more than once
 *   misdirected a write V4 applied to a user that did not hold the email in the legacy path
 *   phantom     a write the client was told definitively failed (4xx) that V4 applied anyway
 * All four must be 0. CHAOS_SECONDS (default 90) bounds each phase; CHAOS_SEED makes it repeatable.
 * Phase 1: one gateway in memory. Phase 2 (CHAOS_FLEET=0 skips it; needs redis-server): two
 * replicas on one real Redis, traffic spread over both, Redis killed and restarted or paused at
 * random as well.
 */
import http from 'node:http';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { createMemoryLogger } from '../integration/memory-logger';
import type { RedisLink } from '../../src/redis/redis-link';
import { redisLinkFor, sharedResolverFactory } from '../../src/resolution/shared-setup';
import { V4Simulator, type FaultRule } from '../../src/v4-simulator';
import { haveRedisServer, RedisServer } from './redis-server';
import { call, listenLocal } from './serve';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 90);
const WORKERS = 12;
const TENANTS = ['chaos-tenant-a-key', 'chaos-tenant-b-key', 'chaos-tenant-c-key'];
const USERS_PER_TENANT = 60;

/** A small deterministic PRNG (mulberry32), so a run can be repeated with CHAOS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const random = prng(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

type Outcome = 'acked' | 'rejected' | 'unknown';
interface LegacyWrite {
  requestId: string;
  method: 'POST' | 'PUT' | 'DELETE';
  email: string;
  outcome: Outcome;
  status: number;
}

function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return 'acked';
  // 4xx is a definite refusal; 5xx, 502/504 and cut connections may or may not have been applied.
  if (status >= 400 && status < 500) return 'rejected';
  return 'unknown';
}

/** Longer than the longest delay fault: a write held by one has been applied or dropped by then. */
const SETTLE_MS = 1_000;

function randomFault(): FaultRule {
  const method = pick(['GET', 'GET', 'PATCH', 'POST', 'DELETE', undefined]);
  const base = { method, times: 1 };
  switch (pick(['delay', 'delay', 'status', 'status', 'garbage', 'reset', 'reset-applied', 'status-applied', 'hang'] as const)) {
    case 'delay':
      return { ...base, kind: 'delay', delayMs: Math.floor(random() * 900) };
    case 'status':
      return { ...base, kind: 'status', status: pick([500, 502, 503, 429]), headers: { 'retry-after': '1' } };
    case 'garbage':
      return { ...base, kind: 'garbage' };
    case 'reset':
      return { ...base, kind: 'reset' };
    case 'reset-applied':
      return { ...base, kind: 'reset', afterApply: true };
    case 'status-applied':
      return { ...base, kind: 'status', status: 500, afterApply: true };
    case 'hang':
      return { ...base, kind: 'hang' };
  }
}

interface Slot {
  tenant: number;
  email: string;
  busy: boolean;
  retired: boolean;
}

function seedTenants(sim: V4Simulator): Slot[] {
  const emails: Slot[] = [];
  TENANTS.forEach((key, tenant) => {
    for (let i = 0; i < USERS_PER_TENANT; i += 1) {
      const email = `t${tenant}-user${i}@example.com`;
      sim.createUser(key, { name: `T${tenant} U${i}`, contact_details: { email } });
      emails.push({ tenant, email, busy: false, retired: false });
    }
  });
  return emails;
}

interface Traffic {
  requests: number;
  behindTheBack: number;
  faultsAdded: number;
  writes: LegacyWrite[];
  statuses: Map<number, number>;
}

/** Mixed legacy traffic from WORKERS workers for SECONDS, each call to one of `urls` at random, while V4 faults are armed. */
async function runTraffic(sim: V4Simulator, urls: readonly string[], emails: Slot[], phase: string): Promise<Traffic> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS * urls.length });
  const traffic: Traffic = { requests: 0, behindTheBack: 0, faultsAdded: 0, writes: [], statuses: new Map() };
  const { writes, statuses } = traffic;
  let nextId = 0;
  const endAt = Date.now() + SECONDS * 1000;

  const faultTimer = setInterval(() => {
    sim.addFault(randomFault());
    traffic.faultsAdded += 1;
  }, 40);

  const worker = async (w: number): Promise<void> => {
    while (Date.now() < endAt) {
      const free = emails.filter((e) => !e.busy && !e.retired);
      const slot = pick(free);
      if (slot === undefined) break;
      slot.busy = true;
      const url = pick(urls);
      const key = TENANTS[slot.tenant] as string;
      const headers: http.OutgoingHttpHeaders = slot.tenant === 0 ? {} : { authorization: `Apikey ${key}` };
      const requestId = `chaos-${phase}-${w}-${(nextId += 1)}`;
      headers['x-request-id'] = requestId;
      const path = `/api/management/user/${encodeURIComponent(slot.email)}`;
      const roll = random();
      let settleLater = false;
      try {
        let method: LegacyWrite['method'] | 'GET';
        let status: number;
        if (roll < 0.05) {
          // Behind the gateway's back: the user moves to another email and a new user takes this one.
          traffic.behindTheBack += 1;
          const holder = sim.listUsers(key).find((u) => u.contact_details.email === slot.email);
          if (holder !== undefined) {
            const moved = `moved-${nextId}-${slot.email}`;
            sim.updateUser(key, holder.id, { contact_details: { email: moved } });
            emails.push({ tenant: slot.tenant, email: moved, busy: false, retired: false });
            sim.createUser(key, { name: 'newcomer', contact_details: { email: slot.email } });
          }
          continue;
        } else if (roll < 0.65) {
          method = 'PUT';
          status = (await call(agent, url, 'PUT', path, JSON.stringify({ name: `n-${requestId}`, cid: requestId }), headers)).status;
        } else if (roll < 0.8) {
          method = 'GET';
          status = (await call(agent, url, 'GET', path, undefined, headers)).status;
        } else if (roll < 0.93) {
          method = 'POST';
          const email = `new-${requestId}@example.com`;
          status = (await call(agent, url, 'POST', '/api/management/user', JSON.stringify({ email, name: 'created' }), headers)).status;
          emails.push({ tenant: slot.tenant, email, busy: false, retired: false });
          writes.push({ requestId, method, email, outcome: outcomeOf(status), status });
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          traffic.requests += 1;
          continue;
        } else {
          method = 'DELETE';
          status = (await call(agent, url, 'DELETE', path, undefined, headers)).status;
          slot.retired = true;
        }
        traffic.requests += 1;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (method !== 'GET') writes.push({ requestId, method, email: slot.email, outcome: outcomeOf(status), status });
        if (method !== 'GET' && outcomeOf(status) === 'unknown') settleLater = true;
      } catch {
        traffic.requests += 1;
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
        settleLater = true;
      } finally {
        // A write whose outcome is unknown may still be applied by V4 after its answer (a delay
        // fault holds it up to 900 ms, past the gateway's 600 ms deadline). Nothing touches the
        // email until then: a change behind the back in between would make V4's late, rightly
        // targeted write look misdirected (the journal reads the email when V4 applies it).
        if (settleLater) setTimeout(() => (slot.busy = false), SETTLE_MS);
        else slot.busy = false;
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  clearInterval(faultTimer);
  sim.clearFaults();
  // Let writes delayed by faults land before reading the journal.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  agent.destroy();
  return traffic;
}

/** What clients were told against the simulator's journal of applied writes: the four figures that must be 0. */
function ledger(sim: V4Simulator, writes: readonly LegacyWrite[]): { lost: number; duplicated: number; misdirected: number; phantom: number } {
  const applied = new Map<string, typeof sim.journal[number][]>();
  for (const entry of sim.journal) {
    if (entry.requestId === undefined) continue;
    const list = applied.get(entry.requestId) ?? [];
    list.push(entry);
    applied.set(entry.requestId, list);
  }
  let lost = 0;
  let duplicated = 0;
  let misdirected = 0;
  let phantom = 0;
  for (const write of writes) {
    const entries = applied.get(write.requestId) ?? [];
    if (write.outcome === 'acked' && entries.length === 0) {
      lost += 1;
      if (process.env.CHAOS_DEBUG) console.log('lost', write);
    }
    if (entries.length > 1) duplicated += 1;
    if (write.outcome === 'rejected' && entries.length > 0) phantom += 1;
    if (write.method !== 'POST') {
      for (const entry of entries) {
        if (entry.emailBefore?.toLowerCase() === write.email.toLowerCase()) continue;
        misdirected += 1;
        if (process.env.CHAOS_DEBUG) console.log('misdirected', { write, applied: entry });
      }
    }
  }
  return { lost, duplicated, misdirected, phantom };
}

/** Prints one phase; true when its ledger is clean. */
function printPhase(title: string, sim: V4Simulator, traffic: Traffic, extra: string[]): boolean {
  const { lost, duplicated, misdirected, phantom } = ledger(sim, traffic.writes);
  const faults = sim.faultsApplied();
  const faultTotal = Object.values(faults).reduce((a, b) => a + b, 0);
  const writes = traffic.writes;
  const acked = writes.filter((w) => w.outcome === 'acked').length;
  const unknown = writes.filter((w) => w.outcome === 'unknown').length;
  console.log(title);
  console.log(`  legacy requests      ${traffic.requests} (${writes.length} writes: ${acked} acknowledged, ${writes.length - acked - unknown} refused, ${unknown} outcome unknown)`);
  console.log(`  changes behind the gateway's back  ${traffic.behindTheBack}`);
  console.log(`  V4 faults injected   ${faultTotal} of ${traffic.faultsAdded} armed: ${JSON.stringify(faults)}`);
  for (const line of extra) console.log(`  ${line}`);
  console.log(`  statuses             ${JSON.stringify(Object.fromEntries([...traffic.statuses].sort((a, b) => a[0] - b[0])))}`);
  console.log(`  writes lost          ${lost}`);
  console.log(`  writes duplicated    ${duplicated}`);
  console.log(`  writes misdirected   ${misdirected}`);
  console.log(`  phantom writes       ${phantom}`);
  const ok = lost === 0 && duplicated === 0 && misdirected === 0 && phantom === 0;
  console.log(ok ? 'LEDGER OK' : 'LEDGER MISMATCH');
  return ok;
}

/** Phase 1: one gateway, in memory (the sidecar). */
async function singleGateway(): Promise<boolean> {
  const sim = new V4Simulator({ apiKeys: TENANTS });
  const simUrl = await sim.start(0);
  const emails = seedTenants(sim);
  // Tenant 0's client sends no key (the gateway's own key is used); the others send their own.
  const config = loadConfig({ env: {}, overrides: { v4BaseUrl: simUrl, v4ApiKey: TENANTS[0] as string, upstreamTimeoutMs: 600, logLevel: 'warn' } });
  const gateway = createApp(config, { logger: createMemoryLogger('warn').logger });
  const server = await listenLocal(gateway.listener);
  const traffic = await runTraffic(sim, [server.url], emails, 'single');
  await server.close();
  gateway.close();
  const ok = printPhase(`Chaos run: ${SECONDS} s, seed ${seed}, ${TENANTS.length} tenants, ${WORKERS} workers, one gateway in memory`, sim, traffic, []);
  await sim.stop();
  return ok;
}

/**
 * Phase 2: two replicas on one real redis-server (shared cache, pub/sub invalidation), traffic
 * spread over both, while Redis itself is killed and restarted (empty) or paused (SIGSTOP) at
 * random, on top of the V4 faults.
 */
async function fleetOnRedis(): Promise<boolean> {
  const redis = await RedisServer.start();
  const sim = new V4Simulator({ apiKeys: TENANTS });
  const simUrl = await sim.start(0);
  const emails = seedTenants(sim);
  const config = loadConfig({
    env: {},
    overrides: { v4BaseUrl: simUrl, v4ApiKey: TENANTS[0] as string, upstreamTimeoutMs: 600, logLevel: 'warn', redisUrl: redis.url, redisTimeoutMs: 100, redisHealthIntervalMs: 200 },
  });
  const replicas = await Promise.all(
    [0, 1].map(async () => {
      const { logger, lines } = createMemoryLogger('warn');
      const link = redisLinkFor(config, logger) as RedisLink;
      const shared = sharedResolverFactory(config, link, logger);
      const gateway = createApp(config, { logger, createResolver: shared.factory });
      link.start();
      const server = await listenLocal(gateway.listener);
      return { link, gateway, server, lines, resolver: shared.made() };
    }),
  );
  const redisEvents = { restarts: 0, pauses: 0 };
  let stopped = false;
  // Every 1.5-4.5 s: a restart (killed, started empty on the same port), a 0.3-1.5 s pause, or nothing.
  const redisChaos = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 1500 + random() * 3000));
      if (stopped) break;
      const roll = random();
      if (roll < 0.4) {
        redisEvents.restarts += 1;
        await redis.restart();
      } else if (roll < 0.8) {
        redisEvents.pauses += 1;
        redis.pause();
        await new Promise((resolve) => setTimeout(resolve, 300 + random() * 1200));
        redis.resume();
      }
    }
  })();
  const traffic = await runTraffic(sim, replicas.map((r) => r.server.url), emails, 'fleet');
  stopped = true;
  await redisChaos;
  const extra = [
    `Redis restarts       ${redisEvents.restarts}, pauses ${redisEvents.pauses}`,
    ...replicas.map((r, i) => {
      const s = r.resolver?.stats;
      const l = r.link.stats;
      return `replica ${i}: Redis down ${l.enteredDown}× / up ${l.enteredUp}×, shared hits ${s?.sharedHits ?? 0}, lock waits ${s?.lockWaits ?? 0} (served ${s?.lockWaitsServed ?? 0}), invalidations sent ${s?.invalidationsSent ?? 0} / received ${s?.invalidationsReceived ?? 0}, fallbacks ${s?.sharedFallbacks ?? 0}`;
    }),
  ];
  for (const r of replicas) {
    await r.server.close();
    r.gateway.close();
    await r.link.close();
  }
  const ok = printPhase(`Chaos run, fleet: ${SECONDS} s, seed ${seed}, 2 replicas on one Redis, ${TENANTS.length} tenants, ${WORKERS} workers`, sim, traffic, extra);
  await sim.stop();
  await redis.stop();
  return ok;
}

async function main(): Promise<void> {
  let ok = await singleGateway();
  if (process.env.CHAOS_FLEET === '0') {
    console.log('fleet phase skipped (CHAOS_FLEET=0)');
  } else if (!haveRedisServer()) {
    console.log('fleet phase skipped: no redis-server on PATH (apt-get install redis-server)');
  } else {
    ok = (await fleetOnRedis()) && ok;
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
