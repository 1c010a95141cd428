import { GatewayError } from '../errors';
import { userNotFound, type Resolved } from '../resolution/resolver';
import { readUserNormalisedEmail } from '../v4/adapter';
import { parseUserAnswer, roundMs, V4Answer } from '../v4/api';
import type { V4Response } from '../v4/client';
import type { OperationDeps, UserCall } from './context';

/**
 * Looks at V4's answer for a user_id: `gone` (404: nothing was read or written), `wrong-user`
 * (the user read no longer holds the email), or `ok`.
 */
export type Check = (response: V4Response) => 'ok' | 'gone' | 'wrong-user';

export const notFoundIsGone: Check = (response) => (response.status === 404 ? 'gone' : 'ok');

/** For reads by email: the user read must still hold the email (checked on the answer already in hand). */
export function holdsEmail(email: string): Check {
  return (response) => {
    if (response.status === 404) return 'gone';
    if (response.status !== 200) return 'ok';
    return readUserNormalisedEmail(parseUserAnswer(response)) === email ? 'ok' : 'wrong-user';
  };
}

/**
 * The resolver's answer, its time (waits on a shared lookup included) in the record's lookup_ms.
 * A hit in this process's cache is answered without a promise: it is most calls, and each
 * promise and turn it would wait is time on every one of them.
 */
function resolveTimed(deps: OperationDeps, call: UserCall): Resolved | Promise<Resolved> {
  const started = performance.now();
  const hit = deps.resolver.hit(call.credential, call.email);
  if (hit === undefined) return resolveByLookup(deps, call, started);
  call.record.lookupMs = roundMs((call.record.lookupMs ?? 0) + performance.now() - started);
  return hit;
}

async function resolveByLookup(deps: OperationDeps, call: UserCall, started: number): Promise<Resolved> {
  try {
    return await deps.resolver.resolve(call.credential, call.email, call.scope);
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'USER_NOT_FOUND') call.record.resolution = 'not_found';
    if (err instanceof GatewayError && err.code === 'AMBIGUOUS_EMAIL') call.record.resolution = 'ambiguous';
    throw err;
  } finally {
    call.record.lookupMs = roundMs((call.record.lookupMs ?? 0) + performance.now() - started);
  }
}

/** Reads the cached user by id before a write: does it still hold the email? */
async function stillHoldsEmail(deps: OperationDeps, call: UserCall, userId: string): Promise<boolean> {
  deps.resolver.stats.verifications += 1;
  const response = await deps.v4.verify(userId, call.scope);
  if (response.status === 404) return false;
  if (response.status !== 200) throw new V4Answer(response);
  return readUserNormalisedEmail(parseUserAnswer(response)) === call.email;
}

/**
 * Runs `action` against the user_id of the call's email, so that nothing is ever done to a user
 * that does not hold the email:
 * - a write with an id from the cache first reads that user and drops the entry if the email
 *   moved (VERIFY_CACHED_WRITES);
 * - an id from the cache that the action finds gone (`check`) is dropped, looked up once more,
 *   and the action retried once. An id from a lookup in this call is never retried.
 */
export async function onResolvedUser(
  deps: OperationDeps,
  call: UserCall,
  options: { write: boolean; check: Check },
  action: (userId: string) => Promise<V4Response>,
): Promise<{ userId: string; response: V4Response }> {
  const { email } = call;
  const first = resolveTimed(deps, call);
  let resolved = first instanceof Promise ? await first : first;
  call.record.resolution = resolved.outcome;
  if (resolved.fromCache && options.write && deps.verifyCachedWrites) {
    if (await stillHoldsEmail(deps, call, resolved.userId)) {
      call.record.resolution = 'verified';
    } else {
      deps.resolver.stats.verificationMismatches += 1;
      await deps.resolver.forget(call.credential, email);
      resolved = await resolveTimed(deps, call);
      call.record.resolution = resolved.outcome;
    }
  }
  let response = await action(resolved.userId);
  let verdict = options.check(response);
  if (verdict !== 'ok' && resolved.fromCache) {
    await deps.resolver.forget(call.credential, email);
    deps.resolver.stats.selfHeals += 1;
    resolved = await resolveTimed(deps, call);
    call.record.resolution = 'healed';
    response = await action(resolved.userId);
    verdict = options.check(response);
  }
  if (verdict !== 'ok') {
    await deps.resolver.forget(call.credential, email);
    // A 404 from V4 goes to the client as V4 said it; a user that moved away is simply not found.
    if (verdict === 'wrong-user') throw userNotFound();
  }
  return { userId: resolved.userId, response };
}
