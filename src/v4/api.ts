import { GatewayError } from '../errors';
import { isJsonObject, type JsonObject } from '../translation/json';
import { legacyRoute, type V4Endpoint } from '../translation/routes';
import { expandV4Path, readUserId, readUserNormalisedEmail, readUserPage, v4IndexPath, v4LookupPath, v4UserPath, type IndexQuery } from './adapter';
import { UpstreamFailure, type V4Method, type V4Request, type V4Response, type V4Transport } from './client';
import type { Deadline } from './deadline';

/** V4 answered, and its answer (an error status) goes to the legacy client unchanged. */
export class V4Answer extends Error {
  constructor(readonly response: V4Response) {
    super(`V4 answered ${response.status}`);
    this.name = 'V4Answer';
  }
}

/** What one failed call becomes for the client; a write that may have reached V4 says so. */
export function upstreamError(failure: UpstreamFailure, write: boolean): GatewayError {
  const outcomeUnknown = write && failure.sent;
  const detail = `${failure.kind}: ${failure.message}${outcomeUnknown ? '; the write may have been applied (outcome unknown)' : ''}`;
  if (failure.kind === 'timeout') {
    return new GatewayError('UPSTREAM_TIMEOUT', 'V4 did not answer in time; try again later.' + (outcomeUnknown ? ' The change may or may not have been applied: read the user before repeating it.' : ''), {
      detail,
      outcomeUnknown,
      cause: failure,
    });
  }
  return new GatewayError('UPSTREAM_ERROR', 'V4 could not be reached or answered badly; try again later.' + (outcomeUnknown ? ' The change may or may not have been applied: read the user before repeating it.' : ''), {
    detail,
    outcomeUnknown,
    cause: failure,
  });
}

export function parseJsonAnswer(response: V4Response): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new GatewayError('UPSTREAM_ERROR', 'V4 answered with something that is not JSON; try again later.', { detail: `status ${response.status}, ${response.body.length} bytes not JSON` });
  }
}

/** The user in an answer, parsed once: a check and the translation read the same answer (kept on the answer itself). */
export function parseUserAnswer(response: V4Response): JsonObject {
  const known = response.parsedUser;
  if (known !== undefined) return known;
  const body = parseJsonAnswer(response);
  if (!isJsonObject(body)) throw new GatewayError('UPSTREAM_ERROR', 'V4 answered with something that is not a user; try again later.', { detail: 'user answer not an object' });
  response.parsedUser = body;
  return body;
}

export type LookupResult = { readonly userId: string } | null;

/**
 * What a legacy call's V4 requests leave in its log line (the translation record is one): the
 * named methods below fill it in themselves, so what is logged is what was sent.
 */
export interface V4Trace {
  /** Every V4 request made for the call (lookups, verifications, retries and the forward). */
  v4Calls: number;
  /** The forward: the request that carries the legacy call's meaning. */
  v4Method?: string;
  /** The forward's path (the user_id, never an email). */
  v4Path?: string;
  v4Status?: number;
  /** Time in the forward, all attempts. */
  forwardMs?: number;
  /** Time in resolution: lookups (timed by the operation, waits included) and verification reads. */
  lookupMs?: number;
}

/** Per-call facts every V4 request carries. */
export interface CallScope {
  readonly authorization: string;
  readonly requestId: string;
  readonly deadline: Deadline;
  readonly trace: V4Trace;
}

/** A trace nobody reads: for V4 calls that are not a legacy call's (warm-up). */
export function untracedScope(authorization: string, requestId: string, deadline: Deadline): CallScope {
  return { authorization, requestId, deadline, trace: { v4Calls: 0 } };
}

export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

type CallKind = 'lookup' | 'read' | 'write';

// The V4 calls of the legacy routes, as the route table says them.
const LIST_USERS = legacyRoute('list-users').v4;
const GET_USER = legacyRoute('get-user').v4;
const CREATE_USER = legacyRoute('create-user').v4;
const UPDATE_USER = legacyRoute('update-user').v4;
const DELETE_USER = legacyRoute('delete-user').v4;

/**
 * The V4 calls of a translated legacy call, one named method per call the gateway makes, with
 * the retry rules of the contract: a read is sent once more (within the deadline) when it cannot
 * have reached V4 or went out on a stale kept-alive socket; a write only when it cannot have
 * reached V4. Failures become the contract's errors; V4's own error answers become V4Answer
 * (passed through unchanged) where the caller throws them.
 */
export class V4Api {
  /** Counts calls by kind, for the benchmarks and metrics. */
  readonly calls = { lookup: 0, read: 0, write: 0, retries: 0 };

  /**
   * `pages`: the transport of the list's pages (the large answers: node:http, see
   * node-http-client.ts); every other call goes through `client`.
   */
  constructor(
    private readonly client: V4Transport,
    private readonly pages: V4Transport = client,
  ) {}

