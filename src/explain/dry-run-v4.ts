import type { JsonObject, JsonValue } from '../translation/json';
import { isJsonObject } from '../translation/json';
import { LOOKUP_LIMIT, V4_USERS_PATH } from '../v4/adapter';
import type { V4Request, V4Response, V4Transport } from '../v4/client';

/** The user_id the dry run's V4 hands out; shown as `{user_id}` (README: explain). */
export const EXAMPLE_USER_ID = 'USER_ID';

/** One request V4Api would have sent. */
export interface PlannedV4Call {
  readonly method: string;
  /** Below the V4 base URL, with `{user_id}` where the resolved id would go. */
  readonly path: string;
  readonly body?: JsonValue;
  /** `lookup`: email → user_id; `forward`: the call carrying the legacy call's meaning. */
  readonly purpose: 'lookup' | 'forward';
}

function exampleUser(email: string): JsonObject {
  return {
    id: EXAMPLE_USER_ID,
    name: 'Example User',
    external_id: 'CUST-0001',
    user_flags: [],
    contact_details: { email, telephone_number_E123: '+44 20 7946 0958' },
    registration_information: { registration_state: 'REGISTERED', registration_time: 1732790400 },
  };
}

/** `patch` laid over `user`, objects merged key by key (V4's PATCH as the contract assumes it). */
function merged(user: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...user };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isJsonObject(current) && isJsonObject(value) ? merged(current, value) : value;
  }
  return out;
}

function answer(status: number, body?: JsonValue): V4Response {
  const text = body === undefined ? '' : JSON.stringify(body);
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
}

/**
 * A V4 that receives nothing: V4Api hands it each request it would send; it writes the request
 * down and answers the way a healthy V4 holding one matching user would (one user per lookup, the
 * write applied). So `explain` runs the gateway's own code from the checks to the translated
 * answer without a byte leaving the process.
 */
export class DryRunV4 implements V4Transport {
  readonly planned: PlannedV4Call[] = [];
  /** What the example V4 answered the forward with (for the "translated back" part). */
  exampleAnswer: { status: number; body?: JsonValue } | undefined;
  private email = 'jane@example.com';

  send(request: V4Request): Promise<V4Response> {
    const url = new URL(request.path, 'http://v4.invalid');
    const body = request.body === undefined ? undefined : (JSON.parse(request.body.toString('utf8')) as JsonValue);
    const path = request.path.replace(`/${EXAMPLE_USER_ID}`, '/{user_id}');
    const lookup = request.method === 'GET' && url.pathname === V4_USERS_PATH && url.searchParams.get('limit') === String(LOOKUP_LIMIT) && url.searchParams.has('email');
    this.planned.push({ method: request.method, path, body, purpose: lookup ? 'lookup' : 'forward' });
    const filterEmail = url.searchParams.get('email');
    if (filterEmail !== null) this.email = filterEmail;
    const response = this.respond(request.method, url.pathname, body);
    if (!lookup) this.exampleAnswer = { status: response.status, body: response.body.length === 0 ? undefined : (JSON.parse(response.body.toString('utf8')) as JsonValue) };
    return Promise.resolve(response);
  }

  private respond(method: string, pathname: string, body: JsonValue | undefined): V4Response {
    const user = exampleUser(this.email);
    if (pathname === V4_USERS_PATH) {
      if (method === 'POST') return answer(201, { ...(isJsonObject(body) ? body : {}), id: EXAMPLE_USER_ID });
      return answer(200, { data: [user], meta: { offset: 0, limit: 1, total: 1 } });
    }
    if (method === 'DELETE') return answer(204);
    if (method === 'PATCH') return answer(200, merged(user, isJsonObject(body) ? body : {}));
    return answer(200, user);
  }
}
