import { gzipSync } from 'node:zlib';
import { V4Simulator, type RecordedRequest } from '../../src/v4-simulator';
import { rawExchange, spawnGateway, type GatewayProcess } from './process-harness';

const KEY = 'hostile-key-0001';

/** Raw HTTP against the real server process (`npm start`'s), so Node's parser and the limits are in play. */
describe('hostile input against the running gateway: clear errors, nothing reaches V4, no crash', () => {
  let sim: V4Simulator;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    sim = new V4Simulator({ apiKeys: [KEY] });
    const url = await sim.start(0);
    sim.createUser(KEY, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: KEY, BODY_LIMIT: '4kb', LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    if (gateway !== undefined) {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
    await sim.stop();
  });
  beforeEach(() => sim.clearRequests());

  // The readiness probe's own calls are not traffic.
  const traffic = (): RecordedRequest[] => sim.requests.filter((r) => !String(r.headers['x-request-id']).startsWith('readiness-probe'));
  const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

  it.each([
    ['Content-Length with Transfer-Encoding', 'PUT /api/management/user/jane%40example.com HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPATCH /api/user/management/v4/users/x HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['two different Content-Lengths', 'PUT /api/management/user/jane%40example.com HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}'],
    ['a bare LF inside a header value', 'GET /api/management/user HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\n\r\n'],
    ['a NUL in the path', 'GET /api/management/user/jane\u0000%40example.com HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a space in the path', 'GET /api/management/user/jane doe HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('%s → 400 from the parser, nothing reaches V4', async (_what, bytes) => {
    const answer = await rawExchange(gateway.port, bytes);
    expect(statusOf(answer)).toBe(400);
    expect(traffic()).toHaveLength(0);
  });

  it('headers past 16 KiB → 431, nothing reaches V4', async () => {
    const answer = await rawExchange(gateway.port, `GET /api/management/user HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(statusOf(answer)).toBe(431);
    expect(traffic()).toHaveLength(0);
  });

  it('a chunked body past BODY_LIMIT → 413 PAYLOAD_TOO_LARGE, nothing reaches V4', async () => {
    const chunk = 'a'.repeat(1000);
    const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const answer = await rawExchange(gateway.port, `PUT /api/management/user/jane%40example.com HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
    expect(statusOf(answer)).toBe(413);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
    expect(traffic()).toHaveLength(0);
  });

  it('a gzip bomb is refused unopened with 415', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    const head = `POST /api/management/user HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`;
    const answer = await rawExchange(gateway.port, Buffer.concat([Buffer.from(head), bomb]));
    expect(statusOf(answer)).toBe(415);
    expect(traffic()).toHaveLength(0);
  });

  it('a 300-character email → 400 INVALID_EMAIL; CR/LF encoded in the path → 400', async () => {
    for (const segment of [`${'a'.repeat(300)}%40example.com`, 'jane%0D%0ASet-Cookie:%20x%40example.com']) {
      const answer = await rawExchange(gateway.port, `DELETE /api/management/user/${segment} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(statusOf(answer)).toBe(400);
      expect(answer).toContain('INVALID_EMAIL');
      expect(answer).not.toMatch(/\r\nSet-Cookie/i);
    }
    expect(traffic()).toHaveLength(0);
  });

  it('HEAD and OPTIONS on legacy paths', async () => {
    const head = await rawExchange(gateway.port, 'HEAD /api/management/user/jane%40example.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusOf(head)).toBe(200);
    expect(head.split('\r\n\r\n')[1]).toBe('');
    const options = await rawExchange(gateway.port, 'OPTIONS /api/management/user HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusOf(options)).toBe(204);
    expect(options).toMatch(/\r\nallow: GET, HEAD, POST, OPTIONS\r\n/i);
    expect(traffic().map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('a connection that does not finish its headers within 10 s is closed', async () => {
    const started = Date.now();
    const answer = await rawExchange(gateway.port, 'GET /api/management/user HTTP/1.1\r\nHost: x\r\n', 15_000);
    const waited = Date.now() - started;
    expect(waited).toBeLessThan(14_500);
    expect(waited).toBeGreaterThanOrEqual(9_000);
    expect(statusOf(answer) === 408 || answer === '').toBe(true);
    expect(traffic()).toHaveLength(0);
  }, 20_000);

  it('is still alive and serving after all of it', async () => {
    const answer = await rawExchange(gateway.port, 'GET /api/management/user/jane%40example.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusOf(answer)).toBe(200);
    expect(gateway.child.exitCode).toBeNull();
  });
});
