import type { GatewayConfig } from '../config/load';
import { GatewayError } from '../errors';
import { EmailPrivacy } from '../observability/email-privacy';
import { answerLegacyCall } from '../operations/answer-legacy-call';
import type { OperationDeps } from '../operations/context';
import type { LegacyAnswer } from '../operations/legacy-answer';
import type { TranslationRecord } from '../operations/translation-record';
import { credentialFingerprint } from '../resolution/credential-fingerprint';
import { Resolver } from '../resolution/resolver';
import { FieldRules } from '../translation/field-rules';
import type { JsonValue } from '../translation/json';
import { matchLegacyPath } from '../translation/routes';
import { v4Authorization } from '../v4/adapter';
import { V4Api } from '../v4/api';
import { DryRunV4, type PlannedV4Call } from './dry-run-v4';

export interface ExplainRequest {
  readonly method: string;
  /** Path and query, as a legacy client would send them. */
  readonly path: string;
  readonly body?: string;
  /**
   * The Authorization header the client would send. Default: none, and then, with no V4_API_KEY
   * either, the call is explained as if the client sent a key (saying so): what a newcomer asks
   * about is the translation. `null`: explain the call exactly as sent without one.
   */
  readonly authorization?: string | null;
}

export interface Explanation {
  readonly method: string;
  readonly path: string;
  /** The checks the gateway ran, in order, each with what it found. */
  readonly checks: ReadonlyArray<{ readonly check: string; readonly detail: string }>;
  /** What V4 would receive, in order (nothing was sent). */
  readonly v4Calls: readonly PlannedV4Call[];
  /** The field rules that changed the request body. */
  readonly rules: readonly string[];
  /** What an example V4 would answer the forward with. */
  readonly exampleV4Answer?: { readonly status: number; readonly body?: JsonValue };
  /** What the client would get: the answer from that example, or the error. */
  readonly answer: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body?: JsonValue };
  readonly error?: string;
  readonly notes: readonly string[];
}

/** A page stream, drained (the dry run's lists are one page). */
async function bodyOf(answer: LegacyAnswer): Promise<JsonValue | undefined> {
  const { body } = answer;
  if (body.kind === 'none') return undefined;
  if (body.kind === 'json') return body.value;
  const users: JsonValue[] = [];
  for await (const page of body.pages) users.push(...page);
  return users;
}

/**
 * What the gateway would do with one legacy call, without sending anything: the same checks and
 * operation as the live path (operations/answer-legacy-call.ts), V4 replaced by a dry run that
 * writes each request down and answers as a healthy V4 with one matching user would.
 */
export async function explain(config: GatewayConfig, request: ExplainRequest): Promise<Explanation> {
  const dryRun = new DryRunV4();
  const v4 = new V4Api(dryRun);
  const deps: OperationDeps = {
    v4,
    resolver: new Resolver((email, scope) => v4.lookup(email, scope), { max: 16, ttlMs: config.cacheTtlMs }),
    rules: new FieldRules(config.fieldRules),
    privacy: new EmailPrivacy('hash', config.logHashKey),
    verifyCachedWrites: config.verifyCachedWrites,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
  };
  const q = request.path.indexOf('?');
  const path = q === -1 ? request.path : request.path.slice(0, q);
  const method = request.method.toUpperCase();
  const checks: Array<{ check: string; detail: string }> = [];
  const notes: string[] = [];
  const record: TranslationRecord = { route: 'unknown-route', legacyMethod: method, legacyPath: 'other', rules: [], v4Calls: 0 };
  let authorization = request.authorization === undefined ? null : request.authorization;
  if (request.authorization === undefined) {
    if (config.v4ApiKey !== null) {
      authorization = v4Authorization(config.v4ApiKey);
      notes.push('no Authorization given: V4 would get the configured V4_API_KEY');
    } else {
      authorization = 'Apikey <the client key>';
      notes.push('no Authorization given and no V4_API_KEY configured: explained as if the client sent one (without one it gets 401 MISSING_CREDENTIALS; --no-authorization shows it)');
    }
  }

  let answer: Explanation['answer'];
  let error: string | undefined;
  try {
    const match = matchLegacyPath(method, path);
    if (match === null) throw new GatewayError('NOT_FOUND', 'No such route on this gateway; legacy calls live under /api/management/user, V4 calls under /api/user/management/v4/.');
    const legacy = await answerLegacyCall(
      deps,
      match,
      {
        method,
        rawQuery: q === -1 ? '' : request.path.slice(q + 1),
        readBody: () => Promise.resolve(request.body ?? ''),
        requestId: 'explain',
        authorization,
        credential: authorization === null ? undefined : credentialFingerprint(authorization),
        record,
      },
      config.upstreamTimeoutMs,
      (check, detail) => checks.push({ check, detail }),
    );
    answer = { status: legacy.status, headers: legacy.headers, body: await bodyOf(legacy) };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    error = err.code;
    answer = { status: err.status, headers: err.headers, body: { error: { code: err.code, message: err.message, request_id: '<the request id>' } } };
  }
  if (dryRun.planned.some((call) => call.purpose === 'lookup') && (record.route === 'update-user' || record.route === 'delete-user') && config.verifyCachedWrites) {
    notes.push('when the email is already cached, the lookup is skipped and, with VERIFY_CACHED_WRITES on, GET …/users/{user_id} is read first to check the user still holds the email');
  } else if (dryRun.planned.some((call) => call.purpose === 'lookup')) {
    notes.push('when the email is already cached (for CACHE_TTL_MS after a lookup), the lookup is skipped');
  }
  return {
    method,
    path: request.path,
    checks,
    v4Calls: dryRun.planned,
    rules: record.rules,
    exampleV4Answer: dryRun.exampleAnswer,
    answer,
    error,
    notes,
  };
}
