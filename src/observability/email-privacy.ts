import { createHmac, randomBytes } from 'node:crypto';

export type EmailLogMode = 'hash' | 'omit' | 'plain';

/**
 * How an email may appear in a log line: a keyed hash by default (stable for one key, so a
 * migration team can count one user's calls, but not reversible by guessing common addresses
 * without the key), nothing, or, for debugging only, the address itself.
 */
export class EmailPrivacy {
  private readonly key: Buffer;
  /** Hashes of recent emails: an HMAC per call was a measurable share of a call's CPU. Bounded. */
  private readonly memo = new Map<string, string>();

  constructor(readonly mode: EmailLogMode, key: string | null) {
    this.key = key === null ? randomBytes(32) : Buffer.from(key, 'utf8');
  }

  forLog(normalisedEmail: string): string | undefined {
    switch (this.mode) {
      case 'omit':
        return undefined;
      case 'plain':
        return normalisedEmail;
      case 'hash': {
        let hash = this.memo.get(normalisedEmail);
        if (hash === undefined) {
          hash = 'h:' + createHmac('sha256', this.key).update(normalisedEmail).digest('base64url').slice(0, 22);
          if (this.memo.size >= 10_000) this.memo.clear();
          this.memo.set(normalisedEmail, hash);
        }
        return hash;
      }
    }
  }
}
