import { bufferedStdout, logTranslation, translationLog } from '../../src/observability/translation-log';
import type { RequestState } from '../../src/http/request-state';

const state: RequestState = {
  requestId: 'r-1',
  startedAt: performance.now(),
  clientAddress: '127.0.0.1',
  admitted: true,
  ownHeaders: [],
  authorization: 'Apikey never-logged-key',
  credential: 'fp',
  record: { route: 'get-user', legacyMethod: 'GET', legacyPath: '/api/management/user/{email}', rules: [], v4Calls: 1, v4Status: 200 },
};

describe('the translation log writer', () => {
  it.each([
    ['error', false],
    ['warn', false],
    ['info', true],
    ['debug', true],
  ])('LOG_LEVEL=%s writes translation lines: %s', (level, enabled) => {
    const lines: string[] = [];
    const log = translationLog(level, (line) => lines.push(line));
    logTranslation(log, state, 200, true);
    expect(log.enabled).toBe(enabled);
    expect(lines).toHaveLength(enabled ? 1 : 0);
  });

  it('writes one JSON line shaped as winston writes it, without the key and without fields never reached', () => {
    const lines: string[] = [];
    logTranslation(translationLog('info', (line) => lines.push(line)), state, 200, true);
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).not.toContain('never-logged-key');
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', message: 'translation', request_id: 'r-1', client_credential: 'fp', route: 'get-user', legacy_status: 200, v4_status: 200, v4_calls: 1 });
    expect(Date.parse(line.timestamp as string)).not.toBeNaN();
    expect(line).not.toHaveProperty('error_code');
    expect(line).not.toHaveProperty('client_aborted');
  });
});

describe('bufferedStdout', () => {
  it('writes the lines of one turn as one chunk: each line, then a newline, byte for byte as UTF-8', async () => {
    const chunks: Buffer[] = [];
    const out = bufferedStdout({ write: (chunk: Buffer) => chunks.push(Buffer.from(chunk)) });
    const lines = ['{"a":1}', '{"name":"Zoë 東京 🚀"}', '{"lone":"\ud800"}', ''];
    for (const line of lines) out.write(line);
    expect(chunks).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.equals(Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8'))).toBe(true);
    out.write('{"b":2}');
    out.flush();
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.toString('utf8')).toBe('{"b":2}\n');
    out.flush();
    expect(chunks).toHaveLength(2);
  });
});
