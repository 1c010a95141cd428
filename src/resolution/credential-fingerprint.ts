import { createHash } from 'node:crypto';

/**
 * A short, stable fingerprint of the credentials sent to V4: it scopes cache entries and names
 * clients in logs and reports without ever holding the key. 96 bits: collisions between the
 * handful of tenants one gateway serves are not a practical concern.
 */
export function credentialFingerprint(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64url').slice(0, 16);
}
