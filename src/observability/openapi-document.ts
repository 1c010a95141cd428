import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultConfigPath } from '../config/load';

/** config/openapi/legacy-facade.openapi.json, found beside config/default.json wherever the code runs from. */
export function openApiDocumentPath(): string {
  return join(dirname(defaultConfigPath()), 'openapi', 'legacy-facade.openapi.json');
}

/**
 * The OpenAPI description of the legacy facade as served on GET /openapi.json: read once at
 * start, and parsed here so that a broken file stops the start instead of being served.
 */
export function loadOpenApiDocument(path = openApiDocumentPath()): string {
  const text = readFileSync(path, 'utf8');
  const parsed = JSON.parse(text) as { openapi?: unknown };
  if (typeof parsed.openapi !== 'string' || !parsed.openapi.startsWith('3.1')) throw new Error(`${path} is not an OpenAPI 3.1 document`);
  return JSON.stringify(parsed);
}
