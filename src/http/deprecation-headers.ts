import { V4_USERS_PATH } from '../v4/adapter';

/**
 * The headers that tell every legacy client it is on a deprecated API and where to go:
 * Deprecation (RFC 9745, `@<epoch seconds>`), Link rel="successor-version", and Sunset
 * (RFC 8594, an HTTP-date) when one is configured. Computed once, as a flat `[name, value, …]`
 * list the dispatch stage adds to a legacy call's own headers (request-state.ts).
 */
export function deprecationHeaders(deprecatedSince: Date, sunset: Date | null): readonly string[] {
  const list = ['deprecation', `@${Math.floor(deprecatedSince.getTime() / 1000)}`, 'link', `<${V4_USERS_PATH}>; rel="successor-version"`];
  if (sunset !== null) list.push('sunset', sunset.toUTCString());
  return list;
}
