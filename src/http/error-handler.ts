import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import { GatewayError, isGatewayError } from '../errors';
import { V4Answer } from '../v4/api';
import { UpstreamFailure } from '../v4/client';
import { writeJson, writeV4Answer } from './write-answer';
import { stateOf } from './request-state';

/** An error that is not ours: a body-parser style status, if any. */
function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return undefined;
}

/**
 * The one place error answers are written: the contract's envelope for the gateway's own
 * errors, V4's answer unchanged for V4's. Safe to reach after the answer started: the
 * connection is then cut, so the client sees a failure rather than a truncated success.
 */
export function errorWriter(logger: Logger): (err: unknown, req: IncomingMessage, res: ServerResponse) => void {
  const write = (err: unknown, req: IncomingMessage, res: ServerResponse): void => {
    const state = stateOf(res);
    if (res.headersSent) {
      if (state !== undefined) state.record.reason = `failed after the answer started: ${errorText(err)}`;
      res.destroy();
      return;
    }
    if (err instanceof V4Answer) {
      if (state !== undefined) state.record.v4Status = err.response.status;
      writeV4Answer(res, err.response);
      return;
    }
    let error: GatewayError;
    if (isGatewayError(err)) {
      error = err;
    } else if (statusOf(err) === 413) {
      error = new GatewayError('PAYLOAD_TOO_LARGE', 'The request is too large.');
    } else {
      logger.error('unexpected error', { request_id: state?.requestId, error: errorText(err) });
      if (state !== undefined) state.record.upstreamFailure = 'internal';
      error = new GatewayError('INTERNAL_ERROR', 'The gateway failed unexpectedly; try again later.', { detail: `internal: ${errorText(err)}` });
    }
    if (state !== undefined) {
      state.record.errorCode = error.code;
      if (error.detail !== undefined) state.record.reason = error.detail;
      if (error.outcomeUnknown) state.record.outcomeUnknown = true;
      if (error.cause instanceof UpstreamFailure) state.record.upstreamFailure = error.cause.kind;
    }
    // After a refused body the rest of it may still be arriving: do not keep reading it.
    if (error.code === 'PAYLOAD_TOO_LARGE' || (!req.complete && req.readable)) res.setHeader('connection', 'close');
    writeJson(res, error.status, { error: { code: error.code, message: error.message, request_id: state?.requestId ?? '' } }, error.headers);
  };
  // Should writing the error answer fail too, the connection is cut rather than left hanging.
  return (err, req, res) => {
    try {
      write(err, req, res);
    } catch (failure) {
      logger.error('writing an error answer failed', { request_id: stateOf(res)?.requestId, error: errorText(failure) });
      res.destroy();
    }
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
