// Strict validation of UserCreate / UserUpdate bodies (v4-openapi.yaml): every level has
// additionalProperties false, so anything a gateway forgets to translate (cid, service, ...)
// comes back as a 422 that names it. All problems are reported at once so a failing test
// shows the whole picture.
import { V4ApiError } from './errors';
import type { RegistrationState } from './types';

const USER_FLAGS: ReadonlySet<string> = new Set(['LICENSE_PURCHASE_RESTRICTED']);
const REGISTRATION_STATES: ReadonlySet<string> = new Set<RegistrationState>(['UNREGISTERED', 'REGISTERED']);
const EMAIL_MAX = 254;
const PASSWORD_MIN = 8;
/** Server-set attributes: named as read-only rather than unknown, which is the likelier mistake. */
const READ_ONLY = new Set(['id', 'default_user_profile', 'registration_time']);

export interface ContactInput {
  email?: string;
  telephone_number_E123?: string;
}

/** A validated UserUpdate; absent attributes are undefined, `external_id: null` is kept. */
export interface UserInput {
  name?: string;
  user_flags?: string[];
  contact_details?: ContactInput;
  registration_state?: RegistrationState;
  external_id?: string | null;
  /** Only from UserCreate's security.user_password; never answered. */
  password?: string;
}

export interface UserCreateInput extends UserInput {
  contact_details: ContactInput & { email: string };
}

type Schema = 'UserCreate' | 'UserUpdate';
type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Code points, as JSON Schema's maxLength/minLength count them. */
function lengthOf(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** One `@` with something on both sides, no whitespace or control characters, ≤ 254. */
export function isPlausibleEmail(s: string): boolean {
  if (s.length > EMAIL_MAX && lengthOf(s) > EMAIL_MAX) return false;
  if (/[\s\p{Cc}]/u.test(s)) return false;
  const at = s.indexOf('@');
  return at > 0 && at === s.lastIndexOf('@') && at < s.length - 1;
}

function checkFlags(value: unknown, problems: string[]): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push('user_flags: must be an array');
    return undefined;
  }
  const flags: string[] = [];
  value.forEach((flag: unknown, i) => {
    if (typeof flag === 'string' && USER_FLAGS.has(flag)) flags.push(flag);
    else problems.push(`user_flags[${i}]: must be one of ${[...USER_FLAGS].join(', ')}`);
  });
  return flags;
}

function checkContact(value: unknown, schema: Schema, problems: string[]): ContactInput | undefined {
  if (!isJsonObject(value)) {
    problems.push('contact_details: must be an object');
    return undefined;
  }
  const contact: ContactInput = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (key === 'email') {
      if (typeof v !== 'string') problems.push('contact_details.email: must be a string');
      else if (!isPlausibleEmail(v)) problems.push('contact_details.email: must be one plausible email address of at most 254 characters');
      else contact.email = v;
    } else if (key === 'telephone_number_E123') {
      if (typeof v === 'string') contact.telephone_number_E123 = v;
      else problems.push('contact_details.telephone_number_E123: must be a string');
    } else {
      problems.push(`contact_details.${key}: unknown attribute`);
    }
  }
  if (schema === 'UserCreate' && !Object.hasOwn(value, 'email')) problems.push('contact_details.email: required');
  return contact;
}

function checkRegistration(value: unknown, problems: string[]): RegistrationState | undefined {
  if (!isJsonObject(value)) {
    problems.push('registration_information: must be an object');
    return undefined;
  }
  let state: RegistrationState | undefined;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (key === 'registration_state') {
      if (typeof v === 'string' && REGISTRATION_STATES.has(v)) state = v as RegistrationState;
      else problems.push(`registration_information.registration_state: must be one of ${[...REGISTRATION_STATES].join(', ')}`);
    } else if (key === 'registration_time') {
      problems.push('registration_information.registration_time: read-only, set by the server');
    } else {
      problems.push(`registration_information.${key}: unknown attribute`);
    }
  }
  return state;
}

function checkSecurity(value: unknown, problems: string[]): string | undefined {
  if (!isJsonObject(value)) {
    problems.push('security: must be an object');
    return undefined;
  }
  let password: string | undefined;
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (key !== 'user_password') problems.push(`security.${key}: unknown attribute`);
    else if (typeof v === 'string' && lengthOf(v) >= PASSWORD_MIN) password = v;
    else problems.push(`security.user_password: must be a string of at least ${PASSWORD_MIN} characters`);
  }
  return password;
}

function check(body: unknown, schema: Schema): UserInput {
  if (!isJsonObject(body)) {
    throw new V4ApiError(400, 'VALIDATION_FAILED', `The request body must be a JSON object (${schema}).`);
  }
  const problems: string[] = [];
  const input: UserInput = {};
  for (const key of Object.keys(body)) {
    const value = body[key];
    switch (key) {
      case 'name':
        if (typeof value === 'string') input.name = value;
        else problems.push('name: must be a string');
        break;
      case 'user_flags':
        input.user_flags = checkFlags(value, problems);
        break;
      case 'contact_details':
        input.contact_details = checkContact(value, schema, problems);
        break;
      case 'registration_information':
        input.registration_state = checkRegistration(value, problems);
        break;
      case 'external_id':
        if (value === null || typeof value === 'string') input.external_id = value;
        else problems.push('external_id: must be a string or null');
        break;
      case 'security':
        // UserUpdate has no security attribute (the password is set at creation only).
        if (schema === 'UserCreate') input.password = checkSecurity(value, problems);
        else problems.push(`security: unknown attribute (not in ${schema})`);
        break;
      default:
        problems.push(READ_ONLY.has(key) ? `${key}: read-only, set by the server` : `${key}: unknown attribute (not in ${schema})`);
    }
  }
  if (schema === 'UserCreate' && !Object.hasOwn(body, 'contact_details')) problems.push('contact_details: required');
  if (problems.length > 0) {
    throw new V4ApiError(422, 'VALIDATION_FAILED', `The request body does not match ${schema}: ${problems.join('; ')}.`);
  }
  return input;
}

/** Throws V4ApiError 400 (not an object) or 422 (schema violation). */
export function validateCreate(body: unknown): UserCreateInput {
  // check() guarantees contact_details.email for UserCreate; the cast records that fact.
  return check(body, 'UserCreate') as UserCreateInput;
}

/** Throws V4ApiError 400 (not an object) or 422 (schema violation). */
export function validateUpdate(body: unknown): UserInput {
  return check(body, 'UserUpdate');
}
