import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors';
import { parseEmailSegment, normaliseEmail } from '../translation/email';
import { baseParameterName, parseQuery, uniqueParameters } from '../translation/query';
import type { LegacyPathMatch, LegacyRouteId } from '../translation/routes';
import type { CallScope } from '../v4/api';
import { Deadline } from '../v4/deadline';
import type { BodyCall, LegacyCall, OperationDeps, UserCall } from '../operations/context';
import { emptyAnswer, type LegacyAnswer } from '../operations/legacy-answer';
import { listUsers } from '../operations/list-users';
import { createUser, deleteUser, getUser, updateUser } from '../operations/user-operations';
import { missingCredentials } from './credentials';
import { readJsonBody } from './read-body';
import type { RequestState } from './request-state';
import { writeAnswer } from './write-answer';

type Operation = (deps: OperationDeps, call: LegacyCall) => Promise<LegacyAnswer>;

/** A call the route table says is on `/{email}` carries one; anything else is a gateway bug. */
function userCall(call: LegacyCall): UserCall {
  if (call.email === undefined) throw new Error('a user route reached its operation without an email');
  return call as UserCall;
}

function bodyCall(call: LegacyCall): BodyCall {
  if (call.v4Body === undefined) throw new Error('a route with a body reached its operation without one');
  return call as BodyCall;
}

function userBodyCall(call: LegacyCall): UserCall & BodyCall {
  userCall(call);
  bodyCall(call);
  return call as UserCall & BodyCall;
}

const OPERATIONS: Record<LegacyRouteId, Operation> = {
  'list-users': listUsers,
  'get-user': (deps, call) => getUser(deps, userCall(call)),
  'create-user': (deps, call) => createUser(deps, bodyCall(call)),
  'update-user': (deps, call) => updateUser(deps, userBodyCall(call)),
  'delete-user': (deps, call) => deleteUser(deps, userCall(call)),
};

export interface LegacyStageOptions {
  readonly deps: OperationDeps;
  readonly bodyLimitBytes: number;
  readonly upstreamTimeoutMs: number;
}

/**
 * A legacy call, from its matched route to the answer on the wire. Everything that can refuse
 * the call without V4 runs first, in the contract's order (method, removed parameters, query,
 * email, body, credentials), so that nothing reaches V4 that should not; then the operation
 * resolves, forwards and answers with a value, which the one writer puts on the wire.
 */
export function legacyStage(options: LegacyStageOptions) {
  const { deps } = options;
  return async (req: IncomingMessage, res: ServerResponse, state: RequestState, match: LegacyPathMatch, rawQuery: string): Promise<void> => {
    const record = state.record;
    record.legacyPath = match.template;
    if (match.kind !== 'route') {
      record.route = 'legacy-' + match.kind;
      if (match.kind === 'options') {
        await writeAnswer(res, emptyAnswer(204, { allow: match.allow }), false);
        return;
      }
      throw new GatewayError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not offered on ${match.template}; use ${match.allow}.`, { headers: { allow: match.allow } });
    }
    const { route } = match;
    record.route = route.id;

    const pairs = parseQuery(rawQuery);
    for (const [key] of pairs) {
      const removed = deps.rules.removedRuleFor(baseParameterName(key));
      if (removed !== null) throw deps.rules.removedError(removed, 'query');
    }
    const query = uniqueParameters(pairs);

    let email: string | undefined;
    if (match.emailSegment !== null) {
      email = normaliseEmail(parseEmailSegment(match.emailSegment));
      record.email = deps.privacy.forLog(email);
    }

    let v4Body;
    if (route.takesBody) {
      const translation = deps.rules.requestToV4(await readJsonBody(req, options.bodyLimitBytes));
      v4Body = translation.body;
      record.rules.push(...translation.applied);
    }

    const { authorization, credential } = state;
    if (authorization === null || credential === undefined) throw missingCredentials();
    const scope: CallScope = { authorization, requestId: state.requestId, deadline: new Deadline(options.upstreamTimeoutMs), trace: record };
    const answer = await OPERATIONS[route.id](deps, { scope, credential, record, query, email, v4Body });
    await writeAnswer(res, answer, match.head);
  };
}
