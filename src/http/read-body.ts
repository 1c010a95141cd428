import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors';

function tooLarge(limit: number): GatewayError {
  return new GatewayError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes; send a smaller body.`);
}

/** Media types the gateway reads as JSON: application/json and any application/*+json. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Reads a JSON request body as text, refusing before reading when the headers already tell:
 * another media type or any content coding (no gzip bomb is ever inflated) is 415, a declared
 * length past the limit is 413. Stops reading as soon as the limit is passed.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<string> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return Promise.reject(new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Compressed request bodies are not accepted; send the JSON uncompressed.'));
  }
  const declared = req.headers['content-length'];
  const hasBody = declared !== undefined ? declared !== '0' : req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return Promise.reject(new GatewayError('INVALID_JSON', 'The request has no body; send one JSON object.'));
  if (!isJsonMediaType(req.headers['content-type'])) {
    return Promise.reject(new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON; send it with Content-Type: application/json.'));
  }
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      req.removeListener('data', onData);
      // Stop reading the rest; the error answer closes the connection.
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) fail(tooLarge(limit));
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (done) return;
      done = true;
      // Most bodies come in one chunk: read as it is, not copied into a new buffer first.
      resolve((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)).toString('utf8'));
    });
    req.on('error', (err) => fail(err));
    req.on('aborted', () => fail(new Error('client aborted the request')));
  });
}
