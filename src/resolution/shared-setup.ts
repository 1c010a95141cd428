import type { Logger } from 'winston';
import type { GatewayConfig } from '../config/load';
import { RedisLink } from '../redis/redis-link';
import type { ResolverFactory } from './resolver';
import { SharedResolver } from './shared-resolver';

/** The link to the Redis of REDIS_URL (not started), or null: everything stays in memory. */
export function redisLinkFor(config: GatewayConfig, logger: Logger): RedisLink | null {
  if (config.redisUrl === null) return null;
  return new RedisLink({ url: config.redisUrl, timeoutMs: config.redisTimeoutMs, healthIntervalMs: config.redisHealthIntervalMs, channel: `${config.redisKeyPrefix}:invalidations`, logger });
}

/**
 * The factory createApp calls for its resolver, and (once called) the SharedResolver it made,
 * for the metrics. A tombstone outlives any lookup: two upstream deadlines and a lock, at least 10 s.
 */
export function sharedResolverFactory(config: GatewayConfig, link: RedisLink, logger: Logger): { factory: ResolverFactory; made: () => SharedResolver | null } {
  let made: SharedResolver | null = null;
  const lookupWindowMs = Math.max(2 * config.upstreamTimeoutMs + config.redisLockMs, 10_000);
  const factory: ResolverFactory = (lookup, options) => {
    made = new SharedResolver(lookup, { ...options, link, keyPrefix: config.redisKeyPrefix, lockMs: config.redisLockMs, lookupWindowMs, logger });
    return made;
  };
  return { factory, made: () => made };
}
