import http from 'node:http';
import request from 'supertest';
import { errorWriter } from '../../src/http/error-handler';
import { attachState, type RequestState } from '../../src/http/request-state';
import { createMemoryLogger } from './memory-logger';

/**
 * The one error writer, on a real node server: a failure that is not the gateway's own error
 * (a bug) is 500 INTERNAL_ERROR in the answer and the log, never blamed on V4 as UPSTREAM_ERROR.
 */
describe('errorWriter', () => {
  it('answers a gateway bug with 500 INTERNAL_ERROR and logs it as internal', async () => {
    const { logger, lines } = createMemoryLogger('debug');
    const writeError = errorWriter(logger);
    const states: RequestState[] = [];
    const server = http.createServer((req, res) => {
      const state: RequestState = {
        requestId: 'req-bug-1',
        startedAt: performance.now(),
        clientAddress: '127.0.0.1',
        admitted: true,
        ownHeaders: [],
        authorization: null,
        record: { route: 'get-user', legacyMethod: 'GET', legacyPath: '/api/management/user/{email}', rules: [], v4Calls: 0 },
      };
      states.push(state);
      attachState(res, state);
      writeError(new TypeError("Cannot read properties of undefined (reading 'id')"), req, res);
    });
    const res = await request(server).get('/anything');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL_ERROR', message: expect.stringMatching(/gateway failed/) as unknown, request_id: 'req-bug-1' } });
    expect(states[0]?.record).toMatchObject({ errorCode: 'INTERNAL_ERROR', upstreamFailure: 'internal' });
    expect(lines.some((line) => line.includes('unexpected error') && line.includes('TypeError'))).toBe(true);
  });

  it('cuts the connection when the answer had already started', async () => {
    const { logger } = createMemoryLogger('debug');
    const writeError = errorWriter(logger);
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      writeError(new Error('page 2 failed'), req, res);
    });
    await expect(request(server).get('/list')).rejects.toThrow();
  });
});
