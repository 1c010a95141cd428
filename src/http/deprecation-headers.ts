import type { ServerResponse } from 'node:http';
import { V4_USERS_PATH } from '../v4/adapter';

/**
 * The headers that tell every legacy client it is on a deprecated API and where to go:
 * Deprecation (RFC 9745, `@<epoch seconds>`), Link rel="successor-version", and Sunset
 * (RFC 8594, an HTTP-date) when one is configured. Computed once.
 */
export function deprecationHeaders(deprecatedSince: Date, sunset: Date | null): (res: ServerResponse) => void {
  const deprecation = `@${Math.floor(deprecatedSince.getTime() / 1000)}`;
  const link = `<${V4_USERS_PATH}>; rel="successor-version"`;
  const sunsetText = sunset === null ? null : sunset.toUTCString();
  return (res) => {
    res.setHeader('deprecation', deprecation);
    res.setHeader('link', link);
    if (sunsetText !== null) res.setHeader('sunset', sunsetText);
  };
}
