import type { FieldRules } from '../translation/field-rules';
import type { JsonObject } from '../translation/json';
import type { Resolver } from '../resolution/resolver';
import type { EmailPrivacy } from '../observability/email-privacy';
import type { TranslationRecord } from '../http/request-state';
import type { CallScope, V4Api } from '../v4/api';

/** What the operations need from the gateway, built once by createApp. */
export interface OperationDeps {
  readonly v4: V4Api;
  readonly resolver: Resolver;
  readonly rules: FieldRules;
  readonly privacy: EmailPrivacy;
  readonly verifyCachedWrites: boolean;
  /** The deadline of one V4 call's worth of work (a list gets it per page). */
  readonly upstreamTimeoutMs: number;
}

/** One legacy call, validated: everything an operation may read. */
export interface LegacyCall {
  readonly scope: CallScope;
  /** Fingerprint of the credentials in scope.authorization: the cache's tenant key. */
  readonly credential: string;
  readonly record: TranslationRecord;
  /** HEAD: the answer's status and headers only. */
  readonly head: boolean;
  readonly query: ReadonlyMap<string, string>;
  /** The email of the path, as decoded and lower-cased. */
  readonly email?: string;
  /** The request body, already translated to V4. */
  readonly v4Body?: JsonObject;
}
