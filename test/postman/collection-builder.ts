/**
 * Builds the Postman (v2.1) collection of the legacy calls from the OpenAPI document: each
 * request names a documented operation and status, and its test script asserts that status,
 * the deprecation headers every legacy answer carries, and the body against the document's own
 * schema for that answer (dereferenced, since a Postman script cannot follow `$ref`s), plus a few
 * value checks of the translation (cid, email, Location). The calls run in order as one story:
 * create, read, list, update, refused calls, delete, read the deleted user.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface StoryStep {
  readonly name: string;
  readonly method: string;
  /** The documented path template. */
  readonly template: '/api/management/user' | '/api/management/user/{email}';
  /** The concrete URL after `{{baseUrl}}` (Postman variables allowed). */
  readonly url: string;
  readonly status: number;
  readonly body?: JsonObject;
  /** Extra assertions, as Postman script lines. */
  readonly checks?: readonly string[];
}

const ITEM = '/api/management/user/{email}' as const;
const COLLECTION = '/api/management/user' as const;
const USER_URL = '/api/management/user/{{emailEncoded}}';

/** The story the collection tells; each step must be an operation and status the document has. */
export const STORY: readonly StoryStep[] = [
  {
    name: 'Create a user (POST → V4 POST, cid → external_id)',
    method: 'POST',
    template: COLLECTION,
    url: '/api/management/user',
    status: 201,
    body: { email: '{{email}}', name: 'Newman Test', cid: '{{cid}}' },
    checks: [
      "pm.test('Location names the user by email', () => pm.expect(pm.response.headers.get('Location')).to.eql('/api/management/user/' + pm.variables.get('emailEncoded')));",
      "pm.test('email and cid come back in the legacy shape', () => { const user = pm.response.json(); pm.expect(user.email).to.eql(pm.variables.get('email')); pm.expect(user.cid).to.eql(pm.variables.get('cid')); pm.expect(user).to.not.have.property('external_id'); });",
    ],
  },
  {
    name: 'Read the user by email',
    method: 'GET',
    template: ITEM,
    url: USER_URL,
    status: 200,
    checks: ["pm.test('it is the user just created', () => { pm.expect(pm.response.json().email).to.eql(pm.variables.get('email')); pm.expect(pm.response.json().name).to.eql('Newman Test'); });"],
  },
  {
    name: 'List users with that email',
    method: 'GET',
    template: COLLECTION,
    url: '/api/management/user?email={{emailEncoded}}',
    status: 200,
    checks: ["pm.test('exactly that user', () => { const users = pm.response.json(); pm.expect(users).to.have.lengthOf(1); pm.expect(users[0].cid).to.eql(pm.variables.get('cid')); });"],
  },
  {
    name: 'Update the user (PUT → V4 PATCH)',
    method: 'PUT',
    template: ITEM,
    url: USER_URL,
    status: 200,
    body: { name: 'Newman Renamed', cid: '{{cid}}-2' },
    checks: ["pm.test('the change is in the answer', () => { const user = pm.response.json(); pm.expect(user.name).to.eql('Newman Renamed'); pm.expect(user.cid).to.eql(pm.variables.get('cid') + '-2'); pm.expect(user.email).to.eql(pm.variables.get('email')); });"],
  },
  {
    name: 'List every user',
    method: 'GET',
    template: COLLECTION,
    url: '/api/management/user',
    status: 200,
    checks: ["pm.test('the updated user is in the list', () => pm.expect(pm.response.json().some((user) => user.email === pm.variables.get('email') && user.name === 'Newman Renamed')).to.be.true);"],
  },
  { name: 'Refused: service in the query', method: 'GET', template: COLLECTION, url: '/api/management/user?service=premium', status: 400, checks: [errorCode('SERVICE_PARAMETER_REMOVED')] },
  { name: 'Refused: service in the body', method: 'PUT', template: ITEM, url: USER_URL, status: 400, body: { name: 'x', service: 'premium' }, checks: [errorCode('SERVICE_PARAMETER_REMOVED')] },
  { name: 'Refused: cid and external_id differ', method: 'PUT', template: ITEM, url: USER_URL, status: 400, body: { cid: 'A', external_id: 'B' }, checks: [errorCode('CONFLICTING_FIELDS')] },
  { name: 'Refused: not an email', method: 'GET', template: ITEM, url: '/api/management/user/not-an-email', status: 400, checks: [errorCode('INVALID_EMAIL')] },
  {
    name: 'OPTIONS on the collection',
    method: 'OPTIONS',
    template: COLLECTION,
    url: '/api/management/user',
    status: 204,
    checks: ["pm.test('Allow lists the methods', () => pm.expect(pm.response.headers.get('Allow')).to.eql('GET, HEAD, POST, OPTIONS'));"],
  },
  {
    name: 'Refused: PATCH on the collection',
    method: 'PATCH',
    template: COLLECTION,
    url: '/api/management/user',
    status: 405,
    checks: [errorCode('METHOD_NOT_ALLOWED'), "pm.test('Allow lists the methods', () => pm.expect(pm.response.headers.get('Allow')).to.eql('GET, HEAD, POST, OPTIONS'));"],
  },
  { name: 'Delete the user', method: 'DELETE', template: ITEM, url: USER_URL, status: 204, checks: ["pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));"] },
  { name: 'Read the deleted user', method: 'GET', template: ITEM, url: USER_URL, status: 404, checks: [errorCode('USER_NOT_FOUND')] },
];

