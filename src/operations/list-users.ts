import { GatewayError } from '../errors';
import { describeParameter } from '../translation/query';
import { emailProblem, invalidEmail, normaliseEmail } from '../translation/email';
import type { JsonObject } from '../translation/json';
import { legacyRoute } from '../translation/routes';
import { readUserPage, V4_MAX_PAGE_LIMIT, type UserPage } from '../v4/adapter';
import { parseJsonAnswer, V4Answer } from '../v4/api';
import { Deadline } from '../v4/deadline';
import type { LegacyCall, OperationDeps } from './context';
import { jsonAnswer, pagesAnswer, type LegacyAnswer } from './legacy-answer';

/** The list's filters (legacy name → V4 name, from the route table) and its paging parameters. */
const FILTERS = Object.entries(legacyRoute('list-users').v4.query ?? {});
const PAGING = ['offset', 'limit'];
const LIST_PARAMETERS = new Set([...FILTERS.map(([legacy]) => legacy), ...PAGING]);
const SUPPORTED = [...LIST_PARAMETERS].join(', ');
const MAX_OFFSET = 1_000_000_000;

function integerParameter(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > MAX_OFFSET) {
    throw new GatewayError('INVALID_QUERY', `The query parameter ${name} must be a whole number of at least ${min}.`);
  }
  return Number(value);
}

interface ListPlan {
  /** By their V4 names. */
  readonly filters: ReadonlyArray<readonly [string, string]>;
  /** The `email` filter, if any (it is checked, and logged in its privacy-safe form). */
  readonly email: string | undefined;
  readonly offset: number;
  /** How many users the client asked for; undefined: all of them. */
  readonly want: number | undefined;
  /** The contract's `?email=E` is one V4 call with that filter, as it came. */
  readonly single: boolean;
}

function planList(query: ReadonlyMap<string, string>): ListPlan {
  for (const name of query.keys()) {
    if (!LIST_PARAMETERS.has(name)) {
      throw new GatewayError('INVALID_QUERY', `The query parameter ${describeParameter(name)} is not supported; use ${SUPPORTED}.`);
    }
  }
  const email = query.get('email');
  if (email !== undefined) {
    const problem = emailProblem(email);
    if (problem !== null) throw invalidEmail(problem);
  }
  const filters: Array<readonly [string, string]> = [];
  for (const [legacy, v4] of FILTERS) {
    const value = query.get(legacy);
    if (value !== undefined) filters.push([v4, value]);
  }
  const offset = integerParameter('offset', query.get('offset'), 0);
  const limit = integerParameter('limit', query.get('limit'), 1);
  const paged = offset !== undefined || limit !== undefined;
  return { filters, email, offset: offset ?? 0, want: limit, single: !paged && email !== undefined };
}

/**
 * GET /api/management/user: V4's index translated to a legacy array. With offset/limit (limit up
 * to V4's page size) it is one V4 page; without, every page in order, answered as pages that are
 * fetched only as the writer asks for them, so memory stays flat however many users there are.
 * A failure after the first byte cuts the connection (the writer's rule): a client never takes a
 * truncated array for the whole list.
 */
export async function listUsers(deps: OperationDeps, call: LegacyCall): Promise<LegacyAnswer> {
  const plan = planList(call.query);
  if (plan.email !== undefined) call.record.email = deps.privacy.forLog(normaliseEmail(plan.email));
  const fetchPage = async (offset: number, limit: number | undefined): Promise<UserPage> => {
    // The first page spends from the call's deadline; each later page gets a deadline of its own,
    // since listing every user takes longer the more users there are, and the answer keeps moving.
    const scope = offset === plan.offset ? call.scope : { ...call.scope, deadline: new Deadline(deps.upstreamTimeoutMs) };
    const response = await deps.v4.page(plan.single ? { filters: plan.filters } : { filters: plan.filters, offset, limit }, scope);
    if (response.status !== 200) throw new V4Answer(response);
    return readUserPage(parseJsonAnswer(response));
  };
  const pageSize = (taken: number): number => Math.min(V4_MAX_PAGE_LIMIT, plan.want === undefined ? V4_MAX_PAGE_LIMIT : plan.want - taken);
  // The page's users were parsed for this call alone: translated into the same array.
  const toLegacy = (users: JsonObject[]): JsonObject[] => {
    for (let i = 0; i < users.length; i += 1) users[i] = deps.rules.toLegacy(users[i] as JsonObject);
    return users;
  };

  const first = await fetchPage(plan.offset, plan.want === undefined || plan.want > V4_MAX_PAGE_LIMIT ? pageSize(0) : plan.want);
  const firstTaken = first.users.length;
  const wantsMore = (taken: number, offset: number): boolean => taken > 0 && offset < first.total && (plan.want === undefined || taken < plan.want);
  if (plan.single || !wantsMore(firstTaken, plan.offset + firstTaken)) return jsonAnswer(200, toLegacy(first.users));

  async function* pages(): AsyncGenerator<JsonObject[]> {
    yield toLegacy(first.users);
    let taken = firstTaken;
    let offset = plan.offset + taken;
    let lastPageSize = firstTaken;
    while (lastPageSize > 0 && wantsMore(taken, offset)) {
      const page = await fetchPage(offset, pageSize(taken));
      lastPageSize = page.users.length;
      if (lastPageSize > 0) yield toLegacy(page.users);
      taken += lastPageSize;
      offset += lastPageSize;
    }
  }
  return pagesAnswer(pages());
}
