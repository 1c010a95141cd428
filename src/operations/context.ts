import type { FieldRules } from '../translation/field-rules';
import type { JsonObject } from '../translation/json';
import type { Resolver } from '../resolution/resolver';
import type { EmailPrivacy } from '../observability/email-privacy';
import type { CallScope, V4Api } from '../v4/api';
import type { TranslationRecord } from './translation-record';

/** What the operations need from the gateway, built once by buildDeps. */
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
  /** Its V4 requests' credentials, deadline and trace (the trace is `record`). */
  readonly scope: CallScope;
  /** Fingerprint of the credentials in scope.authorization: the cache's tenant key. */
  readonly credential: string;
  readonly record: TranslationRecord;
  readonly query: ReadonlyMap<string, string>;
  /** The email of the path, decoded and normalised; set for the routes on `/{email}`. */
  readonly email?: string;
  /** The request body, already translated to V4; set for the routes that take one. */
  readonly v4Body?: JsonObject;
}

/** A call on `/{email}`. */
export interface UserCall extends LegacyCall {
  readonly email: string;
}

/** A call with a body. */
export interface BodyCall extends LegacyCall {
  readonly v4Body: JsonObject;
}
