import fc from 'fast-check';
import { loadConfig } from '../../src/config/load';
import type { FieldRuleConfig } from '../../src/config/schema';
import { GatewayError } from '../../src/errors';
import { FieldRules } from '../../src/translation/field-rules';
import { findKey, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from '../../src/translation/json';
import { gatewayErrorOf, jsonArbitrary } from './helpers';

const CID_RULE = 'cid-is-external-id';
const EMAIL_RULE = 'email-is-contact-details-email';

/** The rule table every deployment starts with: config/default.json, through the real loader. */
const rules = new FieldRules(loadConfig({ env: {} }).fieldRules);

/** The contract's message for `service` (LEGACY-CONTRACT.md), carried by the default rule table. */
const SERVICE_REMOVED_MESSAGE =
  'The service parameter was removed in User Management V4; manage licenses with the Licenses v4 API (/api/license/v4/users/{user_id}).';

/** A legacy body through the request translator, which takes the body as the text it came as. */
function toV4(table: FieldRules, body: JsonObject): ReturnType<FieldRules['requestToV4']> {
  return table.requestToV4(JSON.stringify(body));
}

function rule(id: string, legacy: string, v4: string | null): FieldRuleConfig {
  return { id, description: `test rule ${id}`, legacy, v4 };
}

describe('FieldRules built from config/default.json', () => {
  it('loads the three rules of the contract table', () => {
    const table = loadConfig({ env: {} }).fieldRules;
    expect(table.map((r) => [r.id, r.legacy, r.v4])).toEqual([
      [CID_RULE, 'cid', 'external_id'],
      [EMAIL_RULE, 'email', 'contact_details.email'],
      ['service-removed', 'service', null],
    ]);
  });
});

describe('FieldRules.requestToV4 (legacy request body → V4)', () => {
  interface RequestCase {
    name: string;
    legacy: JsonObject;
    v4: JsonObject;
    applied: string[];
  }

  it.each<RequestCase>([
    { name: 'cid is renamed to external_id', legacy: { cid: 'CUST-0042' }, v4: { external_id: 'CUST-0042' }, applied: [CID_RULE] },
    { name: 'a null cid is renamed too', legacy: { cid: null }, v4: { external_id: null }, applied: [CID_RULE] },
    {
      name: 'a structured cid value is moved as it is',
      legacy: { cid: { a: [1, 2, { b: true }] } },
      v4: { external_id: { a: [1, 2, { b: true }] } },
      applied: [CID_RULE],
    },
    {
      name: 'email is moved into contact_details.email',
      legacy: { email: 'jane@example.com' },
      v4: { contact_details: { email: 'jane@example.com' } },
      applied: [EMAIL_RULE],
    },
    {
      name: 'email is merged into an existing contact_details',
      legacy: { email: 'jane@example.com', contact_details: { telephone_number_E123: '+44 20 7946 0958' } },
      v4: { contact_details: { email: 'jane@example.com', telephone_number_E123: '+44 20 7946 0958' } },
      applied: [EMAIL_RULE],
    },
    {
      name: 'the worked example of the contract',
      legacy: { cid: 'CUST-0042', name: 'Jane Doe', contact_details: { telephone_number_E123: '+44 20 7946 0958' } },
      v4: { external_id: 'CUST-0042', name: 'Jane Doe', contact_details: { telephone_number_E123: '+44 20 7946 0958' } },
      applied: [CID_RULE],
    },
    {
      name: 'both rules at once',
      legacy: { cid: 'C1', email: 'a@b.c', name: 'A' },
      v4: { external_id: 'C1', contact_details: { email: 'a@b.c' }, name: 'A' },
      applied: [CID_RULE, EMAIL_RULE],
    },
    {
      name: 'fields V4 names the same way pass through untouched',
      legacy: {
        name: 'Jane',
        user_flags: ['a', 'b'],
        contact_details: { telephone_number_E123: '+1 555 0100' },
        registration_information: { registration_state: 'UNREGISTERED', registration_time: 1732790400 },
        default_user_profile: { id: 'p1', name: 'Jane' },
      },
      v4: {
        name: 'Jane',
        user_flags: ['a', 'b'],
        contact_details: { telephone_number_E123: '+1 555 0100' },
        registration_information: { registration_state: 'UNREGISTERED', registration_time: 1732790400 },
        default_user_profile: { id: 'p1', name: 'Jane' },
      },
      applied: [],
    },
    {
      name: 'an empty contact_details without email passes through',
      legacy: { contact_details: {} },
      v4: { contact_details: {} },
      applied: [],
    },
    { name: 'an empty body stays empty', legacy: {}, v4: {}, applied: [] },
    {
      name: 'cid and email nested below the top level are not rule paths',
      legacy: { profile: { cid: 'x', email: 'a@b.c' } },
      v4: { profile: { cid: 'x', email: 'a@b.c' } },
      applied: [],
    },
    {
      name: 'cid and external_id with equal values are accepted once',
      legacy: { cid: 'CUST-1', external_id: 'CUST-1' },
      v4: { external_id: 'CUST-1' },
      applied: [CID_RULE],
    },
    {
      name: 'equal structured values on both sides are accepted once',
      legacy: { cid: { k: [1, 2] }, external_id: { k: [1, 2] } },
      v4: { external_id: { k: [1, 2] } },
      applied: [CID_RULE],
    },
    {
      name: 'email and contact_details.email with equal values are accepted once',
      legacy: { email: 'jane@example.com', contact_details: { email: 'jane@example.com', telephone_number_E123: '+1' } },
      v4: { contact_details: { email: 'jane@example.com', telephone_number_E123: '+1' } },
      applied: [EMAIL_RULE],
    },
    {
      name: 'a value that merely says "service" is not a service field',
      legacy: { name: 'service', user_flags: ['service'] },
      v4: { name: 'service', user_flags: ['service'] },
      applied: [],
    },
    {
      name: 'keys that only contain the word service are not the service field',
      legacy: { services: 1, service_level: 2, my_service: 3 },
      v4: { services: 1, service_level: 2, my_service: 3 },
      applied: [],
    },
  ])('$name', ({ legacy, v4, applied }) => {
    const result = toV4(rules, legacy);
    expect(result.body).toEqual(v4);
    expect(result.applied).toEqual(applied);
  });

  it('never leaves the legacy names cid or email at the top of the V4 body', () => {
    const { body } = toV4(rules, { cid: 'c', email: 'e@x.y', name: 'n' });
    expect(Object.keys(body).sort()).toEqual(['contact_details', 'external_id', 'name']);
  });

  interface ConflictCase {
    name: string;
    legacy: JsonObject;
    mentions: string[];
  }

  it.each<ConflictCase>([
    { name: 'cid and external_id differ', legacy: { cid: 'a', external_id: 'b' }, mentions: ['cid', 'external_id'] },
    { name: 'cid is null, external_id is not', legacy: { cid: null, external_id: 'b' }, mentions: ['cid', 'external_id'] },
    { name: 'cid and external_id are different arrays', legacy: { cid: ['a'], external_id: ['b'] }, mentions: ['cid', 'external_id'] },
    { name: 'cid and external_id differ in type only', legacy: { cid: 1, external_id: '1' }, mentions: ['cid', 'external_id'] },
    {
      name: 'email and contact_details.email differ',
      legacy: { email: 'a@example.com', contact_details: { email: 'b@example.com' } },
      mentions: ['email', 'contact_details.email'],
    },
    {
      name: 'contact_details.email is null beside an email',
      legacy: { email: 'a@example.com', contact_details: { email: null } },
      mentions: ['email', 'contact_details.email'],
    },
  ])('both sides of a rule with different values → CONFLICTING_FIELDS ($name)', ({ legacy, mentions }) => {
    const err = gatewayErrorOf(() => toV4(rules, legacy), 'CONFLICTING_FIELDS');
    for (const field of mentions) expect(err.message).toContain(field);
  });

  it.each<[string, JsonObject]>([
    ['a string', { email: 'a@example.com', contact_details: 'phone: 123' }],
    ['an array', { email: 'a@example.com', contact_details: [{ email: 'a@example.com' }] }],
    ['null', { email: 'a@example.com', contact_details: null }],
  ])('an email beside a contact_details that is %s → CONFLICTING_FIELDS', (_what, legacy) => {
    gatewayErrorOf(() => toV4(rules, legacy), 'CONFLICTING_FIELDS');
  });

  it.each<[string, JsonObject]>([
    ['at the top', { service: 'premium' }],
    ['at the top with a null value', { service: null }],
    ['at the top in upper case', { SERVICE: 'premium' }],
    ['at the top in title case', { Service: 'premium' }],
    ['at the top in mixed case', { sErViCe: 'premium' }],
    ['beside valid fields', { cid: 'C1', email: 'a@b.c', name: 'n', service: 'premium' }],
    ['nested one level', { contact_details: { service: 'premium' } }],
    ['nested deeply', { a: { b: { c: { d: { Service: 1 } } } } }],
    ['inside a rule value', { cid: { service: 'x' } }],
    ['inside an array of objects', { user_flags: [{ service: 'premium' }] }],
    ['inside nested arrays', { list: [[1, 'two', [{ SERVICE: true }]]] }],
    ['after other keys inside an array item', { items: [{ a: 1 }, { b: 2, service: 3 }] }],
    ['beside conflicting fields (service wins)', { cid: 'a', external_id: 'b', service: 'x' }],
  ])('service %s → SERVICE_PARAMETER_REMOVED', (_where, legacy) => {
    const err = gatewayErrorOf(() => toV4(rules, legacy), 'SERVICE_PARAMETER_REMOVED');
    expect(err.message).toBe(SERVICE_REMOVED_MESSAGE);
    expect(err.message).toContain('/api/license/v4/users/{user_id}');
  });

  it('translates the body it parsed, in place, and says which rules applied', () => {
    const result = rules.requestToV4('{"name":"n","cid":"C1"}');
    expect(JSON.stringify(result.body)).toBe('{"name":"n","external_id":"C1"}');
    expect(result.applied).toEqual([CID_RULE]);
  });
});

describe('FieldRules.toLegacy (V4 user → legacy body)', () => {
  interface ResponseCase {
    name: string;
    v4: JsonObject;
    legacy: JsonObject;
  }

  it.each<ResponseCase>([
    { name: 'external_id is renamed back to cid', v4: { external_id: 'CUST-1' }, legacy: { cid: 'CUST-1' } },
    { name: 'a null external_id becomes a null cid', v4: { id: 'u1', external_id: null }, legacy: { id: 'u1', cid: null } },
    {
      name: 'contact_details.email moves out; the emptied contact_details goes',
      v4: { contact_details: { email: 'jane@example.com' } },
      legacy: { email: 'jane@example.com' },
    },
    {
      name: 'contact_details.email moves out; a contact_details with other fields stays',
      v4: { contact_details: { email: 'jane@example.com', telephone_number_E123: '+44 20 7946 0958' } },
      legacy: { email: 'jane@example.com', contact_details: { telephone_number_E123: '+44 20 7946 0958' } },
    },
    {
      name: 'an empty contact_details that held no email is left alone',
      v4: { contact_details: {} },
      legacy: { contact_details: {} },
    },
    {
      name: 'a null contact_details.email still becomes email',
      v4: { contact_details: { email: null } },
      legacy: { email: null },
    },
    {
      name: 'a service field in a V4 answer is never produced',
      v4: { id: 'u1', service: 'premium' },
      legacy: { id: 'u1' },
    },
    {
      name: 'the worked example of the contract',
      v4: {
        id: '6f1c9a2e-4b7d-4c1e-9a53-2d0e7b4f6a11',
        name: 'Jane Doe',
        external_id: 'CUST-0042',
        user_flags: [],
        contact_details: { email: 'jane+billing@example.com', telephone_number_E123: '+44 20 7946 0958' },
        registration_information: { registration_state: 'UNREGISTERED', registration_time: 1732790400 },
        default_user_profile: { id: 'a41d', name: 'Jane Doe' },
      },
      legacy: {
        id: '6f1c9a2e-4b7d-4c1e-9a53-2d0e7b4f6a11',
        name: 'Jane Doe',
        email: 'jane+billing@example.com',
        cid: 'CUST-0042',
        user_flags: [],
        contact_details: { telephone_number_E123: '+44 20 7946 0958' },
        registration_information: { registration_state: 'UNREGISTERED', registration_time: 1732790400 },
        default_user_profile: { id: 'a41d', name: 'Jane Doe' },
      },
    },
    { name: 'a body without rule fields is unchanged', v4: { id: 'u1', name: 'n' }, legacy: { id: 'u1', name: 'n' } },
  ])('$name', ({ v4, legacy }) => {
    const result = rules.toLegacy(structuredClone(v4));
    expect(result).toEqual(legacy);
    expect(result).not.toHaveProperty('external_id');
    expect(result).not.toHaveProperty(['contact_details', 'email']);
    expect(result).not.toHaveProperty('service');
  });

  // Tables with nested paths on both sides, which the default table does not have.
  const nested = new FieldRules([rule('gone', 'meta.secret', null), rule('moved', 'profile.ref', 'ids.profile')]);
  it.each<[JsonObject, JsonObject]>([
    [{ meta: { secret: 's', other: 1 } }, { meta: { other: 1 } }],
    [{ meta: { secret: 's' } }, {}],
    [{ meta: {} }, { meta: {} }],
    [{ meta: 'not an object' }, { meta: 'not an object' }],
    [{ ids: { profile: 'p' } }, { profile: { ref: 'p' } }],
    [{ ids: { profile: 'p', other: 2 }, profile: { name: 'n' } }, { ids: { other: 2 }, profile: { name: 'n', ref: 'p' } }],
    [{ ids: {}, profile: {} }, { ids: {}, profile: {} }],
    [{ ids: { profile: null }, meta: { secret: null } }, { profile: { ref: null } }],
  ])('nested paths on both sides: %j → %j', (v4, legacy) => {
    expect(JSON.stringify(nested.toLegacy(v4))).toBe(JSON.stringify(legacy));
  });

  it('a V4 answer that cannot take the legacy shape is UPSTREAM_ERROR, never a client 400', () => {
    gatewayErrorOf(() => nested.toLegacy({ ids: { profile: 'p' }, profile: 'a string' }), 'UPSTREAM_ERROR');
  });

  it('a request whose V4 container is not an object is the client\'s CONFLICTING_FIELDS', () => {
    gatewayErrorOf(() => toV4(nested, { profile: { ref: 'p' }, ids: 'a string' }), 'CONFLICTING_FIELDS');
  });

  it('copies only the objects a rule takes a field from: what no rule touches is handed back as it came', () => {
    const flags = ['A'];
    const address = { city: 'x' };
    const v4: JsonObject = { user_id: 'u1', external_id: 'C', user_flags: flags, address, contact_details: { email: 'a@b.c', telephone_number_E123: '+1' }, service: 'x' };
    const legacy = rules.toLegacy(v4);
    expect(legacy).toEqual({ user_id: 'u1', cid: 'C', user_flags: ['A'], address: { city: 'x' }, email: 'a@b.c', contact_details: { telephone_number_E123: '+1' } });
    expect(legacy.user_flags).toBe(flags);
    expect(legacy.address).toBe(address);
    // The other keys keep their order; a renamed field comes last (as it did when renamed in place).
    expect(Object.keys(legacy)).toEqual(['user_id', 'user_flags', 'address', 'contact_details', 'cid', 'email']);
  });

  it('a body no rule applies to is handed back itself, not copied', () => {
    const v4: JsonObject = { user_id: 'u1', name: 'n', tags: ['a'] };
    expect(rules.toLegacy(v4)).toBe(v4);
  });
});

describe('FieldRules constructor rejects rule tables that cannot work', () => {
  it.each<[string, FieldRuleConfig[], RegExp]>([
    ['a duplicate id', [rule('a', 'x', 'y'), rule('a', 'z', 'w')], /field rule a: duplicate id/],
    ['a duplicate legacy path', [rule('a', 'x', 'y'), rule('b', 'x', 'z')], /field rule b: another rule already maps legacy field x/],
    ['a duplicate legacy path across a move and a removal', [rule('a', 'x', 'y'), rule('b', 'x', null)], /already maps legacy field x/],
    ['a rule mapping a field onto itself', [rule('a', 'x', 'x')], /field rule a: maps x onto itself/],
    ['a nested rule mapping a field onto itself', [rule('a', 'p.q', 'p.q')], /maps p\.q onto itself/],
    ['a chain (later rule reads what an earlier one writes)', [rule('a', 'x', 'y'), rule('b', 'y', 'z')], /field rule a: its V4 field y is another rule's legacy field/],
    ['a chain (earlier rule reads what a later one writes)', [rule('b', 'y', 'z'), rule('a', 'x', 'y')], /field rule a: its V4 field y is another rule's legacy field/],
    ['a move onto a removed field', [rule('a', 'x', 'service'), rule('s', 'service', null)], /its V4 field service is another rule's legacy field/],
    ['a cycle', [rule('a', 'x', 'y'), rule('b', 'y', 'x')], /another rule's legacy field/],
  ])('%s', (_what, table, message) => {
    expect(() => new FieldRules(table)).toThrow(message);
  });

  it('accepts the default table and a table with only a removed field', () => {
    expect(() => new FieldRules(loadConfig({ env: {} }).fieldRules)).not.toThrow();
    const removedOnly = new FieldRules([rule('fax-removed', 'fax', null)]);
    const err = gatewayErrorOf(() => toV4(removedOnly, { a: { FAX: 1 } }), 'SERVICE_PARAMETER_REMOVED');
    expect(err.message).toBe('The fax parameter was removed in User Management V4.');
    expect(toV4(removedOnly, { service: 1 }).body).toEqual({ service: 1 });
  });
});

describe('FieldRules.removedRuleFor / removedError', () => {
  it.each(['service', 'SERVICE', 'Service', 'sErVice'])('%s names the removed service rule', (name) => {
    expect(rules.removedRuleFor(name)?.id).toBe('service-removed');
  });

  it.each(['services', 'cid', 'email', '', 'service '])('%j is not a removed parameter', (name) => {
    expect(rules.removedRuleFor(name)).toBeNull();
  });

  it('builds the contract error for the service rule', () => {
    const found = rules.removedRuleFor('service');
    expect(found).not.toBeNull();
    if (found === null) return;
    const err = rules.removedError(found, 'query');
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('SERVICE_PARAMETER_REMOVED');
    expect(err.status).toBe(400);
    expect(err.message).toBe(SERVICE_REMOVED_MESSAGE);
    expect(err.detail).toBe('service-removed in query');
  });
});

describe('FieldRules round trip (property)', () => {
  const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
  const safeKey = fc.string({ maxLength: 8 }).filter((key) => !FORBIDDEN_KEYS.includes(key) && key.toLowerCase() !== 'service');

  const json = jsonArbitrary(safeKey);

  /** Top-level keys the rules read or write; generated on purpose below, never by chance. */
  const RULE_KEYS = ['cid', 'email', 'external_id', 'contact_details'];
  const otherFields = fc.dictionary(
    safeKey.filter((key) => !RULE_KEYS.includes(key)),
    json,
    { maxKeys: 5 },
  );
  /** contact_details never holds `email` (that is the V4-side name of the email rule). */
  const contactDetails: fc.Arbitrary<JsonValue> = fc.oneof(
    fc.dictionary(safeKey.filter((key) => key !== 'email'), json, { maxKeys: 3 }),
    json.filter((value) => !isJsonObject(value) || !Object.prototype.hasOwnProperty.call(value, 'email')),
  );

  const legacyBody: fc.Arbitrary<JsonObject> = fc
    .record({
      rest: otherFields,
      cid: fc.option(json, { nil: undefined }),
      email: fc.option(json, { nil: undefined }),
      contactDetails: fc.option(contactDetails, { nil: undefined }),
    })
    // An email beside a contact_details that is not an object is refused (CONFLICTING_FIELDS),
    // and an email beside an EMPTY contact_details cannot survive the round trip: V4 gets
    // contact_details: {email}, and on the way back the email moves out, leaving contact_details
    // empty, which is removed (V4 answers never carry an empty container the gateway made). So a
    // contact_details next to an email must be a non-empty object.
    .filter(({ email, contactDetails: cd }) => email === undefined || cd === undefined || (isJsonObject(cd) && Object.keys(cd).length > 0))
    .map(({ rest, cid, email, contactDetails: cd }) => {
      const body: JsonObject = { ...rest };
      if (cid !== undefined) body.cid = cid;
      if (email !== undefined) body.email = email;
      if (cd !== undefined) body.contact_details = cd;
      return body;
    });

  it('generated bodies hold no service key and no prototype key (sanity check of the generator)', () => {
    fc.assert(
      fc.property(legacyBody, (body) => {
        expect(findKey(body, (key) => key.toLowerCase() === 'service' || FORBIDDEN_KEYS.includes(key))).toBeNull();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  /** V4 answers with every rule field present or not, in any shape, optionally with an own `__proto__` key. */
  const v4AnswerText: fc.Arbitrary<string> = fc
    .record({
      rest: otherFields,
      externalId: fc.option(json, { nil: undefined }),
      contactDetails: fc.option(
        fc.oneof(
          fc.record({ others: fc.dictionary(safeKey.filter((key) => key !== 'email'), json, { maxKeys: 3 }), email: fc.option(json, { nil: undefined }) }).map(({ others, email }) => (email === undefined ? others : { ...others, email })),
          json,
        ),
        { nil: undefined },
      ),
      service: fc.option(json, { nil: undefined }),
      cid: fc.option(json, { nil: undefined }),
      email: fc.option(json, { nil: undefined }),
      proto: fc.option(json, { nil: undefined }),
    })
    .map(({ rest, externalId, contactDetails: cd, service, cid, email, proto }) => {
      const body: JsonObject = { ...rest };
      if (cid !== undefined) body.cid = cid;
      if (email !== undefined) body.email = email;
      if (externalId !== undefined) body.external_id = externalId;
      if (cd !== undefined) body.contact_details = cd;
      if (service !== undefined) body.service = service;
      const text = JSON.stringify(body);
      // JSON.parse makes `__proto__` an own key; object literals cannot, so it goes into the text.
      return proto === undefined ? text : `{"__proto__":${JSON.stringify(proto)}${text === '{}' ? '' : ','}${text.slice(1)}`;
    });

  it('toLegacy leaves no V4 name behind, or fails as UPSTREAM_ERROR, for any V4 answer', () => {
    let withProto = 0;
    fc.assert(
      fc.property(v4AnswerText, (text) => {
        if (text.startsWith('{"__proto__"')) withProto += 1;
        let legacy: JsonObject;
        try {
          legacy = rules.toLegacy(JSON.parse(text) as JsonObject);
        } catch (err) {
          expect(err instanceof GatewayError ? err.code : String(err)).toBe('UPSTREAM_ERROR');
          return;
        }
        expect(Object.hasOwn(legacy, 'external_id')).toBe(false);
        expect(Object.hasOwn(legacy, 'service')).toBe(false);
        const contact = legacy.contact_details;
        expect(isJsonObject(contact) && Object.hasOwn(contact, 'email')).toBe(false);
        // An own `__proto__` key never becomes the object's prototype.
        expect(Object.getPrototypeOf(legacy)).toBe(Object.prototype);
      }),
      { seed: 42, numRuns: 1000 },
    );
    expect(withProto).toBeGreaterThan(100);
  });

  it('legacy → V4 → legacy gives back the same body', () => {
    fc.assert(
      fc.property(legacyBody, (body) => {
        const v4 = toV4(rules, body).body;
        expect(v4).not.toHaveProperty('cid');
        expect(v4).not.toHaveProperty('email');
        const back = rules.toLegacy(v4);
        expect(jsonEqual(back, body)).toBe(true);
        expect(back).toEqual(body);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
