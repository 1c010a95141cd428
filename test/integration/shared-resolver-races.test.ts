import { RedisLink } from '../../src/redis/redis-link';
import { SharedResolver } from '../../src/resolution/shared-resolver';
import { RedisServer } from '../bench/redis-server';
import { ControlledLookup as HeldLookup, lookupScope as scope, sleep, until as untilNamed } from './controlled-lookup';
import { createMemoryLogger } from './memory-logger';

const until = (condition: () => boolean): Promise<void> => untilNamed('the race to reach its point', condition, 5_000);

/**
 * Races a review found in the shared cache, on a real redis-server: a write through one replica
 * while a lookup of the same email runs elsewhere, an entry that expired in Redis while a replica
 * still held it, and a lookup that answers after a local write and a Redis failure. In each, no
 * replica may keep (or vouch for) the id the write replaced.
 */
const CREDENTIAL = 'tenantfingerprnt';
const X = 'x@example.com';

describe('shared cache races', () => {
  let redis: RedisServer;
  const links: RedisLink[] = [];
  const { logger } = createMemoryLogger('info');
  let fleets = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(links.map((link) => link.close()));
    await redis.stop();
  });

  async function fleet(lookups: HeldLookup[], ttlMs = 60_000, url = redis.url): Promise<{ resolvers: SharedResolver[]; links: RedisLink[] }> {
    fleets += 1;
    const keyPrefix = `race${fleets}`;
    const made = lookups.map((lookup) => {
      const link = new RedisLink({ url, timeoutMs: 200, healthIntervalMs: 50, channel: `${keyPrefix}:invalidations`, logger });
      links.push(link);
      link.start();
      return { link, resolver: new SharedResolver(lookup.fn, { max: 100, ttlMs, link, keyPrefix, lockMs: 2_000, lookupWindowMs: 10_000, logger }) };
    });
    await until(() => made.every(({ link }) => link.state === 'up'));
    return { resolvers: made.map((m) => m.resolver), links: made.map((m) => m.link) };
  }

  it('a caller after another replica\'s write never joins the lookup that began before it', async () => {
    const lookupA = new HeldLookup();
    const lookupB = new HeldLookup();
    const [a, b] = (await fleet([lookupA, lookupB])).resolvers as [SharedResolver, SharedResolver];
    const before = b.resolve(CREDENTIAL, X, scope()); // B looks X up (V4 is slow)
    await until(() => lookupB.calls === 1);
    await a.forget(CREDENTIAL, X); // through A: the user holding X renamed away
    await a.remember(CREDENTIAL, X, 'u2'); // through A: another user created with X
    await sleep(50);
    const after = await b.resolve(CREDENTIAL, X, scope()); // B: a call that came after both writes
    expect(after.userId).toBe('u2');
    lookupB.answer('u1'); // the old lookup answers what V4 held before the writes
    const old = await before;
    // The caller from before the writes gets u1, but not vouched for: a write with it is verified first.
    expect(old).toMatchObject({ userId: 'u1', fromCache: true });
    expect(b.peek(CREDENTIAL, X)).not.toBe('u1');
  });

  it('an entry that expired in Redis while a replica still held it is still invalidated by the next write', async () => {
    const lookupA = new HeldLookup();
    const lookupB = new HeldLookup();
    const [a, b] = (await fleet([lookupA, lookupB], 1_500)).resolvers as [SharedResolver, SharedResolver];
    await a.remember(CREDENTIAL, X, 'u1'); // in Redis for 1.5 s
    await sleep(1_200);
    expect(await b.resolve(CREDENTIAL, X, scope())).toMatchObject({ userId: 'u1', fromCache: true }); // B keeps it locally for 1.5 s more
    await sleep(500); // gone from Redis, not from B
    await a.forget(CREDENTIAL, X); // the write finds no key in Redis
    await sleep(100); // the invalidation's way; B's own copy would live ~0.9 s longer
    expect(b.peek(CREDENTIAL, X)).toBeUndefined();
  });

  it('a lookup that answers after a local write and a Redis failure is not kept', async () => {
    const own = await RedisServer.start();
    const lookup = new HeldLookup();
    const made = await fleet([lookup], 60_000, own.url);
    const [resolver] = made.resolvers as [SharedResolver];
    const [link] = made.links as [RedisLink];
    const pending = resolver.resolve(CREDENTIAL, X, scope());
    await until(() => lookup.calls === 1);
    await resolver.forget(CREDENTIAL, X); // this replica moved the user away from X
    await own.kill();
    await until(() => link.state === 'down');
    lookup.answer('u1'); // the lookup that began before the write
    expect(await pending).toMatchObject({ userId: 'u1', fromCache: true });
    expect(resolver.peek(CREDENTIAL, X)).toBeUndefined();
    await own.stop();
  });
});
