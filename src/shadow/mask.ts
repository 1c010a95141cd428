// Values and path segments as the diff report and its log lines may show them.
import { EmailPrivacy } from '../observability/email-privacy';
import { normaliseEmail } from '../translation/email';
import type { JsonValue } from '../translation/json';
import type { ShownValue } from './types';

const DEFAULT_MAX_STRING = 64;
const CREDENTIALS = /^(apikey|bearer|basic)\s/i;

/**
 * Hashes emails with the logs' keyed hash (EmailPrivacy in `hash` mode whatever LOG_EMAILS
 * says: the report is read by more people than the logs, so `plain` never applies to it). With
 * the logs' LOG_HASH_KEY, a hash here is the hash of the same address in the log lines.
 */
export class ValueMasker {
  private readonly privacy: EmailPrivacy;

  constructor(hashKey: string | null, private readonly maxString = DEFAULT_MAX_STRING) {
    this.privacy = new EmailPrivacy('hash', hashKey);
  }

  /** The keyed hash of an email, lower-cased as the gateway compares and logs them. */
  email(email: string): string {
    return this.privacy.forLog(normaliseEmail(email)) ?? '';
  }

  /** A value fit for the report; `key` is the name of the field it sits in, if any. */
  show(value: JsonValue, key?: string): ShownValue {
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
    if (typeof value === 'string') return this.text(value, key);
    if (Array.isArray(value)) return { array_length: value.length };
    return { object_keys: Object.keys(value).length };
  }

  /** A key or string for a JSON pointer segment or a shown value. */
  text(value: string, key?: string): string {
    if (value.includes('@') || (key !== undefined && /email/i.test(key))) {
      const hash = this.email(value);
      // A case-only change must still show as one: the hash is of the lower-cased address.
      return value === normaliseEmail(value) ? hash : `${hash} (mixed case)`;
    }
    if (CREDENTIALS.test(value)) return '[credentials]';
    return value.length > this.maxString ? `${value.slice(0, this.maxString)}…` : value;
  }
}
