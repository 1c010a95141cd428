import type { IncomingMessage } from 'node:http';
import { v4Authorization } from '../v4/adapter';

/**
 * The Authorization V4 will get: the caller's, exactly as it came, or the gateway's configured
 * key for callers that send none (the legacy API had no key, only IP restriction); null when
 * there is neither.
 */
export function authorizationFor(req: IncomingMessage, configured: ConfiguredAuthorization): string | null {
  const own = req.headers.authorization;
  if (own !== undefined && own.trim() !== '') return own;
  return configured.value;
}

/** The configured key's Authorization, made once rather than per call. */
export interface ConfiguredAuthorization {
  readonly value: string | null;
}

export function configuredAuthorization(configuredKey: string | null): ConfiguredAuthorization {
  return { value: configuredKey === null ? null : v4Authorization(configuredKey) };
}
