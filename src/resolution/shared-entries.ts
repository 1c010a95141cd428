import { createHash } from 'node:crypto';

/**
 * The Redis side of the shared resolution cache: key names, the entry format and the Lua
 * scripts that change entries. Each script runs atomically in Redis, so a generation is read
 * and written in one step.
 *
 * An entry is one string key, `<prefix>:r:<credential fingerprint>:<email digest>`: tenant-scoped
 * as the local cache is, never the API key, and never the raw email (a SHA-256 digest of it),
 * so neither shows in `MONITOR`, `KEYS` or a dump. Its value is `<generation>:<user_id>`, or
 * `<generation>:` for a tombstone: the email is known not to map (any more) to what it did.
 * A missing key is generation 0; a write's generation is at least Redis's clock in ms (CHANGE).
 */

/** The key of one email of one tenant; also the local cache's key, so invalidations name it directly. */
export function entryKey(prefix: string, credential: string, normalisedEmail: string): string {
  const digest = createHash('sha256').update(normalisedEmail).digest('base64url').slice(0, 22);
  return `${prefix}:r:${credential}:${digest}`;
}

export function lockKey(entry: string): string {
  return `${entry}:lock`;
}

export interface SharedEntry {
  readonly generation: number;
  /** Null: no entry, or a tombstone. */
  readonly userId: string | null;
}

export function parseEntry(value: string | null): SharedEntry {
  if (value === null) return { generation: 0, userId: null };
  const sep = value.indexOf(':');
  const generation = Number(value.slice(0, sep));
  if (sep < 1 || !Number.isSafeInteger(generation)) throw new Error('unreadable shared cache entry');
  const userId = value.slice(sep + 1);
  return { generation, userId: userId === '' ? null : userId };
}

/** The generation of a stored value (shared by the scripts). */
const GENERATION_OF = `
local function generation_of(value)
  if not value then return 0 end
  return tonumber(string.sub(value, 1, string.find(value, ':', 1, true) - 1))
end
`;

/**
 * FILL: stores what a lookup found, only if nothing happened to the key since the lookup
 * started (same generation, no id stored meanwhile). KEYS[1] entry; ARGV generation, user_id,
 * ttl ms. Returns 1 if stored.
 */
export const FILL_SCRIPT = `${GENERATION_OF}
local current = redis.call('GET', KEYS[1])
if generation_of(current) ~= tonumber(ARGV[1]) then return 0 end
if current and string.sub(current, -1) ~= ':' then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * CHANGE: a write through this gateway changed what the email maps to. Bumps the generation,
 * stores the new id (or a tombstone when ARGV[1] is empty) and publishes the invalidation in
 * the same step, so no replica can see the new generation before the message is on its way.
 * KEYS[1] entry; ARGV user_id or '', ttl ms of an id, ttl ms of a tombstone, channel, message
 * head. Returns the new generation.
 */
export const CHANGE_SCRIPT = `${GENERATION_OF}
-- Never below Redis's clock in ms: an entry that expired meanwhile restarts from the clock, not
-- from 0, so a replica holding the old entry's (lower) generation still drops it.
local now = redis.call('TIME')
local generation = math.max(generation_of(redis.call('GET', KEYS[1])) + 1, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
if ARGV[1] == '' then
  redis.call('SET', KEYS[1], generation .. ':', 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], generation .. ':' .. ARGV[1], 'PX', ARGV[2])
end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. generation .. ' ' .. KEYS[1])
return generation
`;

/** POLL: the entry and whether its lookup lock is still held. KEYS[1] entry, KEYS[2] lock. */
export const POLL_SCRIPT = `
return { redis.call('GET', KEYS[1]), redis.call('EXISTS', KEYS[2]) }
`;

/** UNLOCK: frees the lock only if this lookup still holds it. KEYS[1] lock; ARGV token. */
export const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** An invalidation on the channel: `<replica> <sent at ms> <generation> <entry key>`. */
export interface Invalidation {
  readonly replica: string;
  readonly sentAt: number;
  readonly generation: number;
  readonly key: string;
}

export function parseInvalidation(message: string): Invalidation | null {
  const parts = message.split(' ');
  if (parts.length !== 4) return null;
  const [replica, sentAt, generation, key] = parts as [string, string, string, string];
  const sent = Number(sentAt);
  const gen = Number(generation);
  if (!Number.isFinite(sent) || !Number.isSafeInteger(gen)) return null;
  return { replica, sentAt: sent, generation: gen, key };
}
