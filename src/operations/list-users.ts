import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors';
import { describeParameter } from '../translation/query';
import { emailProblem, invalidEmail } from '../translation/email';
import { readUserPage, V4_MAX_PAGE_LIMIT, v4IndexPath, type IndexQuery, type UserPage } from '../v4/adapter';
import { parseJsonAnswer, V4Answer } from '../v4/api';
import { sendJson } from '../http/respond';
import { Deadline } from '../v4/deadline';
import type { LegacyCall, OperationDeps } from './context';
import { roundMs } from './resolve-user';

/** The legacy list's query parameters; `cid` is the legacy name of V4's `external_id` filter. */
const LIST_PARAMETERS = new Set(['email', 'cid', 'offset', 'limit']);
const MAX_OFFSET = 1_000_000_000;

function integerParameter(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > MAX_OFFSET) {
    throw new GatewayError('INVALID_QUERY', `The query parameter ${name} must be a whole number of at least ${min}.`);
  }
  return Number(value);
}

interface ListPlan {
  readonly filters: IndexQuery;
  readonly offset: number;
  /** How many users the client asked for; undefined: all of them. */
  readonly want: number | undefined;
  /** The contract's `?email=E` is one V4 call with that filter, as it came. */
  readonly single: boolean;
}

function planList(query: ReadonlyMap<string, string>): ListPlan {
  for (const name of query.keys()) {
    if (!LIST_PARAMETERS.has(name)) {
      throw new GatewayError('INVALID_QUERY', `The query parameter ${describeParameter(name)} is not supported; use email, cid, offset and limit.`);
    }
  }
  const email = query.get('email');
  if (email !== undefined) {
    const problem = emailProblem(email);
    if (problem !== null) throw invalidEmail(problem);
  }
  const filters: IndexQuery = { email, externalId: query.get('cid') };
  const offset = integerParameter('offset', query.get('offset'), 0);
  const limit = integerParameter('limit', query.get('limit'), 1);
  const paged = offset !== undefined || limit !== undefined;
  return { filters, offset: offset ?? 0, want: limit, single: !paged && email !== undefined };
}

/**
 * GET /api/management/user: V4's index translated to a legacy array. With offset/limit (limit up
 * to V4's page size) it is one V4 page; without, every page in order, streamed page by page so
 * memory stays flat however many users there are. A failure after the first byte cuts the
 * connection: a client never takes a truncated array for the whole list.
 */
export async function listUsers(deps: OperationDeps, call: LegacyCall, res: ServerResponse): Promise<void> {
  const plan = planList(call.query);
  call.record.v4Method = 'GET';
  if (plan.filters.email !== undefined) call.record.email = deps.privacy.forLog(plan.filters.email.toLowerCase());
  const fetchPage = async (offset: number, limit: number | undefined): Promise<UserPage> => {
    const path = plan.single ? v4IndexPath(plan.filters) : v4IndexPath({ ...plan.filters, offset, limit });
    // The log gets the path with the email filter's value left out; the email goes in its own field.
    call.record.v4Path ??= plan.filters.email === undefined ? path : path.replace(/([?&]email=)[^&]*/, '$1{email}');
    const started = performance.now();
    // The first page spends from the call's deadline; each later page gets a deadline of its own,
    // since listing every user takes longer the more users there are, and the answer keeps moving.
    const scope = offset === plan.offset ? call.scope : { ...call.scope, deadline: new Deadline(deps.upstreamTimeoutMs) };
    const response = await deps.v4.send({ method: 'GET', path, headers: deps.v4.headers(scope, false) }, scope);
    call.record.forwardMs = roundMs((call.record.forwardMs ?? 0) + performance.now() - started);
    call.record.v4Status = response.status;
    if (response.status !== 200) throw new V4Answer(response);
    return readUserPage(parseJsonAnswer(response));
  };
  const pageSize = (taken: number): number => Math.min(V4_MAX_PAGE_LIMIT, plan.want === undefined ? V4_MAX_PAGE_LIMIT : plan.want - taken);

  const first = await fetchPage(plan.offset, plan.want === undefined || plan.want > V4_MAX_PAGE_LIMIT ? pageSize(0) : plan.want);
  // The page's users were parsed for this call alone: translated in place (see toLegacyInPlace).
  const toLegacy = (users: UserPage['users']): string => users.map((user) => JSON.stringify(deps.rules.toLegacyInPlace(user))).join(',');
  let taken = first.users.length;
  let offset = plan.offset + taken;
  const more = (): boolean => !plan.single && taken > 0 && offset < first.total && (plan.want === undefined || taken < plan.want);
  if (!more()) {
    sendJson(res, 200, first.users.map((user) => deps.rules.toLegacyInPlace(user)));
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (call.head) {
    res.end();
    return;
  }
  res.write('[' + toLegacy(first.users));
  let lastPageSize = first.users.length;
  while (lastPageSize > 0 && offset < first.total && (plan.want === undefined || taken < plan.want)) {
    const page = await fetchPage(offset, pageSize(taken));
    lastPageSize = page.users.length;
    if (lastPageSize > 0) {
      const chunk = toLegacy(page.users);
      // Respect the client's pace: wait for the socket to drain before asking V4 for more.
      if (!res.write(',' + chunk)) await drained(res);
      if (res.destroyed) return;
    }
    taken += lastPageSize;
    offset += lastPageSize;
  }
  res.end(']');
}

/** Resolves when the client can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.removeListener('drain', done);
      res.removeListener('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
