import { createHash } from 'node:crypto';

/**
 * A short, stable fingerprint of the credentials sent to V4: it scopes cache entries and names
 * clients in logs and reports without ever holding the key. 96 bits: collisions between the
 * handful of tenants one gateway serves are not a practical concern.
 */
export function credentialFingerprint(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64url').slice(0, 16);
}

/**
 * Fingerprints of the few Authorization values a gateway sees (one per tenant), kept so that the
 * hash is not recomputed on every call. Bounded: past `max` distinct values it starts over.
 */
export class FingerprintMemo {
  private readonly memo = new Map<string, string>();

  constructor(private readonly max = 1024) {}

  of(authorization: string): string {
    let fingerprint = this.memo.get(authorization);
    if (fingerprint === undefined) {
      if (this.memo.size >= this.max) this.memo.clear();
      fingerprint = credentialFingerprint(authorization);
      this.memo.set(authorization, fingerprint);
    }
    return fingerprint;
  }
}
