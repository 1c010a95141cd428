import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../errors';
import { parseEmailSegment, normaliseEmail } from '../translation/email';
import { baseParameterName, parseQuery, uniqueParameters } from '../translation/query';
import { matchLegacyPath, type LegacyRouteId } from '../translation/routes';
import type { CallScope } from '../v4/api';
import { Deadline } from '../v4/deadline';
import type { LegacyCall, OperationDeps } from '../operations/context';
import { listUsers } from '../operations/list-users';
import { createUser, deleteUser, getUser, updateUser } from '../operations/user-operations';
import { missingCredentials } from './credentials';
import { readJsonBody } from './read-body';
import { sendEmpty } from './respond';
import type { RequestState } from './request-state';

type Operation = (deps: OperationDeps, call: LegacyCall, res: ServerResponse) => Promise<void>;

const OPERATIONS: Record<LegacyRouteId, Operation> = {
  'list-users': listUsers,
  'get-user': getUser,
  'create-user': createUser,
  'update-user': updateUser,
  'delete-user': deleteUser,
};

export interface LegacyHandlerOptions {
  readonly deps: OperationDeps;
  readonly bodyLimitBytes: number;
  readonly upstreamTimeoutMs: number;
}

/**
 * The stages of a legacy call, in the order the contract needs them: everything that can refuse
 * the call without V4 runs first (method, removed parameters, query, email, body, credentials),
 * so that nothing reaches V4 that should not; then the operation resolves and forwards.
 */
export function legacyHandler(options: LegacyHandlerOptions) {
  const { deps } = options;
  return async (req: IncomingMessage, res: ServerResponse, state: RequestState, path: string, rawQuery: string): Promise<void> => {
    const record = state.record;
    const match = matchLegacyPath(req.method ?? '', path);
    if (match.kind !== 'route') {
      record.route = 'legacy-' + match.kind;
      record.legacyPath = match.template;
      if (match.kind === 'options') {
        sendEmpty(res, 204, { allow: match.allow });
        return;
      }
      throw new GatewayError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not offered on ${match.template}; use ${match.allow}.`, { headers: { allow: match.allow } });
    }
    const { route } = match;
    record.route = route.id;
    record.legacyPath = route.template;

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
    if (route.id === 'create-user' || route.id === 'update-user') {
      const translation = deps.rules.parseRequest(await readJsonBody(req, options.bodyLimitBytes));
      v4Body = translation.body;
      record.rules.push(...translation.applied);
    }

    const { authorization, credential } = state;
    if (authorization === null || credential === undefined) throw missingCredentials();
    const scope: CallScope = { authorization, requestId: state.requestId, deadline: new Deadline(options.upstreamTimeoutMs), tally: { calls: 0 } };
    const call: LegacyCall = { scope, credential, record, head: match.head, query, email, v4Body };
    try {
      await OPERATIONS[route.id](deps, call, res);
    } finally {
      record.v4Calls = scope.tally.calls;
    }
  };
}
