// The legacy answers of the gateway's own path as the comparison reads them: status and JSON
// body, for answers (lists included, collected up to a bound) and for refusals (the envelope
// the error writer would write, or V4's own error passed through).
import { isGatewayError } from '../errors';
import type { LegacyAnswer } from '../operations/legacy-answer';
import type { JsonValue } from '../translation/json';
import { V4Answer } from '../v4/api';
import { ShadowFailure, type ShadowAnswer } from './types';

/** A list longer than this is not compared: holding it whole would cost what streaming saves. */
export const MAX_COMPARED_USERS = 10_000;

/** An answer as a comparable value; a list's pages are read to the end (at most MAX_COMPARED_USERS users). */
export async function comparableAnswer(answer: LegacyAnswer, signal?: AbortSignal): Promise<ShadowAnswer> {
  const { body } = answer;
  if (body.kind === 'none') return { status: answer.status, body: undefined };
  if (body.kind === 'json') return { status: answer.status, body: body.value };
  const users: JsonValue[] = [];
  for await (const page of body.pages) {
    // The comparison's deadline passed: no more pages are fetched for it.
    if (signal?.aborted === true) throw new ShadowFailure('timeout', 'aborted at the deadline');
    if (users.length + page.length > MAX_COMPARED_USERS) throw new ShadowFailure('too_large', `a list of more than ${MAX_COMPARED_USERS} users is not compared`);
    users.push(...page);
  }
  return { status: answer.status, body: users };
}

/** What the client got for a refused call, as a comparable value; null for a failure that is no answer (a bug). */
export function comparableError(err: unknown, requestId: string): ShadowAnswer | null {
  if (err instanceof V4Answer) {
    const text = err.response.body.toString('utf8');
    try {
      return { status: err.response.status, body: text === '' ? undefined : (JSON.parse(text) as JsonValue) };
    } catch {
      return { status: err.response.status, body: text };
    }
  }
  if (isGatewayError(err)) return { status: err.status, body: { error: { code: err.code, message: err.message, request_id: requestId } } };
  return null;
}

/** An answer's outcome (value or refusal) as a comparable value, for a side that is the shadow. */
export async function comparableOutcome(run: () => Promise<LegacyAnswer>, requestId: string, signal?: AbortSignal): Promise<ShadowAnswer> {
  let answer: LegacyAnswer;
  try {
    answer = await run();
  } catch (err) {
    const refused = comparableError(err, requestId);
    if (refused === null) throw err;
    return refused;
  }
  return comparableAnswer(answer, signal);
}

/**
 * The pages of a streamed answer, passed on unchanged to the writer and kept (up to
 * MAX_COMPARED_USERS users) for the comparison, which gets them once the last page was read.
 */
export function tapPages<T extends JsonValue>(pages: AsyncIterable<readonly T[]>, done: (users: T[] | null) => void): AsyncIterable<readonly T[]> {
  return {
    async *[Symbol.asyncIterator]() {
      let kept: T[] | null = [];
      let finished = false;
      try {
        for await (const page of pages) {
          if (kept !== null) {
            if (kept.length + page.length > MAX_COMPARED_USERS) kept = null;
            else kept.push(...page);
          }
          yield page;
        }
        finished = true;
      } finally {
        // A list the client left half-way, or one that failed, is not compared.
        done(finished ? kept : null);
      }
    },
  };
}
