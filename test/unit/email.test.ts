import { emailProblem, invalidEmail, MAX_EMAIL_LENGTH, normaliseEmail, parseEmailSegment } from '../../src/translation/email';
import { legacyLocation } from '../../src/translation/routes';
import { gatewayErrorOf } from './helpers';

const DOMAIN = '@example.com'; // 12 characters

describe('parseEmailSegment: accepted segments', () => {
  it.each<[string, string, string]>([
    ['percent-encoded + and @', 'jane%2Bnews%40example.com', 'jane+news@example.com'],
    ['a literal + stays a plus (never a space)', 'jane+news@example.com', 'jane+news@example.com'],
    ['a literal + beside an encoded @', 'jane+news%40example.com', 'jane+news@example.com'],
    ['%252B is decoded once, to %2B', 'jane%252Bnews%40example.com', 'jane%2Bnews@example.com'],
    ['%2540 is decoded once, to a literal %40 (no second @)', 'jane%2540x%40example.com', 'jane%40x@example.com'],
    ['a plain address', 'jane@example.com', 'jane@example.com'],
    ['case is kept (normalising is separate)', 'Jane%40Example.COM', 'Jane@Example.COM'],
    ['non-ASCII letters', 'j%C3%B6rg%40example.com', 'jörg@example.com'],
    ['dots and dashes', 'first.last-name%40sub.example.co.uk', 'first.last-name@sub.example.co.uk'],
    ['shortest plausible', 'a%40b', 'a@b'],
  ])('%s: %s → %s', (_what, segment, email) => {
    expect(parseEmailSegment(segment)).toBe(email);
  });

  it(`accepts exactly ${MAX_EMAIL_LENGTH} characters`, () => {
    const email = 'a'.repeat(MAX_EMAIL_LENGTH - DOMAIN.length) + DOMAIN;
    expect(email).toHaveLength(254);
    expect(parseEmailSegment(encodeURIComponent(email))).toBe(email);
  });

  it('measures the length after decoding (254 decoded characters from a longer segment)', () => {
    const email = '+'.repeat(MAX_EMAIL_LENGTH - DOMAIN.length) + DOMAIN;
    const segment = encodeURIComponent(email);
    expect(segment.length).toBeGreaterThan(MAX_EMAIL_LENGTH);
    expect(parseEmailSegment(segment)).toBe(email);
  });
});

