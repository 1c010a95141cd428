import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors';
import type { JsonObject } from '../translation/json';
import { legacyLocation } from '../translation/routes';
import { readUserEmail, readUserId, V4_USERS_PATH, v4UserPath } from '../v4/adapter';
import { parseUserAnswer, V4Answer } from '../v4/api';
import type { V4Response } from '../v4/client';
import { sendEmpty, sendJson } from '../http/respond';
import type { LegacyCall, OperationDeps } from './context';
import { holdsEmail, notFoundIsGone, onResolvedUser, roundMs } from './resolve-user';

/** V4 answered a success: the user, translated back to the legacy shape. */
function sendLegacyUser(deps: OperationDeps, res: ServerResponse, response: V4Response): void {
  sendJson(res, response.status, deps.rules.toLegacy(parseUserAnswer(response)));
}

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

function isSuccess(response: V4Response): boolean {
  return response.status >= 200 && response.status < 300;
}

/** GET /api/management/user/{email} → GET …/users/{user_id}. */
export async function getUser(deps: OperationDeps, call: LegacyCall, res: ServerResponse): Promise<void> {
  const { response, userId } = await onResolvedUser(deps, call, { write: false, check: holdsEmail(call.email as string) }, (id) => {
    call.record.v4Method = 'GET';
    call.record.v4Path = v4UserPath(id);
    return deps.v4.getUser(id, call.scope);
  });
  call.record.v4Status = response.status;
  if (!isSuccess(response)) throw new V4Answer(response);
  await deps.resolver.remember(call.credential, call.email as string, userId);
  sendLegacyUser(deps, res, response);
}

/** POST /api/management/user → POST …/users; the new user's email is cached. */
export async function createUser(deps: OperationDeps, call: LegacyCall, res: ServerResponse): Promise<void> {
  call.record.v4Method = 'POST';
  call.record.v4Path = V4_USERS_PATH;
  const started = performance.now();
  const response = await deps.v4.send({ method: 'POST', path: V4_USERS_PATH, headers: deps.v4.headers(call.scope, true), body: JSON.stringify(call.v4Body) }, call.scope);
  call.record.forwardMs = roundMs(performance.now() - started);
  call.record.v4Status = response.status;
  if (!isSuccess(response)) throw new V4Answer(response);
  const user = writtenUser(response);
  const email = readUserEmail(user);
  const headers: Record<string, string> = {};
  if (email !== undefined) {
    call.record.email = deps.privacy.forLog(email.toLowerCase());
    // The write happened: even an id that cannot be cached must not turn it into an error.
    try {
      await deps.resolver.remember(call.credential, email.toLowerCase(), readUserId(user));
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      call.record.reason = 'created user has no plain id; not cached';
    }
    headers.location = legacyLocation(email);
  }
  sendJson(res, response.status, deps.rules.toLegacy(user), headers);
}

/** PUT /api/management/user/{email} → PATCH …/users/{user_id}; an email change moves the cache entry. */
export async function updateUser(deps: OperationDeps, call: LegacyCall, res: ServerResponse): Promise<void> {
  const email = call.email as string;
  const body = JSON.stringify(call.v4Body);
  const { response, userId } = await onResolvedUser(deps, call, { write: true, check: notFoundIsGone }, (id) => {
    call.record.v4Method = 'PATCH';
    call.record.v4Path = v4UserPath(id);
    return deps.v4.send({ method: 'PATCH', path: v4UserPath(id), headers: deps.v4.headers(call.scope, true), body }, call.scope);
  });
  call.record.v4Status = response.status;
  if (!isSuccess(response)) throw new V4Answer(response);
  let user: JsonObject;
  try {
    user = writtenUser(response);
  } catch (err) {
    // Whether the email changed is unknown: the entry must not outlive that doubt.
    await deps.resolver.forget(call.credential, email);
    throw err;
  }
  const newEmail = readUserEmail(user)?.toLowerCase();
  if (newEmail !== undefined && newEmail !== email) {
    await deps.resolver.forget(call.credential, email);
    await deps.resolver.remember(call.credential, newEmail, userId);
  }
  sendJson(res, response.status, deps.rules.toLegacy(user));
}

/** DELETE /api/management/user/{email} → DELETE …/users/{user_id}; V4's status, entry dropped. */
export async function deleteUser(deps: OperationDeps, call: LegacyCall, res: ServerResponse): Promise<void> {
  const { response } = await onResolvedUser(deps, call, { write: true, check: notFoundIsGone }, (id) => {
    call.record.v4Method = 'DELETE';
    call.record.v4Path = v4UserPath(id);
    return deps.v4.send({ method: 'DELETE', path: v4UserPath(id), headers: deps.v4.headers(call.scope, false) }, call.scope);
  });
  call.record.v4Status = response.status;
  if (!isSuccess(response)) throw new V4Answer(response);
  await deps.resolver.forget(call.credential, call.email as string);
  if (response.status === 204 || response.body.length === 0) {
    sendEmpty(res, response.status);
    return;
  }
  // A 2xx with a body must at least be JSON: anything else is not an answer to vouch for.
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw unreadableWriteAnswer(response, 'not JSON');
  }
  sendJson(res, response.status, body);
}
