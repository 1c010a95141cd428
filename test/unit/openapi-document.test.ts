import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createMemoryLogger } from '../integration/memory-logger';
import { ERROR_STATUS } from '../../src/errors';
import { createAdminApp } from '../../src/observability/admin-app';
import { loadOpenApiDocument, openApiDocumentPath } from '../../src/observability/openapi-document';
import { OpenApiResponseValidator, type ObservedAnswer } from '../integration/openapi-validator';

type Json = Record<string, unknown>;
const documentText = readFileSync(openApiDocumentPath(), 'utf8');
const doc = JSON.parse(documentText) as Json;

/** @seriousme/openapi-schema-validator's CLI (the package is ESM-only; jest here runs CommonJS). */
function validateWithCli(path: string): Promise<{ code: number; output: string }> {
  const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, path], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: stdout + stderr });
    });
  });
}

describe('config/openapi/legacy-facade.openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validateWithCli(openApiDocumentPath());
    expect(result).toEqual({ code: 0, output: expect.stringContaining('"valid": true') });
  });

  it('the validator does refuse a broken document', async () => {
    const broken = JSON.parse(documentText) as { paths: Record<string, Record<string, Json>> };
    (broken.paths['/api/management/user'] as Record<string, Json>).get = { responses: { '200': { content: 'not an object' } } };
    const path = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'broken.json');
    writeFileSync(path, JSON.stringify(broken));
    const result = await validateWithCli(path);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('"valid": false');
  });

  it('lists exactly the error codes of src/errors.ts, each under its own status', () => {
    const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
    const gatewayError = schemas.GatewayError as { properties: { error: { properties: { code: { enum: string[] } } } } };
    expect([...gatewayError.properties.error.properties.code.enum].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    // Every `code` enum/const narrowed under a response key must belong to that status.
    const responses = (doc.components as { responses: Record<string, Json> }).responses;
    const checked: string[] = [];
    const visit = (status: string, node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      const record = node as Record<string, unknown>;
      if (typeof record.$ref === 'string' && record.$ref.startsWith('#/components/responses/')) visit(status, responses[record.$ref.split('/').pop() as string]);
      const code = (record.properties as { code?: { enum?: string[]; const?: string } } | undefined)?.code;
      for (const name of code?.enum ?? (code?.const === undefined ? [] : [code.const])) {
        checked.push(name);
        const own = String(ERROR_STATUS[name as keyof typeof ERROR_STATUS]);
        // A range key (`5XX`) holds the codes of its class: INTERNAL_ERROR (500) shares it with V4's own 5xx.
        const key = /^\dXX$/.test(status) && own.startsWith(status[0] as string) ? own : status;
        expect({ code: name, status: own }).toEqual({ code: name, status: key });
      }
      for (const value of Object.values(record)) if (typeof value === 'object' && record.$ref === undefined) visit(status, value);
    };
    for (const item of Object.values(doc.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>)) {
      for (const operation of Object.values(item)) for (const [status, response] of Object.entries(operation.responses ?? {})) visit(status, response);
    }
    expect(new Set(checked).size).toBe(Object.keys(ERROR_STATUS).length - 1); // NOT_FOUND lives outside the paths
  });

  it('is served on the admin port as GET /openapi.json', async () => {
    const admin = createAdminApp({ readiness: [], logger: createMemoryLogger('error').logger, warmUp: () => Promise.reject(new Error('unused')), openApiDocument: loadOpenApiDocument() });
    const res = await request(admin).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual(doc);
  });
});

describe('the response validator fails answers that drift from the document', () => {
  const validator = new OpenApiResponseValidator();
  const user = { id: 'u-1', name: 'Jane', email: 'jane@example.com', cid: 'C1', user_flags: [], registration_information: { registration_state: 'UNREGISTERED', registration_time: 1 }, default_user_profile: { id: 'p', name: 'Jane' } };
  const legacyHeaders = { 'x-request-id': 'r-1', deprecation: '@1700000000', link: '</api/user/management/v4/users>; rel="successor-version"', 'content-type': 'application/json; charset=utf-8' };
  const good: ObservedAnswer = { method: 'GET', template: '/api/management/user/{email}', status: 200, headers: legacyHeaders, body: JSON.stringify(user) };
  const error = (code: string, extra: Json = {}): string => JSON.stringify({ error: { code, message: 'what to do', request_id: 'r-1', ...extra } });

  it('accepts the conforming answer the cases below are made from', () => {
    expect(validator.check(good)).toEqual([]);
  });

  it.each<[string, Partial<ObservedAnswer>, RegExp]>([
    ['a V4 field leaking into the legacy user', { body: JSON.stringify({ ...user, external_id: 'C1' }) }, /must NOT have additional properties/],
    ['contact_details.email not moved out', { body: JSON.stringify({ ...user, contact_details: { email: 'jane@example.com' } }) }, /must NOT have additional properties/],
    ['a wrong type', { body: JSON.stringify({ ...user, cid: 42 }) }, /cid must be string,null/],
    ['an array for a user', { body: JSON.stringify([user]) }, /must be object/],
    ['no Deprecation header', { headers: { ...legacyHeaders, deprecation: undefined } }, /header Deprecation is required/],
    ['a wrong Link header', { headers: { ...legacyHeaders, link: '</v5>; rel="successor-version"' } }, /header Link/],
    ['an undocumented header', { headers: { ...legacyHeaders, 'x-powered-by': 'Express' } }, /x-powered-by was sent but is not documented/],
    ['an undocumented status', { status: 418 }, /answered 418, which is not documented/],
    ['an undocumented media type', { headers: { ...legacyHeaders, 'content-type': 'text/html' } }, /content-type "text\/html" is not documented/],
    ['an undocumented operation', { method: 'TRACE' }, /TRACE \/api\/management\/user\/\{email\} is not documented/],
    ['an error code under the wrong status', { status: 404, body: error('AMBIGUOUS_EMAIL') }, /must be equal to one of the allowed values/],
    [
      'a gateway error without request_id (where no V4 answer can be passed through)',
      { method: 'PATCH', template: '/api/management/user', status: 405, headers: { ...legacyHeaders, allow: 'GET, HEAD, POST, OPTIONS' }, body: JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'x' } }) },
      /must have required property 'request_id'/,
    ],
    ['a gateway error with an extra field', { status: 409, body: error('AMBIGUOUS_EMAIL', { stack: 'at …' }) }, /must NOT have additional properties/],
  ])('%s', (_name, change, problem) => {
    const problems = validator.check({ ...good, ...change, headers: Object.fromEntries(Object.entries({ ...(change.headers ?? good.headers) }).filter(([, value]) => value !== undefined)) });
    expect(problems.join('\n')).toMatch(problem);
  });

  it('a body on a 204, or on a HEAD', () => {
    expect(validator.check({ ...good, method: 'DELETE', status: 204, body: '{}' }).join('\n')).toMatch(/a body was sent but none is documented/);
    expect(validator.check({ ...good, method: 'HEAD', body: JSON.stringify(user) }).join('\n')).toMatch(/a body was sent but none is documented/);
  });
});
