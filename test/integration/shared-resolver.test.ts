// The shared resolver against a real redis-server (two resolvers = two replicas, each with its own
// RedisLink), with a lookup function the test controls, so that the order of a lookup and an
// invalidation can be set exactly: generations, invalidation, the cold-lookup lock, fallback.
import { createMemoryLogger } from './memory-logger';
import { RedisLink } from '../../src/redis/redis-link';
import { entryKey } from '../../src/resolution/shared-entries';
import { SharedResolver } from '../../src/resolution/shared-resolver';
import { haveRedisServer, RedisServer } from '../bench/redis-server';
import { ControlledLookup, lookupScope as scope, until } from './controlled-lookup';

const describeWithRedis = haveRedisServer() || process.env.CI === 'true' ? describe : describe.skip;

const CREDENTIAL = 'tenantfingerprnt';
const EMAIL = 'jane@example.com';

describeWithRedis('SharedResolver on a real Redis', () => {
  let redis: RedisServer;
  const links: RedisLink[] = [];
  const { logger, lines } = createMemoryLogger('info');

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(links.map((link) => link.close()));
    await redis.stop();
  });

  let prefix = 0;
  /** Two replicas on one fleet prefix (a fresh prefix per test: no state shared between tests). */
  async function fleet(lookups: ControlledLookup[]): Promise<SharedResolver[]> {
    prefix += 1;
    const keyPrefix = `t${prefix}`;
    const resolvers = lookups.map((lookup) => {
      const link = new RedisLink({ url: redis.url, timeoutMs: 200, healthIntervalMs: 50, channel: `${keyPrefix}:inv`, logger });
      links.push(link);
      link.start();
      return { link, resolver: new SharedResolver(lookup.fn, { max: 100, ttlMs: 60_000, link, keyPrefix, lockMs: 2_000, lookupWindowMs: 10_000, logger }) };
    });
    await until('both links up', () => resolvers.every(({ link }) => link.state === 'up'));
    return resolvers.map(({ resolver }) => resolver);
  }

  test('a lookup that began before an invalidation does not put the old id back', async () => {
    const lookupA = new ControlledLookup();
    const lookupB = new ControlledLookup();
    const [a, b] = (await fleet([lookupA, lookupB])) as [SharedResolver, SharedResolver];
    const resolving = a.resolve(CREDENTIAL, EMAIL, scope());
    await until('A looking up', () => lookupA.pending === 1);
    // Meanwhile a write through B moves the email away (rename: the old email is forgotten).
    await b.forget(CREDENTIAL, EMAIL);
    lookupA.answer('old-id');
    // A's caller gets what V4 said when asked (as in memory), but nobody keeps it.
    expect((await resolving).userId).toBe('old-id');
    expect(a.peek(CREDENTIAL, EMAIL)).toBeUndefined();
    expect(a.stats.staleFillsRefused).toBe(1);
    // The next call on either replica looks up afresh: nothing stale in Redis either.
    const again = b.resolve(CREDENTIAL, EMAIL, scope());
    await until('B looking up', () => lookupB.pending === 1);
    lookupB.answer('new-id');
    expect(await again).toMatchObject({ userId: 'new-id', fromCache: false });
  });

  test("a write through one replica drops the other's local entry, and it then reads the new id from Redis", async () => {
    const lookupA = new ControlledLookup();
    const lookupB = new ControlledLookup();
    const [a, b] = (await fleet([lookupA, lookupB])) as [SharedResolver, SharedResolver];
    const first = b.resolve(CREDENTIAL, EMAIL, scope());
    await until('B looking up', () => lookupB.pending === 1);
    lookupB.answer('id-1');
    await first;
    // A finds it in Redis: no lookup of its own.
    expect(await a.resolve(CREDENTIAL, EMAIL, scope())).toMatchObject({ userId: 'id-1', fromCache: true });
    expect(lookupA.calls).toBe(0);
    expect(b.peek(CREDENTIAL, EMAIL)).toBe('id-1');
    await a.remember(CREDENTIAL, EMAIL, 'id-2');
    await until("B's entry invalidated", () => b.peek(CREDENTIAL, EMAIL) === undefined);
    expect(await b.resolve(CREDENTIAL, EMAIL, scope())).toMatchObject({ userId: 'id-2', fromCache: true });
    expect(lookupB.calls).toBe(1);
    expect(b.stats.invalidationsReceived).toBeGreaterThanOrEqual(1);
  });

  test('concurrent cold lookups on two replicas cost one V4 lookup in all (the lock)', async () => {
    const lookupA = new ControlledLookup();
    const lookupB = new ControlledLookup();
    const [a, b] = (await fleet([lookupA, lookupB])) as [SharedResolver, SharedResolver];
    const calls = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).resolve(CREDENTIAL, EMAIL, scope()));
    await until('one lookup started', () => lookupA.pending + lookupB.pending === 1);
    // Give the other replica time to find the lock held and start waiting on it.
    await until('the other replica waiting on the lock', () => a.stats.lockWaits + b.stats.lockWaits === 1);
    lookupA.answer('id-x');
    lookupB.answer('id-x');
    const results = await Promise.all(calls);
    expect(results.map((r) => r.userId)).toEqual(Array(10).fill('id-x'));
    expect(lookupA.calls + lookupB.calls).toBe(1);
    expect(a.stats.lockWaitsServed + b.stats.lockWaitsServed).toBe(1);
  });

  test('keys are tenant-scoped digests: neither the key nor the raw email is in Redis', () => {
    const key = entryKey('lug', CREDENTIAL, EMAIL);
    expect(key.startsWith(`lug:r:${CREDENTIAL}:`)).toBe(true);
    expect(key).not.toContain('jane');
    expect(entryKey('lug', 'otherfingerprint', EMAIL)).not.toBe(key);
  });

  test('Redis paused: resolves fall back to V4 at once after one timeout, the local level is dropped on each change, and it comes back by itself', async () => {
    const lookupA = new ControlledLookup();
    const [a] = (await fleet([lookupA])) as [SharedResolver];
    const link = links[links.length - 1] as RedisLink;
    const warm = a.resolve(CREDENTIAL, EMAIL, scope());
    await until('A looking up', () => lookupA.pending === 1);
    lookupA.answer('id-1');
    await warm;
    expect(a.peek(CREDENTIAL, EMAIL)).toBe('id-1');
    redis.pause();
    try {
      await until('link down', () => link.state === 'down');
      // The channel dropped: nothing local is trusted.
      expect(a.peek(CREDENTIAL, EMAIL)).toBeUndefined();
      const during = a.resolve(CREDENTIAL, EMAIL, scope());
      await until('A looking up in V4', () => lookupA.pending === 1);
      lookupA.answer('id-1');
      expect(await during).toMatchObject({ userId: 'id-1', fromCache: false });
      // As in memory meanwhile: the next call is a local hit.
      expect(await a.resolve(CREDENTIAL, EMAIL, scope())).toMatchObject({ userId: 'id-1', outcome: 'hit' });
      await a.forget(CREDENTIAL, EMAIL);
    } finally {
      redis.resume();
    }
    await until('link up again', () => link.state === 'up');
    expect(a.peek(CREDENTIAL, EMAIL)).toBeUndefined();
    const downLines = lines.filter((line) => line.includes('redis: down'));
    expect(downLines.length).toBe(links.reduce((sum, l) => sum + l.stats.enteredDown, 0));
    // The forget made while down was replayed: Redis holds a tombstone, not id-1.
    const after = a.resolve(CREDENTIAL, EMAIL, scope());
    await until('A looking up afresh', () => lookupA.pending === 1);
    lookupA.answer('id-2');
    expect(await after).toMatchObject({ userId: 'id-2', fromCache: false });
  });
});
