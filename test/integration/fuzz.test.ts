import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { KEY_1, startStack, type Stack } from './harness';

/** Fixed seed and bounded runs in `npm test`; `FUZZ_RUNS=5000 npx jest fuzz` for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

describe('fuzzing the legacy surface (fast-check)', () => {
  let stack: Stack;
  let server: http.Server;
  let port: number;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    stack = await startStack({ bodyLimit: '16kb' });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' }, external_id: 'C1' });
    stack.sim.createUser(KEY_1, { name: 'Sam', contact_details: { email: 'sam+x@example.com' } });
    server = http.createServer(stack.gateway.listener).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    await stack.close();
  });

  function send(method: string, path: string, body: string | undefined, contentType: string | undefined): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      if (contentType !== undefined) headers['content-type'] = contentType;
      if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Path segments: plausible and implausible emails, percent-encodings, dot segments, slashes, unicode. */
  const segment = fc.oneof(
    fc.constantFrom('jane%40example.com', 'JANE%40Example.COM', 'sam%2Bx%40example.com', 'sam+x%40example.com', 'nobody%40example.com', '..', '%2e%2e', '%2F', 'a%40b%40c', '%00', '%0d%0a', '%E0%A4%A', '%25', ''),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => encodeURIComponent(text)),
    fc.tuple(fc.string({ maxLength: 20 }), fc.domain()).map(([local, domain]) => encodeURIComponent(`${local}@${domain}`)),
    fc.string({ unit: fc.constantFrom('a', '.', '/', '%', '2', 'F', '@', '+', '-'), maxLength: 30 }),
  );
  const queryKey = fc.oneof(fc.constantFrom('email', 'cid', 'offset', 'limit', 'service', 'SERVICE', 'Service', 'service[]', '%73ervice', 'page', ''), fc.string({ maxLength: 8 }).map(encodeURIComponent));
  const queryValue = fc.oneof(fc.constantFrom('jane%40example.com', '1', '0', '-1', '500', '501', '99999999999', '%ZZ', 'premium', ''), fc.string({ maxLength: 12 }).map(encodeURIComponent));
  const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((pairs) => (pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&')));
  const jsonBody = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.record({ email: fc.emailAddress(), name: fc.string(), cid: fc.string(), service: fc.string() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    fc.record({ name: fc.string(), contact_details: fc.record({ email: fc.emailAddress(), telephone_number_E123: fc.string() }, { requiredKeys: [] }), external_id: fc.string() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    fc.constantFrom('{"__proto__":{"x":1}}', '{"a":{"constructor":{}}}', '{', '[]', 'null', '{"user_flags":[{"Service":1}]}'),
  );
  const call = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    item: fc.boolean(),
    segment,
    query,
    body: fc.option(jsonBody, { nil: undefined }),
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined),
  });

  it('answers every input with a 2xx-5xx status, an envelope on errors; V4 never sees an email in a path nor a service field', async () => {
    await fc.assert(
      fc.asyncProperty(call, async (c) => {
        const path = `/api/management/user${c.item ? '/' + c.segment : ''}${c.query}`;
        const before = stack.sim.requests.length;
        const answer = await send(c.method, path, c.body, c.body === undefined ? undefined : c.contentType);
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(600);
        if (answer.status >= 400 && c.method !== 'HEAD') {
          expect(answer.contentType).toMatch(/^application\/json/);
          const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof parsed.error?.code).toBe('string');
          expect(typeof parsed.error?.message).toBe('string');
        }
        for (const sent of stack.sim.requests.slice(before)) {
          const [sentPath, sentQuery = ''] = sent.url.split('?');
          // The email may only travel in the lookup's or the list's query string, never in a path.
          expect(sentPath).not.toMatch(/@|%40/i);
          expect(sentPath === '/api/user/management/v4/users' || /^\/api\/user\/management\/v4\/users\/[A-Za-z0-9._~-]+$/.test(sentPath ?? '')).toBe(true);
          expect(decodeURIComponent(sentQuery).toLowerCase()).not.toMatch(/(^|&)service/);
          expect(sent.rawBody.toLowerCase()).not.toContain('"service"');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // The gateway is still serving afterwards (the fuzzer may have deleted the seeded users).
    expect((await send('GET', '/api/management/user', undefined, undefined)).status).toBe(200);
  }, 120_000);
});
