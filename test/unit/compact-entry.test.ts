// The resolver's compact storage of cache entries must give back exactly what went in.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { lookupKey, packUserId, storedKey, unpackUserId } from '../../src/resolution/compact-entry';
import { isSegmentSafeId } from '../../src/v4/adapter';

describe('compact cache entries', () => {
  it('a lower-case UUID is stored in 17 characters and comes back unchanged', () => {
    for (let i = 0; i < 1_000; i++) {
      const id = randomUUID();
      const packed = packUserId(id);
      expect(packed).toHaveLength(17);
      expect(unpackUserId(packed)).toBe(id);
    }
    expect(unpackUserId(packUserId('00000000-0000-0000-0000-000000000000'))).toBe('00000000-0000-0000-0000-000000000000');
    expect(unpackUserId(packUserId('ffffffff-ffff-ffff-ffff-ffffffffffff'))).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('any other id is stored as it is (upper-case UUIDs too: packing would change their case)', () => {
    for (const id of ['6F1C9A2E-0B3D-4C5E-8F70-123456789ABC', 'plain-id', 'a/b?c#d%e f', '6f1c9a2e0b3d4c5e8f70123456789abc', `${randomUUID()}x`]) {
      expect(packUserId(id)).toBe(id);
      expect(unpackUserId(id)).toBe(id);
    }
  });

  it('every id the gateway accepts round-trips (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 128 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })), (id) => {
        fc.pre(isSegmentSafeId(id));
        expect(unpackUserId(packUserId(id))).toBe(id);
      }),
      { numRuns: 2_000, seed: 14 },
    );
  });

  it('the stored key equals the lookup key, also with non-Latin characters and lone surrogates (only its representation differs)', () => {
    expect(storedKey('c', 'x\ud800@example.com')).toBe('c x\ud800@example.com');
    expect(storedKey('c', 'ÿ@example.com')).toBe('c ÿ@example.com');
    fc.assert(
      fc.property(fc.string({ minLength: 16, maxLength: 16 }), fc.emailAddress(), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'binary-ascii', maxLength: 20 })), (credential, email, extra) => {
        expect(storedKey(credential, email + extra)).toBe(lookupKey(credential, email + extra));
      }),
      { numRuns: 500, seed: 14 },
    );
  });
});
