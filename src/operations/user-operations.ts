import { GatewayError } from '../errors';
import type { JsonObject, JsonValue } from '../translation/json';
import { legacyLocation } from '../translation/routes';
import { readUserId, readUserEmail } from '../v4/adapter';
import { parseUserAnswer, V4Answer } from '../v4/api';
import type { V4Response } from '../v4/client';
import { normaliseEmail } from '../translation/email';
import type { BodyCall, OperationDeps, UserCall } from './context';
import { emptyAnswer, jsonAnswer, type LegacyAnswer } from './legacy-answer';
import { holdsEmail, notFoundIsGone, onResolvedUser } from './resolve-user';

/**
 * The user V4 answered a successful write with. An unreadable "success" is not one the gateway
 * can vouch for (a broken V4 or something in between may have answered): 502, outcome unknown.
 */
function writtenUser(response: V4Response): JsonObject {
  try {
    return parseUserAnswer(response);
  } catch (err) {
    if (err instanceof GatewayError) throw unreadableWriteAnswer(response, err.detail ?? err.message);
    throw err;
  }
}

function unreadableWriteAnswer(response: V4Response, what: string): GatewayError {
  return new GatewayError('UPSTREAM_ERROR', 'V4 answered the change with something the gateway cannot read; it may or may not have been applied: read the user before repeating it.', {
    detail: `V4 ${response.status} with an unreadable answer (${what}); the write may have been applied (outcome unknown)`,
    outcomeUnknown: true,
  });
}

/** V4's error answers reach the legacy client unchanged (thrown, written by the error writer). */
function requireSuccess(response: V4Response): void {
  if (response.status < 200 || response.status >= 300) throw new V4Answer(response);
}

/**
 * GET /api/management/user/{email} → GET …/users/{user_id}. A read writes nothing to the cache:
 * resolution already holds the id it used (a hit, or the lookup it made), and putting it back
 * after V4 answered could undo a write that moved the email meanwhile (and, on Redis, would
 * send the whole fleet an invalidation for every read).
 */
export async function getUser(deps: OperationDeps, call: UserCall): Promise<LegacyAnswer> {
  const { response } = await onResolvedUser(deps, call, { write: false, check: holdsEmail(call.email) }, (id) => deps.v4.getUser(id, call.scope));
  requireSuccess(response);
  return jsonAnswer(response.status, deps.rules.toLegacy(parseUserAnswer(response)));
}

/** POST /api/management/user → POST …/users; the new user's email is cached. */
export async function createUser(deps: OperationDeps, call: BodyCall): Promise<LegacyAnswer> {
  const response = await deps.v4.create(call.v4Body, call.scope);
  requireSuccess(response);
  const user = writtenUser(response);
  const email = readUserEmail(user);
  let headers: Record<string, string> | undefined;
  if (email !== undefined) {
    const normalised = normaliseEmail(email);
    call.record.email = deps.privacy.forLog(normalised);
    // The write happened: even an id that cannot be cached must not turn it into an error.
    try {
      await deps.resolver.remember(call.credential, normalised, readUserId(user));
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      call.record.reason = 'created user has no plain id; not cached';
    }
    headers = { location: legacyLocation(email) };
  }
  return jsonAnswer(response.status, deps.rules.toLegacy(user), headers);
}

/** PUT /api/management/user/{email} → PATCH …/users/{user_id}; an email change moves the cache entry. */
export async function updateUser(deps: OperationDeps, call: UserCall & BodyCall): Promise<LegacyAnswer> {
  const { response, userId } = await onResolvedUser(deps, call, { write: true, check: notFoundIsGone }, (id) => deps.v4.patch(id, call.v4Body, call.scope));
  requireSuccess(response);
  let user: JsonObject;
  try {
    user = writtenUser(response);
  } catch (err) {
    // Whether the email changed is unknown: the entry must not outlive that doubt.
    await deps.resolver.forget(call.credential, call.email);
    throw err;
  }
  const written = readUserEmail(user);
  const newEmail = written === undefined ? undefined : normaliseEmail(written);
  if (newEmail !== undefined && newEmail !== call.email) {
    await deps.resolver.forget(call.credential, call.email);
    await deps.resolver.remember(call.credential, newEmail, userId);
  }
  return jsonAnswer(response.status, deps.rules.toLegacy(user));
}

/** DELETE /api/management/user/{email} → DELETE …/users/{user_id}; V4's status, entry dropped. */
export async function deleteUser(deps: OperationDeps, call: UserCall): Promise<LegacyAnswer> {
  const { response } = await onResolvedUser(deps, call, { write: true, check: notFoundIsGone }, (id) => deps.v4.delete(id, call.scope));
  requireSuccess(response);
  await deps.resolver.forget(call.credential, call.email);
  if (response.status === 204 || response.body.length === 0) return emptyAnswer(response.status);
  // A 2xx with a body must at least be JSON: anything else is not an answer to vouch for.
  let body: JsonValue;
  try {
    body = JSON.parse(response.body.toString('utf8')) as JsonValue;
  } catch {
    throw unreadableWriteAnswer(response, 'not JSON');
  }
  return jsonAnswer(response.status, body);
}
