import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationDeps } from '../operations/context';
import { answerLegacyCall } from '../operations/answer-legacy-call';
import type { LegacyPathMatch } from '../translation/routes';
import { readJsonBody } from './read-body';
import type { RequestState } from './request-state';
import { writeAnswer } from './write-answer';

export interface LegacyStageOptions {
  readonly deps: OperationDeps;
  readonly bodyLimitBytes: number;
  readonly upstreamTimeoutMs: number;
}

/**
 * A legacy call on the wire: its checks and operation (operations/answer-legacy-call.ts, which
 * `explain` runs too) with the body read from the request, then the answer written.
 */
export function legacyStage(options: LegacyStageOptions) {
  const { deps, bodyLimitBytes, upstreamTimeoutMs } = options;
  return async (req: IncomingMessage, res: ServerResponse, state: RequestState, match: LegacyPathMatch, rawQuery: string): Promise<void> => {
    const answer = await answerLegacyCall(
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
    await writeAnswer(res, answer, match.kind === 'route' && match.head);
  };
}