describe('parseEmailSegment: refused segments → INVALID_EMAIL', () => {
  it.each<[string, string]>([
    ['empty', ''],
    ['no @', 'jane.example.com'],
    ['no @ after decoding %2540', 'jane%2540example.com'],
    ['two @', 'jane%40doe%40example.com'],
    ['two @, one literal', 'jane@doe%40example.com'],
    ['empty local part', '%40example.com'],
    ['empty domain', 'jane%40'],
    ['only an @', '%40'],
    ['a literal /', 'a/b@example.com'],
    ['an encoded /', 'a%2Fb%40example.com'],
    ['a trailing slash', 'jane%40example.com/'],
    ['a dot-dot path', '..'],
    ['a literal backslash', 'a\\b@example.com'],
    ['an encoded backslash', 'a%5Cb%40example.com'],
    ['CR LF', 'jane%40example.com%0D%0AX-Injected:%201'],
    ['CR alone', 'jane%0D%40example.com'],
    ['LF alone', 'jane%40example.com%0A'],
    ['NUL', 'jane%00%40example.com'],
    ['tab', 'jane%09%40example.com'],
    ['a literal tab', 'jane\t@example.com'],
    ['a space', 'jane%20doe%40example.com'],
    ['a literal space', 'jane doe@example.com'],
    ['DEL', 'jane%7F%40example.com'],
    ['a C1 control (U+0085)', 'jane%C2%85%40example.com'],
    ['no-break space (U+00A0)', 'jane%C2%A0%40example.com'],
    ['em space (U+2003)', 'jane%E2%80%83%40example.com'],
    ['ideographic space (U+3000)', 'jane%E3%80%80%40example.com'],
    ['line separator (U+2028)', 'jane%E2%80%A8%40example.com'],
    ['paragraph separator (U+2029)', 'jane%E2%80%A9%40example.com'],
    ['zero-width space (U+200B)', 'jane%E2%80%8B%40example.com'],
    ['byte order mark (U+FEFF)', '%EF%BB%BFjane%40example.com'],
    ['malformed percent (truncated sequence)', 'jane%E0%A4%A%40example.com'],
    ['malformed percent (lone %)', 'jane%%40example.com'],
    ['malformed percent (%ZZ)', 'jane%ZZ%40example.com'],
    ['malformed percent (trailing %)', 'jane%40example.com%'],
    ['malformed percent (invalid UTF-8)', 'jane%FF%40example.com'],
    ['malformed percent (lone surrogate)', 'jane%ED%A0%80%40example.com'],
  ])('%s (%j)', (_what, segment) => {
    const err = gatewayErrorOf(() => parseEmailSegment(segment), 'INVALID_EMAIL');
    expect(err.message).toMatch(/^The email in the request /);
    expect(err.message).toContain('percent-encoded as one path segment');
  });

  it(`refuses ${MAX_EMAIL_LENGTH + 1} characters`, () => {
    const email = 'a'.repeat(MAX_EMAIL_LENGTH + 1 - DOMAIN.length) + DOMAIN;
    expect(email).toHaveLength(255);
    const err = gatewayErrorOf(() => parseEmailSegment(encodeURIComponent(email)), 'INVALID_EMAIL');
    expect(err.message).toContain('longer than 254 characters');
  });

  it('does not echo the raw segment back into the message', () => {
    const err = gatewayErrorOf(() => parseEmailSegment('secret%0Dvalue'), 'INVALID_EMAIL');
    expect(err.message).not.toContain('secret');
  });

  it.each<[string, string]>([
    ['100,000 letters', 'a'.repeat(100_000)],
    ['100,000 @', '@'.repeat(100_000)],
    ['100,000 encoded @', '%40'.repeat(33_334)],
    ['an address followed by 100,000 spaces', 'a%40b' + '%20'.repeat(33_334)],
    ['100,000 percent signs', '%'.repeat(100_000)],
    ['a valid-looking local part of 100,000 characters', 'a.'.repeat(50_000) + '%40example.com'],
    ['100,000 characters of an almost-valid percent sequence', '%E0%A4'.repeat(16_667)],
  ])('a 100,000-character adversarial input returns (with INVALID_EMAIL): %s', (_what, segment) => {
    expect(segment.length).toBeGreaterThanOrEqual(100_000);
    gatewayErrorOf(() => parseEmailSegment(segment), 'INVALID_EMAIL');
  });
});

describe('emailProblem', () => {
  it.each<[string, string | null]>([
    ['jane@example.com', null],
    ['', 'is empty'],
    ['jane', 'has no @'],
    ['a@b@c', 'has more than one @'],
    ['@b', 'has nothing before the @'],
    ['a@', 'has nothing after the @'],
    ['a b@c', 'contains whitespace, a control character or a slash'],
    ['a/b@c', 'contains whitespace, a control character or a slash'],
    ['a\\b@c', 'contains whitespace, a control character or a slash'],
  ])('%j → %j', (email, problem) => {
    expect(emailProblem(email)).toBe(problem);
  });

  it('returns for a 100,000-character string without decoding it', () => {
    expect(emailProblem('a'.repeat(99_999) + '@')).toBe('is longer than 254 characters');
  });
});

describe('normaliseEmail / invalidEmail', () => {
  it('compares emails case-insensitively by lower-casing them', () => {
    expect(normaliseEmail('Jane@Example.com')).toBe('jane@example.com');
    expect(normaliseEmail('Jane@Example.com')).toBe(normaliseEmail('jane@EXAMPLE.COM'));
    expect(normaliseEmail('jane+News@example.com')).toBe('jane+news@example.com');
  });

  it('invalidEmail is a 400 INVALID_EMAIL naming the problem', () => {
    const err = invalidEmail('has no @');
    expect(err.code).toBe('INVALID_EMAIL');
    expect(err.status).toBe(400);
    expect(err.message).toContain('has no @');
  });

  it.each(['jane+news@example.com', 'a%2Fb@example.com', 'jörg@example.com'])('legacyLocation(%j) parses back to the same email', (email) => {
    const location = legacyLocation(email);
    const segment = location.slice('/api/management/user/'.length);
    expect(segment).not.toContain('/');
    expect(parseEmailSegment(segment)).toBe(email);
  });
});
