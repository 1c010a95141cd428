import { GatewayError } from '../errors';
import { isJsonObject, type JsonObject } from '../translation/json';
import { readUserEmail, readUserId, readUserPage, v4LookupPath, v4UserPath } from './adapter';
import { UpstreamFailure, type V4Client, type V4Request, type V4Response } from './client';
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

/** Users already parsed out of an answer: a check and the translation read the same answer once. */
const parsedUsers = new WeakMap<V4Response, JsonObject>();

export function parseUserAnswer(response: V4Response): JsonObject {
  const known = parsedUsers.get(response);
  if (known !== undefined) return known;
  const body = parseJsonAnswer(response);
  if (!isJsonObject(body)) throw new GatewayError('UPSTREAM_ERROR', 'V4 answered with something that is not a user; try again later.', { detail: 'user answer not an object' });
  parsedUsers.set(response, body);
  return body;
}

export type LookupResult = { readonly userId: string } | null;

/** Per-call facts every V4 request carries. */
export interface CallScope {
  readonly authorization: string;
  readonly requestId: string;
  readonly deadline: Deadline;
  /** Counts the V4 requests made for this legacy call (every attempt). */
  readonly tally: { calls: number };
}

/**
 * The V4 calls of a translated legacy call, with the retry rules of the contract: a read is
 * sent once more (within the deadline) when it cannot have reached V4 or went out on a stale
 * kept-alive socket; a write only when it cannot have reached V4. Failures become the
 * contract's errors; V4's own error answers become V4Answer (passed through unchanged).
 */
export class V4Api {
  /** Counts calls by kind, for the benchmarks and metrics. */
  readonly calls = { lookup: 0, read: 0, write: 0, retries: 0 };

  constructor(private readonly client: V4Client) {}

  async send(request: V4Request, scope: CallScope, kind: 'lookup' | 'read' | 'write' = request.method === 'GET' ? 'read' : 'write'): Promise<V4Response> {
    const write = kind === 'write';
    this.calls[kind] += 1;
    // A read gets half the time left, so that one retry after a timeout still fits the deadline.
    const attemptMs = write ? undefined : Math.max(1, Math.floor(scope.deadline.remainingMs() / 2));
    let response: V4Response;
    try {
      scope.tally.calls += 1;
      response = await this.client.send(request, scope.deadline, attemptMs);
    } catch (err) {
      if (!(err instanceof UpstreamFailure)) throw err;
      // Writes are resent only when V4 cannot have seen them; reads also after a stale
      // kept-alive socket or a timeout, as long as the deadline leaves room.
      const retryable = !err.sent || (!write && (err.staleSocket || err.kind === 'timeout'));
      if (!retryable || scope.deadline.expired()) throw upstreamError(err, write);
      this.calls.retries += 1;
      scope.tally.calls += 1;
      try {
        response = await this.client.send(request, scope.deadline);
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

  headers(scope: CallScope, withBody: boolean): Record<string, string> {
    const headers: Record<string, string> = { authorization: scope.authorization, 'x-request-id': scope.requestId, accept: 'application/json' };
    if (withBody) headers['content-type'] = 'application/json';
    return headers;
  }

  /** `GET …/users?email=E&limit=2`: the user_id of the one user holding `email`, null for none. */
  async lookup(normalisedEmail: string, scope: CallScope): Promise<LookupResult> {
    const response = await this.send({ method: 'GET', path: v4LookupPath(normalisedEmail), headers: this.headers(scope, false) }, scope, 'lookup');
    if (response.status !== 200) throw new V4Answer(response);
    const page = readUserPage(parseJsonAnswer(response));
    // V4's filter is trusted only as far as it agrees: a user whose email differs is not a match.
    const matches = page.users.filter((user) => readUserEmail(user)?.toLowerCase() === normalisedEmail);
    if (matches.length === 0) return null;
    if (matches.length > 1) {
      throw new GatewayError('AMBIGUOUS_EMAIL', 'V4 holds more than one user with this email, so the gateway cannot tell which one you mean; nothing was changed. Use the V4 API with the user_id.');
    }
    return { userId: readUserId(matches[0] as JsonObject) };
  }

  getUser(userId: string, scope: CallScope): Promise<V4Response> {
    return this.send({ method: 'GET', path: v4UserPath(userId), headers: this.headers(scope, false) }, scope);
  }
}
