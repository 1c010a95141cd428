import type { Response as SupertestResponse } from 'supertest';
import { createApp, type GatewayApp } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import type { RawConfig } from '../../src/config/schema';
import { createMemoryLogger } from './memory-logger';
import { keepForSweep } from './log-sweep';
import { V4Simulator, type RecordedRequest } from '../../src/v4-simulator';

export const KEY_1 = 'k1-test-key-0001';
export const KEY_2 = 'k2-test-key-0002';


export interface Stack {
  readonly sim: V4Simulator;
  readonly gateway: GatewayApp;
  readonly logLines: string[];
  /** V4 requests except those the test made to set things up. */
  v4Requests(): RecordedRequest[];
  close(): Promise<void>;
}

/** The simulator on port 0 and the gateway app (supertest listens on port 0 per request). */
export async function startStack(overrides: Partial<RawConfig> = {}, simOptions: { apiKeys?: string[] } = {}): Promise<Stack> {
  const sim = new V4Simulator({ apiKeys: simOptions.apiKeys ?? [KEY_1, KEY_2] });
  const url = await sim.start(0);
  const { logger, lines, translations } = createMemoryLogger('debug');
  const config = loadConfig({ env: {}, overrides: { v4BaseUrl: url, v4ApiKey: KEY_1, ...overrides } });
  const gateway = createApp(config, { logger, translations });
  return {
    sim,
    gateway,
    logLines: lines,
    v4Requests: () => sim.requests,
    close: async () => {
      keepForSweep(lines, config.logEmails === 'plain');
      gateway.close();
      await sim.stop();
    },
  };
}

/** The contract's error envelope, with the answer's own request id. */
export function expectEnvelope(res: SupertestResponse, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({ status, code });
  const error = (res.body as { error: { message: unknown; request_id: unknown } }).error;
  expect(typeof error.message).toBe('string');
  expect((error.message as string).length).toBeGreaterThan(10);
  expect(error.request_id).toBe(res.headers['x-request-id']);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
}

export function apikey(key: string): string {
  return `Apikey ${key}`;
}