  /** `GET …/users?email=E&limit=2`: the user_id of the one user holding `email`, null for none. */
  async lookup(normalisedEmail: string, scope: CallScope): Promise<LookupResult> {
    const response = await this.send('GET', v4LookupPath(normalisedEmail), undefined, scope, 'lookup');
    if (response.status !== 200) throw new V4Answer(response);
    const page = readUserPage(parseJsonAnswer(response));
    // V4's filter is trusted only as far as it agrees: a user whose email differs is not a match.
    const matches = page.users.filter((user) => readUserNormalisedEmail(user) === normalisedEmail);
    if (matches.length === 0) return null;
    if (matches.length > 1) {
      throw new GatewayError('AMBIGUOUS_EMAIL', 'V4 holds more than one user with this email, so the gateway cannot tell which one you mean; nothing was changed. Use the V4 API with the user_id.');
    }
    return { userId: readUserId(matches[0] as JsonObject) };
  }

  /** The read before a write with a cached id: part of resolution, not the forward. */
  async verify(userId: string, scope: CallScope): Promise<V4Response> {
    const started = performance.now();
    try {
      return await this.send('GET', v4UserPath(userId), undefined, scope, 'read');
    } finally {
      scope.trace.lookupMs = roundMs((scope.trace.lookupMs ?? 0) + performance.now() - started);
    }
  }

  /** The legacy GET by email's V4 call. */
  getUser(userId: string, scope: CallScope): Promise<V4Response> {
    return this.forward(GET_USER, userId, undefined, scope);
  }

  create(body: JsonObject, scope: CallScope): Promise<V4Response> {
    return this.forward(CREATE_USER, undefined, jsonBody(body), scope);
  }

  patch(userId: string, body: JsonObject, scope: CallScope): Promise<V4Response> {
    return this.forward(UPDATE_USER, userId, jsonBody(body), scope);
  }

  delete(userId: string, scope: CallScope): Promise<V4Response> {
    return this.forward(DELETE_USER, userId, undefined, scope);
  }

  /**
   * One page of the index (the legacy list). The trace keeps the first page's path, with an
   * email filter's value left out (the email has its own, privacy-safe field in the log).
   */
  page(query: IndexQuery, scope: CallScope): Promise<V4Response> {
    const path = v4IndexPath(query);
    scope.trace.v4Path ??= path.replace(/([?&]email=)[^&]*/, '$1{email}');
    return this.forward(LIST_USERS, undefined, undefined, scope, path, this.pages);
  }

  /** The request that carries the legacy call's meaning: its method, path, status and time are traced. */
  private async forward(endpoint: V4Endpoint, userId: string | undefined, body: Buffer | undefined, scope: CallScope, pathWithQuery?: string, transport = this.client): Promise<V4Response> {
    const trace = scope.trace;
    const path = pathWithQuery ?? expandV4Path(endpoint.path, userId);
    trace.v4Method = endpoint.method;
    if (pathWithQuery === undefined) trace.v4Path = path;
    const started = performance.now();
    try {
      const response = await this.send(endpoint.method, path, body, scope, endpoint.method === 'GET' ? 'read' : 'write', transport);
      trace.v4Status = response.status;
      return response;
    } finally {
      trace.forwardMs = roundMs((trace.forwardMs ?? 0) + performance.now() - started);
    }
  }

  private async send(method: V4Method, path: string, body: Buffer | undefined, scope: CallScope, kind: CallKind, transport = this.client): Promise<V4Response> {
    const request: V4Request = { method, path, headers: requestHeaders(scope, body !== undefined), body };
    const write = kind === 'write';
    this.calls[kind] += 1;
    // A read gets half the time left, so that one retry after a timeout still fits the deadline.
    const attemptMs = write ? undefined : Math.max(1, Math.floor(scope.deadline.remainingMs() / 2));
    let response: V4Response;
    try {
      scope.trace.v4Calls += 1;
      response = await transport.send(request, scope.deadline, attemptMs);
    } catch (err) {
      if (!(err instanceof UpstreamFailure)) throw err;
      // Writes are resent only when V4 cannot have seen them; reads also after a stale
      // kept-alive socket or a timeout, as long as the deadline leaves room.
      const retryable = !err.sent || (!write && (err.staleSocket || err.kind === 'timeout'));
      if (!retryable || scope.deadline.expired()) throw upstreamError(err, write);
      this.calls.retries += 1;
      scope.trace.v4Calls += 1;
      try {
        response = await transport.send(request, scope.deadline);
      } catch (second) {
        if (second instanceof UpstreamFailure) throw upstreamError(second, write);
        throw second;
      }
    }
    // Redirects are never followed, nor handed to a legacy client that might follow them past the gateway.
    if (response.status >= 300 && response.status < 400) {
      throw new GatewayError('UPSTREAM_ERROR', 'V4 answered with a redirect the gateway does not follow; try again later.', {
        detail: `V4 answered ${response.status} (redirect, not followed)${write ? '; the write may have been applied (outcome unknown)' : ''}`,
        outcomeUnknown: write,
      });
    }
    return response;
  }
}

/** A body as the bytes sent: encoded here once (its length is then known without measuring the text again). */
function jsonBody(body: JsonObject): Buffer {
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** Every V4 call's headers, as the flat list the transports take. */
function requestHeaders(scope: CallScope, withBody: boolean): string[] {
  return withBody
    ? ['authorization', scope.authorization, 'x-request-id', scope.requestId, 'accept', 'application/json', 'content-type', 'application/json']
    : ['authorization', scope.authorization, 'x-request-id', scope.requestId, 'accept', 'application/json'];
}
