/** What the bench scenarios send, shared by bench.ts, profile.ts and alloc-profile.ts. */
import type { FieldRules } from '../../src/translation/field-rules';
import type { LoadRequest } from './load';

export const V4_USERS = '/api/user/management/v4/users';
export const LEGACY_USERS = '/api/management/user';

export const authorization = (key: string): string => `Apikey ${key}`;

/** The legacy path of a seeded user (the simulator seeds user<i>@example.com). */
export const legacyUserPath = (i: number): string => `${LEGACY_USERS}/user${i}%40example.com`;

export const v4UserPath = (id: string): string => `${V4_USERS}/${encodeURIComponent(id)}`;

/**
 * The legacy PUT body of seeded user i (same email: the cache entry stays), and the V4 PATCH body
 * the gateway makes of it, by the gateway's own translation code (so the bare PATCH baseline
 * sends exactly the bytes the gateway sends).
 */
export function putBodies(rules: FieldRules, i: number): { legacy: string; v4: string } {
  const legacy = JSON.stringify({
    name: `Bench User ${i} (updated by the load test)`,
    email: `user${i}@example.com`,
    cid: `CUST-${i}`,
    user_flags: ['LICENSE_PURCHASE_RESTRICTED'],
    contact_details: { telephone_number_E123: '+44 20 7946 0958' },
  });
  return { legacy, v4: JSON.stringify(rules.requestToV4(legacy).body) };
}

/**
 * The four loads the hot-path tools compare, over seeded users `ids` (user i holds ids[i]): the
 * gateway's legacy GET by email and PUT, and the V4 GET and PATCH they become (the pass-through's
 * load, and the baselines').
 */
export function hotPathLoads(rules: FieldRules, ids: readonly string[], key: string): { legacyGets: LoadRequest[]; puts: LoadRequest[]; v4Gets: LoadRequest[]; patches: LoadRequest[] } {
  const json = { 'content-type': 'application/json' };
  return {
    legacyGets: ids.map((_id, i) => ({ method: 'GET', path: legacyUserPath(i) })),
    puts: ids.map((_id, i) => ({ method: 'PUT', path: legacyUserPath(i), headers: json, body: putBodies(rules, i).legacy })),
    v4Gets: ids.map((id) => ({ method: 'GET', path: v4UserPath(id), headers: { authorization: authorization(key) } })),
    patches: ids.map((id, i) => ({ method: 'PATCH', path: v4UserPath(id), headers: { ...json, authorization: authorization(key) }, body: putBodies(rules, i).v4 })),
  };
}
