// Building, merging and copying V4 users. Stored users are never mutated (an update builds a
// new object), so answers can be serialised straight from the store without a copy; the
// direct API hands out deep copies so callers cannot reach into the store.
import type { ContactInput, UserCreateInput, UserInput } from './validate';
import type { RegistrationState, V4User } from './types';

interface UserParts {
  id: string;
  name: string | undefined;
  user_flags: string[] | undefined;
  contact_details: ContactInput;
  registration_state: RegistrationState;
  registration_time: number;
  external_id: string | null | undefined;
  default_user_profile: { id: string; name: string };
}

function contact(email: string | undefined, telephone: string | undefined): ContactInput {
  const c: ContactInput = {};
  if (email !== undefined) c.email = email;
  if (telephone !== undefined) c.telephone_number_E123 = telephone;
  return c;
}

type Assembling = { -readonly [K in keyof V4User]?: V4User[K] };

/**
 * Fixes the key order of answers: id, name, user_flags, contact_details,
 * registration_information, external_id, default_user_profile. Built key by key rather than
 * with conditional spreads: seeding 100,000 users then allocates no throw-away objects.
 */
function assemble(p: UserParts): V4User {
  const u: Assembling = { id: p.id };
  if (p.name !== undefined) u.name = p.name;
  if (p.user_flags !== undefined) u.user_flags = p.user_flags;
  u.contact_details = p.contact_details;
  u.registration_information = { registration_state: p.registration_state, registration_time: p.registration_time };
  if (p.external_id !== undefined) u.external_id = p.external_id;
  u.default_user_profile = p.default_user_profile;
  return u as V4User; // every required key was set above
}

export function buildUser(id: string, profileId: string, input: UserCreateInput, nowSeconds: number): V4User {
  const email = input.contact_details.email;
  return assemble({
    id,
    name: input.name,
    user_flags: input.user_flags?.slice(),
    contact_details: contact(email, input.contact_details.telephone_number_E123),
    registration_state: input.registration_state ?? 'UNREGISTERED',
    registration_time: nowSeconds,
    external_id: input.external_id,
    // The profile is a resource of its own, created with the user: later renames do not touch it.
    default_user_profile: { id: profileId, name: input.name ?? email },
  });
}

/** PATCH semantics: given attributes replace, nested objects merge, arrays replace. */
export function mergeUser(current: V4User, patch: UserInput): V4User {
  const c = patch.contact_details;
  return assemble({
    id: current.id,
    name: patch.name ?? current.name,
    user_flags: patch.user_flags?.slice() ?? current.user_flags,
    contact_details:
      c === undefined
        ? current.contact_details
        : contact(c.email ?? current.contact_details.email, c.telephone_number_E123 ?? current.contact_details.telephone_number_E123),
    registration_state: patch.registration_state ?? current.registration_information.registration_state,
    registration_time: current.registration_information.registration_time,
    external_id: patch.external_id !== undefined ? patch.external_id : current.external_id,
    default_user_profile: current.default_user_profile,
  });
}

export function cloneUser(u: V4User): V4User {
  return assemble({
    id: u.id,
    name: u.name,
    user_flags: u.user_flags?.slice(),
    contact_details: { ...u.contact_details },
    registration_state: u.registration_information.registration_state,
    registration_time: u.registration_information.registration_time,
    external_id: u.external_id,
    default_user_profile: { ...u.default_user_profile },
  });
}