function errorCode(code: string): string {
  return `pm.test('error code ${code}, with the answer\\'s request id', () => { const error = pm.response.json().error; pm.expect(error.code).to.eql('${code}'); pm.expect(error.request_id).to.eql(pm.response.headers.get('X-Request-Id')); });`;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema with every `#/components/...` ref replaced by its target, and annotations dropped. */
function dereference(node: Json, doc: JsonObject, depth = 0): Json {
  if (depth > 20) throw new Error('schema nesting too deep (a $ref cycle?)');
  if (Array.isArray(node)) return node.map((item) => dereference(item, doc, depth + 1));
  if (!isObject(node)) return node;
  if (typeof node.$ref === 'string') return dereference(pointer(doc, node.$ref), doc, depth + 1);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'example' && key !== 'description') out[key] = dereference(value, doc, depth + 1);
  return out;
}

function pointer(doc: JsonObject, ref: string): Json {
  const target = ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Json>((node, key) => (isObject(node) ? (node[key] ?? null) : null), doc);
  if (target === null) throw new Error(`unresolvable ${ref}`);
  return target;
}

/** The documented answer of one step: its response object, dereferenced. */
function documentedResponse(doc: JsonObject, step: StoryStep): JsonObject {
  const paths = doc.paths as JsonObject;
  const item = paths[step.template];
  const op = isObject(item) ? item[step.method.toLowerCase()] : undefined;
  if (!isObject(op) || !isObject(op.responses)) throw new Error(`${step.method} ${step.template} is not in the OpenAPI document`);
  const response = op.responses[String(step.status)];
  if (response === undefined) throw new Error(`${step.method} ${step.template} has no documented ${step.status}`);
  const resolved = dereference(response, doc);
  if (!isObject(resolved)) throw new Error(`bad response object for ${step.method} ${step.template} ${step.status}`);
  return resolved;
}

function testScript(doc: JsonObject, step: StoryStep): string[] {
  const response = documentedResponse(doc, step);
  const lines = [
    `pm.test('status ${step.status}', () => pm.response.to.have.status(${step.status}));`,
    "pm.test('deprecated, with its successor and a request id', () => { pm.expect(pm.response.headers.get('Deprecation')).to.match(/^@\\d+$/); pm.expect(pm.response.headers.get('Link')).to.eql('</api/user/management/v4/users>; rel=\"successor-version\"'); pm.expect(pm.response.headers.get('X-Request-Id')).to.be.a('string').and.not.empty; });",
  ];
  const content = response.content;
  const schema = isObject(content) && isObject(content['application/json']) ? content['application/json'].schema : undefined;
  if (schema !== undefined) {
    lines.push(`pm.test('body as the OpenAPI document describes it', () => pm.response.to.have.jsonSchema(${JSON.stringify(schema)}));`);
  }
  return [...lines, ...(step.checks ?? [])];
}

export function buildCollection(doc: JsonObject): JsonObject {
  const info = doc.info as JsonObject;
  const items: Json[] = STORY.map((step) => {
    const request: JsonObject = {
      method: step.method,
      header: step.body === undefined ? [] : [{ key: 'Content-Type', value: 'application/json' }],
      url: { raw: `{{baseUrl}}${step.url}`, host: ['{{baseUrl}}'], path: step.url.split('?')[0]?.split('/').filter((part) => part !== '') ?? [], ...query(step.url) },
      description: `${step.method} ${step.template} → ${step.status}, as config/openapi/legacy-facade.openapi.json documents it.`,
    };
    if (step.body !== undefined) request.body = { mode: 'raw', raw: JSON.stringify(step.body, null, 2), options: { raw: { language: 'json' } } };
    return { name: step.name, request, event: [{ listen: 'test', script: { type: 'text/javascript', exec: testScript(doc, step) } }] };
  });
  return {
    info: {
      name: String(info.title),
      description: `Generated from config/openapi/legacy-facade.openapi.json (version ${String(info.version)}) by \`npm run postman:build\`; do not edit by hand. Run it in order against \`npm run demo\` with config/postman/demo.postman_environment.json.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    event: [
      {
        listen: 'prerequest',
        script: {
          type: 'text/javascript',
          // A fresh user per run, so the story can run again against the same demo.
          exec: [
            "if (!pm.collectionVariables.get('email')) {",
            "  const run = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);",
            "  pm.collectionVariables.set('email', 'newman+' + run + '@example.com');",
            "  pm.collectionVariables.set('emailEncoded', encodeURIComponent('newman+' + run + '@example.com'));",
            "  pm.collectionVariables.set('cid', 'NEWMAN-' + run);",
            '}',
          ],
        },
      },
    ],
    variable: [
      { key: 'email', value: '' },
      { key: 'emailEncoded', value: '' },
      { key: 'cid', value: '' },
    ],
    item: items,
  };
}

function query(url: string): JsonObject {
  const q = url.indexOf('?');
  if (q === -1) return {};
  return { query: url.slice(q + 1).split('&').map((pair) => ({ key: pair.split('=')[0] ?? '', value: pair.split('=').slice(1).join('=') })) };
}

/** The demo's environment: the gateway `npm run demo` starts (PORT, default 8080). */
export function buildDemoEnvironment(): JsonObject {
  return {
    name: 'legacy-user-gateway demo (npm run demo)',
    values: [{ key: 'baseUrl', value: 'http://127.0.0.1:8080', type: 'default', enabled: true }],
    _postman_variable_scope: 'environment',
  };
}
