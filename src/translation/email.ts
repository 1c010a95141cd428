import { GatewayError } from '../errors';

export const MAX_EMAIL_LENGTH = 254;

/**
 * Characters that can never be part of one plausible address: ASCII controls, DEL, C1 controls,
 * whitespace (Unicode included), slashes. A single character class: it cannot backtrack.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this class must find
const FORBIDDEN_CHARACTER = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b\ufeff/\\]/u;

/** Why `email` is not one plausible address, or null when it is. Linear in its length. */
export function emailProblem(email: string): string | null {
  if (email.length === 0) return 'is empty';
  if (email.length > MAX_EMAIL_LENGTH) return `is longer than ${MAX_EMAIL_LENGTH} characters`;
  if (FORBIDDEN_CHARACTER.test(email)) return 'contains whitespace, a control character or a slash';
  const at = email.indexOf('@');
  if (at === -1) return 'has no @';
  if (email.indexOf('@', at + 1) !== -1) return 'has more than one @';
  if (at === 0) return 'has nothing before the @';
  if (at === email.length - 1) return 'has nothing after the @';
  return null;
}

/**
 * The email of a legacy path segment: percent-decoded exactly once (`%2B` and a literal `+` are
 * both a plus; `%252B` stays `%2B`, which is then no plausible address only if it breaks a rule).
 */
export function parseEmailSegment(rawSegment: string): string {
  let email: string;
  try {
    email = decodeURIComponent(rawSegment);
  } catch {
    throw invalidEmail('is not valid percent-encoding');
  }
  const problem = emailProblem(email);
  if (problem !== null) throw invalidEmail(problem);
  return email;
}

export function invalidEmail(problem: string): GatewayError {
  return new GatewayError(
    'INVALID_EMAIL',
    `The email in the request ${problem}; send one address, percent-encoded as one path segment (e.g. jane%2Bnews%40example.com).`,
  );
}

/** The form the gateway compares and caches emails in: V4's email filter is case-insensitive. */
export function normaliseEmail(email: string): string {
  return email.toLowerCase();
}
