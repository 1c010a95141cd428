// Public types of the V4 simulator. Other modules (gateway tests, demo, benchmarks) code
// against these shapes, so changes here are API changes.
import type { IncomingHttpHeaders } from 'node:http';

export type RegistrationState = 'UNREGISTERED' | 'REGISTERED';

export interface V4User {
  id: string;
  name?: string;
  user_flags?: string[];
  contact_details: { email?: string; telephone_number_E123?: string };
  registration_information: { registration_state: RegistrationState; registration_time: number };
  external_id?: string | null;
  default_user_profile: { id: string; name: string };
}

export interface RecordedRequest {
  method: string;
  /** Raw request url, query included. */
  url: string;
  /** Pathname, raw (not percent-decoded). */
  path: string;
  /** Decoded query pairs in order (`+` stays a plus). */
  query: [string, string][];
  headers: IncomingHttpHeaders;
  /** Empty for bodies over the size limit: they are drained, not kept. */
  rawBody: string;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
}

export type FaultKind = 'delay' | 'status' | 'garbage' | 'reset' | 'hang' | 'huge';

export interface FaultRule {
  method?: string;
  /** Matched against the raw pathname; a string must be equal. */
  path?: string | RegExp;
  /** How many requests the rule applies to; default Infinity. */
  times?: number;
  kind: FaultKind;
  /** delay: wait this long, then answer normally (writes are applied after the wait). */
  delayMs?: number;
  /** status: answer this status/body/headers without touching the store. */
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** huge: a 200 application/json body of this many bytes (default 64 MB), streamed. */
  hugeBytes?: number;
  /**
   * status / reset only: apply the request to the store first, then answer with the fault.
   * Simulates "the write reached V4 but its answer was lost".
   */
  afterApply?: boolean;
}

export interface SimulatorOptions {
  /** Tenants, one per API key; default none. */
  apiKeys?: string[];
  /** Largest `limit` of the index; default 500. */
  maxLimit?: number;
  /** Largest request body; default 5 MB. */
  bodyLimitBytes?: number;
  /** Record every request; default true. Benchmarks turn it off. */
  record?: boolean;
}

/**
 * One write that changed the store through HTTP: which request (its X-Request-Id), which user,
 * and the user's email before and after. Chaos runs compare it with what clients were told.
 */
export interface JournalEntry {
  requestId: string | undefined;
  method: 'POST' | 'PATCH' | 'DELETE';
  userId: string;
  emailBefore: string | undefined;
  emailAfter: string | undefined;
}
