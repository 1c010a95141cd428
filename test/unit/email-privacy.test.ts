import { EmailPrivacy } from '../../src/observability/email-privacy';

const KEY_A = 'a-log-hash-key-of-32-characters!';
const KEY_B = 'another-log-hash-key-32-chars!!!';
const EMAIL = 'jane+news@example.com';

describe('EmailPrivacy', () => {
  describe('hash mode', () => {
    it('is stable for one key, across instances', () => {
      const first = new EmailPrivacy('hash', KEY_A).forLog(EMAIL);
      const second = new EmailPrivacy('hash', KEY_A).forLog(EMAIL);
      expect(first).toBeDefined();
      expect(first).toBe(second);
    });

    it('has a fixed, short, URL-safe form', () => {
      expect(new EmailPrivacy('hash', KEY_A).forLog(EMAIL)).toMatch(/^h:[A-Za-z0-9_-]{22}$/);
    });

    it('differs across keys', () => {
      expect(new EmailPrivacy('hash', KEY_A).forLog(EMAIL)).not.toBe(new EmailPrivacy('hash', KEY_B).forLog(EMAIL));
    });

    it('differs across emails', () => {
      const privacy = new EmailPrivacy('hash', KEY_A);
      expect(privacy.forLog('jane@example.com')).not.toBe(privacy.forLog('john@example.com'));
    });

    it.each(['jane+news@example.com', 'a@b', 'x@example.com', 'jane'])('never contains the email or its parts (%s)', (email) => {
      const logged = new EmailPrivacy('hash', KEY_A).forLog(email) ?? '';
      expect(logged).not.toContain(email);
      for (const part of email.split('@')) expect(logged.toLowerCase()).not.toContain(part.length > 2 ? part : '@');
      expect(logged).not.toContain('@');
    });

    it('without a key, uses a random key per instance (stable within it)', () => {
      const one = new EmailPrivacy('hash', null);
      const two = new EmailPrivacy('hash', null);
      expect(one.forLog(EMAIL)).toBe(one.forLog(EMAIL));
      expect(one.forLog(EMAIL)).not.toBe(two.forLog(EMAIL));
      expect(one.forLog(EMAIL)).toMatch(/^h:/);
    });
  });

  it('omit mode logs nothing', () => {
    const privacy = new EmailPrivacy('omit', KEY_A);
    expect(privacy.mode).toBe('omit');
    expect(privacy.forLog(EMAIL)).toBeUndefined();
  });

  it('plain mode logs the address itself', () => {
    const privacy = new EmailPrivacy('plain', null);
    expect(privacy.mode).toBe('plain');
    expect(privacy.forLog(EMAIL)).toBe(EMAIL);
  });
});
