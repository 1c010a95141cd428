import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationDeps } from '../operations/context';
import { answerLegacyCall } from '../operations/answer-legacy-call';
import type { LegacyAnswer } from '../operations/legacy-answer';
import type { LegacyPathMatch } from '../translation/routes';
import { readJsonBody } from './read-body';
import type { RequestState } from './request-state';
import type { Shadowing } from './shadowing';
import { writeAnswer } from './write-answer';

export interface LegacyStageOptions {
  readonly deps: OperationDeps;
  /** The shadow comparison in v4-primary mode (told each answer and refusal), null when off. */
  readonly shadowing: Shadowing | null;
  readonly bodyLimitBytes: number;
  readonly upstreamTimeoutMs: number;
}

/**
 * A legacy call on the wire: its checks and operation (operations/answer-legacy-call.ts, which
 * `explain` runs too) with the body read from the request, then the answer written.
 */
export function legacyStage(options: LegacyStageOptions) {
  const { deps, bodyLimitBytes, upstreamTimeoutMs, shadowing } = options;
  return async (req: IncomingMessage, res: ServerResponse, state: RequestState, match: LegacyPathMatch, rawQuery: string): Promise<void> => {
    const answering = answerLegacyCall(
      deps,
      match,
      {
        method: req.method ?? '',
        rawQuery,
        readBody: () => readJsonBody(req, bodyLimitBytes),
        requestId: state.requestId,
        authorization: state.authorization,
        credential: state.credential,
        record: state.record,
      },
      upstreamTimeoutMs,
    );
    let answer: LegacyAnswer;
    if (shadowing === null) {
      answer = await answering;
    } else {
      try {
        answer = shadowing.afterAnswer(req, state, match, await answering);
      } catch (err) {
        shadowing.afterRefusal(req, state, match, err);
        throw err;
      }
    }
    const streaming = writeAnswer(res, answer, match.kind === 'route' && match.head);
    if (streaming !== null) await streaming;
  };
}
