// How a stored (V4-shaped) user looks through the legacy API: the project's own field-rule
// table applied V4 → legacy (so `cid`, top-level `email`), keys in the contract's order, and the
// legacy-only `service` the legacy backend still keeps. Sharing the rule table means equal data
// gives equal answers; a bug in the table itself is therefore not something a shadow comparison
// against this simulator can find (a test can give the simulator another table to show one).
import type { FieldRules } from '../translation/field-rules';
import type { JsonObject, JsonValue } from '../translation/json';
import type { V4User } from '../v4-simulator';

/** The key order of the contract's worked example; other keys follow in their own order. */
const CONTRACT_ORDER = ['id', 'name', 'email', 'cid', 'user_flags', 'contact_details', 'registration_information', 'default_user_profile'];

export function legacyUserOf(user: V4User, rules: FieldRules, service: string | undefined): JsonObject {
  // A V4User is plain JSON (the cast only widens its static type); the translation works in
  // place, so it gets a copy: the stored user is the V4 simulator's.
  const translated = rules.toLegacy(structuredClone(user) as unknown as JsonObject);
  const ordered: JsonObject = {};
  for (const key of CONTRACT_ORDER) if (Object.hasOwn(translated, key)) ordered[key] = translated[key] as JsonValue;
  for (const key of Object.keys(translated)) if (!Object.hasOwn(ordered, key)) ordered[key] = translated[key] as JsonValue;
  if (service !== undefined) ordered.service = service;
  return ordered;
}
