// Query strings, parsed by hand rather than with URLSearchParams, because V4 (as assumed)
// treats `+` as a literal plus, not a space: `?email=jane+news@example.com` means that
// address. A gateway that forgets to percent-encode a `+` therefore still works here, while
// one that sends `%2B` works too; one that turns `+` into a space does not.
import { V4ApiError } from './errors';

export interface IndexQuery {
  email?: string;
  externalId?: string;
  offset: number;
  limit: number;
}

const DEFAULT_LIMIT = 50;
const DIGITS = /^[0-9]+$/;

function badQuery(message: string): V4ApiError {
  return new V4ApiError(400, 'VALIDATION_FAILED', message);
}

/**
 * Splits on `&` and the first `=`, percent-decodes each side once. Empty segments (`a=1&&b=2`)
 * are skipped as URLSearchParams does. Malformed percent-encoding throws a 400, or, when
 * `lenient` (for recording), keeps the raw text.
 */
export function parseQueryPairs(rawQuery: string, lenient = false): [string, string][] {
  const pairs: [string, string][] = [];
  if (rawQuery === '') return pairs;
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      if (lenient) return s;
      throw badQuery(`The query string is not valid percent-encoding: ${JSON.stringify(s)}.`);
    }
  };
  for (const segment of rawQuery.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    pairs.push(eq < 0 ? [decode(segment), ''] : [decode(segment.slice(0, eq)), decode(segment.slice(eq + 1))]);
  }
  return pairs;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = DIGITS.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `between ${min} and ${max}`;
    throw badQuery(`Query parameter ${name} must be an integer ${range}; got ${JSON.stringify(value)}.`);
  }
  return n;
}

/** GET index parameters: only email, external_id, offset, limit, each at most once. */
export function parseIndexQuery(rawQuery: string, maxLimit: number): IndexQuery {
  // A maxLimit below the default (a test forcing small pages) also caps the default.
  const query: IndexQuery = { offset: 0, limit: Math.min(DEFAULT_LIMIT, maxLimit) };
  const seen = new Set<string>();
  for (const [name, value] of parseQueryPairs(rawQuery)) {
    if (seen.has(name)) throw badQuery(`Query parameter ${name} is given more than once.`);
    seen.add(name);
    switch (name) {
      case 'email':
        query.email = value;
        break;
      case 'external_id':
        query.externalId = value;
        break;
      case 'offset':
        query.offset = integer(name, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'limit':
        query.limit = integer(name, value, 1, maxLimit);
        break;
      default:
        throw badQuery(`Unknown query parameter ${JSON.stringify(name)}; allowed: email, external_id, offset, limit.`);
    }
  }
  return query;
}
