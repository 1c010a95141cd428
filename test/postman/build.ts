import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCollection, buildDemoEnvironment } from './collection-builder';

/** `npm run postman:build`: regenerates config/postman/ from the OpenAPI document. */
const root = join(__dirname, '../../..');
const doc = JSON.parse(readFileSync(join(root, 'config/openapi/legacy-facade.openapi.json'), 'utf8')) as Parameters<typeof buildCollection>[0];
const COLLECTION_FILE = 'config/postman/legacy-facade.postman_collection.json';
const ENVIRONMENT_FILE = 'config/postman/demo.postman_environment.json';
writeFileSync(join(root, COLLECTION_FILE), JSON.stringify(buildCollection(doc), null, 2) + '\n');
writeFileSync(join(root, ENVIRONMENT_FILE), JSON.stringify(buildDemoEnvironment(), null, 2) + '\n');
process.stdout.write(`wrote ${COLLECTION_FILE} and ${ENVIRONMENT_FILE}\n`);
