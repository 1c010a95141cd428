import { readFileSync } from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocumentPath } from '../../src/observability/openapi-document';

/** What the gateway answered, as read off the wire. */
export interface ObservedAnswer {
  readonly method: string;
  /** The document's path template (`/api/management/user/{email}`), or null for a path outside the facade. */
  readonly template: string | null;
  readonly status: number;
  /** Lower-case names, as node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Headers any HTTP answer may carry that no API description lists. */
const TRANSPORT_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);
const DOC_ID = 'https://legacy-user-gateway.invalid/openapi.json';

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SCHEMA_REF = '#/components/schemas/';

/** `#/components/schemas/X` refs pointed at one registered schema holding them as `$defs`, so a schema compiled alone finds them. */
function absoluteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(absoluteRefs);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof inner === 'string' && inner.startsWith(SCHEMA_REF) ? `${DOC_ID}#/$defs/${inner.slice(SCHEMA_REF.length)}` : absoluteRefs(inner);
  }
  return out;
}

/**
 * Checks answers against the OpenAPI document (ajv, JSON Schema 2020-12, OpenAPI 3.1's dialect):
 * the status must be documented for the operation, every required header present, every header
 * sent documented (beyond transport headers) and matching its schema, the media type documented,
 * and the body valid against its schema (or absent when none is documented).
 */
export class OpenApiResponseValidator {
  readonly document: JsonObject;
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(document?: JsonObject) {
    this.document = document ?? (JSON.parse(readFileSync(openApiDocumentPath(), 'utf8')) as JsonObject);
    this.ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
    addFormats(this.ajv);
    // OpenAPI's own keywords in its 3.1 dialect: annotations, no validation.
    this.ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
    const components = this.document.components;
    const schemas = isObject(components) && isObject(components.schemas) ? components.schemas : {};
    this.ajv.addSchema({ $id: DOC_ID, $defs: absoluteRefs(schemas) });
  }

  /** Problems found, empty when the answer conforms. */
  check(answer: ObservedAnswer): string[] {
    const problems: string[] = [];
    const response = this.responseFor(answer, problems);
    if (response === null) return problems;
    const declared = isObject(response.headers) ? response.headers : {};
    const declaredNames = new Set(Object.keys(declared).map((name) => name.toLowerCase()));
    for (const [name, raw] of Object.entries(declared)) {
      const header = this.resolve(raw);
      const value = answer.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required === true) problems.push(`header ${name} is required but was not sent`);
        continue;
      }
      const text = Array.isArray(value) ? value.join(', ') : value;
      const validate = this.compile(`header:${JSON.stringify(header.schema)}`, header.schema ?? {});
      if (!validate(text)) problems.push(`header ${name}: ${JSON.stringify(text)} ${this.ajv.errorsText(validate.errors)}`);
    }
    for (const name of Object.keys(answer.headers)) {
      if (!declaredNames.has(name) && !TRANSPORT_HEADERS.has(name)) problems.push(`header ${name} was sent but is not documented for ${answer.status}`);
    }
    const content = isObject(response.content) ? response.content : null;
    if (content === null || answer.method === 'HEAD') {
      if (answer.body !== '') problems.push(`a body was sent but none is documented: ${answer.body.slice(0, 120)}`);
      return problems;
    }
    const mediaType = String(answer.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const media = content[mediaType];
    if (!isObject(media)) {
      problems.push(`content-type ${JSON.stringify(mediaType)} is not documented (documented: ${Object.keys(content).join(', ')})`);
      return problems;
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      problems.push(`the body is not JSON: ${answer.body.slice(0, 120)}`);
      return problems;
    }
    const validate = this.compile(`body:${answer.method} ${answer.template ?? 'NotFound'} ${answer.status}:${mediaType}`, media.schema ?? {});
    if (!validate(body)) problems.push(`body: ${this.ajv.errorsText(validate.errors)} in ${answer.body.slice(0, 300)}`);
    return problems;
  }

  /** The documented response for the answer's operation and status (exact status, then `4XX`/`5XX`). */
  private responseFor(answer: ObservedAnswer, problems: string[]): JsonObject | null {
    if (answer.template === null) {
      // Outside the facade: the one documented answer is the NotFound response.
      const components = this.document.components as JsonObject;
      if (answer.status !== 404) {
        problems.push(`a path outside the facade answered ${answer.status}; only 404 NotFound is documented`);
        return null;
      }
      return this.resolve((components.responses as JsonObject).NotFound as Json);
    }
    const paths = this.document.paths as JsonObject;
    const path = paths[answer.template];
    const operation = isObject(path) ? path[answer.method.toLowerCase()] : undefined;
    if (!isObject(operation) || !isObject(operation.responses)) {
      problems.push(`${answer.method} ${answer.template} is not documented`);
      return null;
    }
    const responses = operation.responses;
    const found = responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`] ?? responses.default;
    if (found === undefined) {
      problems.push(`${answer.method} ${answer.template} answered ${answer.status}, which is not documented (documented: ${Object.keys(responses).join(', ')})`);
      return null;
    }
    return this.resolve(found);
  }

  private resolve(value: Json): JsonObject {
    let current: Json = value;
    for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops += 1) {
      if (hops > 10) throw new Error('a $ref cycle');
      const pointer = current.$ref.replace(/^#\//, '').split('/');
      current = pointer.reduce<Json>((node, key) => (isObject(node) ? (node[key] ?? null) : null), this.document);
    }
    if (!isObject(current)) throw new Error(`cannot resolve ${JSON.stringify(value)}`);
    return current;
  }

  private compile(key: string, schema: Json): ValidateFunction {
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(absoluteRefs(schema) as object);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
