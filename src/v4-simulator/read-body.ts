// Reads a request body up to a byte limit. Past the limit the rest is drained (not kept) and
// the request is still answered, with a 413: answering before the client finished sending
// would make many clients see a reset instead of the status.
import type { IncomingMessage } from 'node:http';

export interface ReadBody {
  rawBody: string;
  oversized: boolean;
}

export function readBody(req: IncomingMessage, limitBytes: number, done: (body: ReadBody) => void): void {
  // HTTP/1.1: a request with neither header has no body; skip the wait for 'end' (hot path of GETs).
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    done({ rawBody: '', oversized: false });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let oversized = false;
  req.on('data', (chunk: Buffer) => {
    if (oversized) return;
    size += chunk.length;
    if (size > limitBytes) {
      oversized = true;
      chunks.length = 0;
    } else {
      chunks.push(chunk);
    }
  });
  // A client that goes away mid-body gets no answer: 'end' never fires, nothing is called.
  req.on('end', () => done({ rawBody: oversized ? '' : Buffer.concat(chunks).toString('utf8'), oversized }));
}
