import { GatewayError } from '../errors';

/**
 * Parses a raw query string into decoded pairs. `+` stays a plus: in the only value the gateway
 * reads as text (an email), a space is never valid, so reading `+` as a space could only turn a
 * working legacy call into an error.
 */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (rawQuery === '') return pairs;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    try {
      pairs.push([decodeURIComponent(rawKey), decodeURIComponent(rawValue)]);
    } catch {
      throw new GatewayError('INVALID_QUERY', `The query parameter ${describeParameter(rawKey)} is not valid percent-encoding.`);
    }
  }
  return pairs;
}

/**
 * A parameter name fit to repeat in an error message: only a short word of letters (`page`,
 * `sort_by`) is repeated, so that an email or a key sent as a parameter name never comes back.
 */
export function describeParameter(name: string): string {
  return /^[A-Za-z_]{1,24}(\[\])?$/.test(name) ? JSON.stringify(name) : '(a name that is not a plain word)';
}

/** The name of a parameter without array/object brackets (`service[]` is `service`). */
export function baseParameterName(key: string): string {
  const bracket = key.indexOf('[');
  return bracket === -1 ? key : key.slice(0, bracket);
}

/** Most legacy calls have no query: they share one empty map rather than make one each. */
const NO_PARAMETERS: ReadonlyMap<string, string> = new Map();

/** Pairs as a map; a parameter given twice is refused, since which one a client meant is unknowable. */
export function uniqueParameters(pairs: ReadonlyArray<[string, string]>): ReadonlyMap<string, string> {
  if (pairs.length === 0) return NO_PARAMETERS;
  const map = new Map<string, string>();
  for (const [key, value] of pairs) {
    const name = baseParameterName(key);
    if (map.has(name)) {
      throw new GatewayError('INVALID_QUERY', `The query parameter ${describeParameter(name)} is given more than once; give it once.`);
    }
    map.set(name, value);
  }
  return map;
}
