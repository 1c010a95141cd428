import { GatewayError, missingCredentials } from '../errors';
import { parseEmailSegment, normaliseEmail } from '../translation/email';
import type { JsonObject } from '../translation/json';
import { baseParameterName, parseQuery, uniqueParameters } from '../translation/query';
import type { LegacyPathMatch, LegacyRouteId } from '../translation/routes';
import type { CallScope } from '../v4/api';
import { Deadline } from '../v4/deadline';
import type { BodyCall, LegacyCall, OperationDeps, UserCall } from './context';
import { emptyAnswer, type LegacyAnswer } from './legacy-answer';
import { listUsers } from './list-users';
import type { TranslationRecord } from './translation-record';
import { createUser, deleteUser, getUser, updateUser } from './user-operations';

/** What the caller brought, as far as the checks need it. */
export interface CallInput {
  readonly method: string;
  readonly rawQuery: string;
  /** Reads the body as text; called only for routes that take one, after the cheaper checks passed. */
  readonly readBody: () => Promise<string>;
  readonly requestId: string;
  /** The Authorization V4 would get (the caller's, else the configured key), null for none. */
  readonly authorization: string | null;
  /** Its fingerprint: the client in logs, the tenant in the cache. */
  readonly credential: string | undefined;
  readonly record: TranslationRecord;
}

/** Each check as it passes, for `explain`; the live path passes none. */
export type CheckListener = (check: string, detail: string) => void;

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

type Operation = (deps: OperationDeps, call: LegacyCall) => Promise<LegacyAnswer>;

const OPERATIONS: Record<LegacyRouteId, Operation> = {
  'list-users': listUsers,
  'get-user': (deps, call) => getUser(deps, userCall(call)),
  'create-user': (deps, call) => createUser(deps, bodyCall(call)),
  'update-user': (deps, call) => updateUser(deps, userBodyCall(call)),
  'delete-user': (deps, call) => deleteUser(deps, userCall(call)),
};

/**
 * A matched legacy call, from its checks to its answer. Everything that can refuse the call
 * without V4 runs first, in the contract's order (method, removed parameters, query, email,
 * body, credentials), so that nothing reaches V4 that should not; then the route's operation
 * resolves, forwards and answers with a value. The live gateway and `explain` both run this.
 */
export async function answerLegacyCall(deps: OperationDeps, match: LegacyPathMatch, input: CallInput, deadlineMs: number, onCheck?: CheckListener): Promise<LegacyAnswer> {
  const { record } = input;
  record.legacyPath = match.template;
  if (match.kind !== 'route') {
    record.route = 'legacy-' + match.kind;
    if (match.kind === 'options') return emptyAnswer(204, { allow: match.allow });
    throw new GatewayError('METHOD_NOT_ALLOWED', `${input.method} is not offered on ${match.template}; use ${match.allow}.`, { headers: { allow: match.allow } });
  }
  const { route } = match;
  record.route = route.id;
  onCheck?.('route', `${input.method} ${match.template} is the legacy route ${route.id}`);

  const pairs = parseQuery(input.rawQuery);
  for (const [key] of pairs) {
    const removed = deps.rules.removedRuleFor(baseParameterName(key));
    if (removed !== null) throw deps.rules.removedError(removed, 'query');
  }
  const query = uniqueParameters(pairs);
  onCheck?.('query', pairs.length === 0 ? 'no query parameters' : `no removed parameter, none given twice (${[...query.keys()].join(', ')})`);

  let email: string | undefined;
  if (match.emailSegment !== null) {
    email = normaliseEmail(parseEmailSegment(match.emailSegment));
    record.email = deps.privacy.forLog(email);
    onCheck?.('email', `the path segment decodes once to one plausible address, compared as ${JSON.stringify(email)}`);
  }

  let v4Body: JsonObject | undefined;
  if (route.takesBody) {
    const translation = deps.rules.requestToV4(await input.readBody());
    v4Body = translation.body;
    record.rules.push(...translation.applied);
    onCheck?.('body', `one JSON object, no removed field at any depth, no conflicting names; rules applied: ${translation.applied.join(', ') || 'none'}`);
  }

  const { authorization, credential } = input;
  if (authorization === null || credential === undefined) {
    throw missingCredentials();
  }
  onCheck?.('credentials', 'an Authorization for V4 (the caller\'s, else the configured key)');
  const scope: CallScope = { authorization, requestId: input.requestId, deadline: new Deadline(deadlineMs), trace: record };
  // `return await`: an async function that returns a promise waits two more turns for it.
  return await OPERATIONS[route.id](deps, { scope, credential, record, query, email, v4Body });
}
