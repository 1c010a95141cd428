import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { OperationDeps } from '../operations/context';
import { answerLegacyCall } from '../operations/answer-legacy-call';
import type { LegacyAnswer } from '../operations/legacy-answer';
import type { TranslationRecord } from '../operations/translation-record';
import { comparableError, comparableOutcome, tapPages } from '../shadow/answer-values';
import type { Shadow } from '../shadow/create';
import type { ShadowAnswer } from '../shadow/types';
import type { JsonValue } from '../translation/json';
import { isJsonObject } from '../translation/json';
import { LEGACY_COLLECTION_PATH, matchLegacyPath, type LegacyPathMatch } from '../translation/routes';
import type { AnswerTap } from './pass-through';
import type { RequestState } from './request-state';
import { hasUnsafeSegment } from './unsafe-path';

/** A legacy answer longer than this is not compared (legacy-primary keeps a copy while it streams). */
const MAX_COMPARED_BYTES = 8 * 1024 * 1024;

/** Reads are shadowed; a write never is (two stores, two writes, no transaction: README, Shadow comparison). */
const READ_ROUTES: ReadonlySet<string> = new Set(['get-user', 'list-users']);

export function isShadowedRead(req: IncomingMessage, match: LegacyPathMatch): boolean {
  return req.method === 'GET' && match.kind === 'route' && READ_ROUTES.has(match.route.id);
}

function pathOf(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
}

function freshRecord(method: string): TranslationRecord {
  return { route: 'unknown-route', legacyMethod: method, legacyPath: 'other', rules: [], v4Calls: 0 };
}

/**
 * The shadow comparison's hooks into the request path (SHADOW_MODE). Each hook hands the runner
 * values and functions and returns at once: the client's answer never waits for a shadow.
 */
export class Shadowing {
  /** legacy-primary: the reads whose legacy answer, streaming to the client, is to be compared. */
  private readonly legacyReads = new WeakMap<IncomingMessage, RequestState>();

  constructor(
    private readonly shadow: Shadow,
    private readonly operations: OperationDeps,
    private readonly timeoutMs: number,
  ) {}

  get mode(): Shadow['runner']['settings']['mode'] {
    return this.shadow.runner.settings.mode;
  }

  /** A legacy read through the gateway's own path (V4), answered as a comparable value. */
  private readThroughV4(method: string, pathAndQuery: string, state: RequestState, signal?: AbortSignal): Promise<ShadowAnswer> {
    const q = pathAndQuery.indexOf('?');
    const match = matchLegacyPath(method, q === -1 ? pathAndQuery : pathAndQuery.slice(0, q));
    if (match === null) return Promise.reject(new Error(`not a legacy path: ${pathAndQuery}`));
    const input = {
      method,
      rawQuery: q === -1 ? '' : pathAndQuery.slice(q + 1),
      readBody: () => Promise.resolve(''),
      requestId: state.requestId,
      authorization: state.authorization,
      credential: state.credential,
      // Its own record: the client's log line describes the client's call only.
      record: freshRecord(method),
    };
    return comparableOutcome(() => answerLegacyCall(this.operations, match, input, this.timeoutMs), state.requestId, signal);
  }

  /** The same legacy read sent to the legacy backend; only the client's own Authorization goes with it, never the gateway's key. */
  private readThroughLegacy(pathAndQuery: string, req: IncomingMessage, state: RequestState, signal: AbortSignal): Promise<ShadowAnswer> {
    const caller = this.shadow.legacyCaller;
    const headers: Record<string, string> = { 'x-request-id': state.requestId };
    if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
    return caller.call({ method: 'GET', pathAndQuery, headers }, signal);
  }

  /**
   * v4-primary, after the gateway decided its answer to a legacy call: a read is compared with
   * the legacy backend's answer to it (a list once its last page went out); with
   * SHADOW_VERIFY_WRITES, a successful write's user is read back from both sides. Returns the
   * answer to write (a list's pages tapped).
   */
  afterAnswer(req: IncomingMessage, state: RequestState, match: LegacyPathMatch, answer: LegacyAnswer): LegacyAnswer {
    if (this.mode !== 'v4-primary') return answer;
    if (isShadowedRead(req, match)) {
      const { body } = answer;
      if (body.kind !== 'pages') {
        this.submitRead(req, state, { status: answer.status, body: body.kind === 'json' ? body.value : undefined });
        return answer;
      }
      const pages = tapPages(body.pages, (users) => {
        if (users !== null) this.submitRead(req, state, { status: answer.status, body: users });
      });
      return { ...answer, body: { kind: 'pages', pages } };
    }
    if (this.shadow.verifyWrites && answer.status < 300) this.readBack(req, state, match, answer);
    return answer;
  }

  /** v4-primary, after the gateway refused a legacy read: the legacy backend's answer is compared with the refusal. */
  afterRefusal(req: IncomingMessage, state: RequestState, match: LegacyPathMatch, err: unknown): void {
    if (this.mode !== 'v4-primary' || !isShadowedRead(req, match)) return;
    const refused = comparableError(err, state.requestId);
    if (refused !== null) this.submitRead(req, state, refused);
  }

  private submitRead(req: IncomingMessage, state: RequestState, primary: ShadowAnswer): void {
    const pathAndQuery = req.url ?? LEGACY_COLLECTION_PATH;
    // The legacy backend gets the read as it came: never one that would leave its base path.
    if (hasUnsafeSegment(pathOf(pathAndQuery))) return;
    // After this turn of the event loop: the client's answer is written first, the shadow's
    // request is only made after it.
    setImmediate(() =>
      this.shadow.runner.submit({
        route: state.record.route,
        client: state.credential ?? null,
        requestId: state.requestId,
        primary,
        shadow: (signal) => this.readThroughLegacy(pathAndQuery, req, state, signal),
        primaryAgain: (signal) => this.readThroughV4('GET', pathAndQuery, state, signal),
      }),
    );
  }

  /** The user a write left, read back from both sides by its email (the answer's, else the path's). */
  private readBack(req: IncomingMessage, state: RequestState, match: LegacyPathMatch, answer: LegacyAnswer): void {
    if (match.kind !== 'route' || match.route.id === 'list-users' || match.route.id === 'get-user') return;
    const written = answer.body.kind === 'json' && isJsonObject(answer.body.value) ? answer.body.value.email : undefined;
    const segment = typeof written === 'string' ? encodeURIComponent(written) : match.emailSegment;
    if (segment === null || hasUnsafeSegment(segment)) return;
    const path = `${LEGACY_COLLECTION_PATH}/${segment}`;
    const route = match.route.id;
    setImmediate(() =>
      this.shadow.runner.submitReadBack({
        route,
        client: state.credential ?? null,
        requestId: state.requestId,
        readPrimary: (signal) => this.readThroughV4('GET', path, state, signal),
        readShadow: (signal) => this.readThroughLegacy(path, req, state, signal),
      }),
    );
  }

  /**
   * legacy-primary: the legacy backend answered a read (its answer went to the client unchanged
   * and was kept here, bounded); V4 gets the translated read through the gateway's own path.
   */
  private afterLegacyAnswer(req: IncomingMessage, state: RequestState, status: number, body: JsonValue | undefined): void {
    const pathAndQuery = req.url ?? LEGACY_COLLECTION_PATH;
    this.shadow.runner.submit({
      route: state.record.route,
      client: state.credential ?? null,
      requestId: state.requestId,
      primary: { status, body },
      shadow: (signal) => this.readThroughV4('GET', pathAndQuery, state, signal),
      primaryAgain: (signal) => this.readThroughLegacy(pathAndQuery, req, state, signal),
    });
  }

  /** legacy-primary: this read's answer from the legacy backend is to be compared. */
  expectLegacyAnswer(req: IncomingMessage, state: RequestState): void {
    this.legacyReads.set(req, state);
  }

  /**
   * legacy-primary: the legacy backend's answer to an expected read, as it streams to the client,
   * is also kept here (up to MAX_COMPARED_BYTES; a longer one is not compared) and compared once whole.
   */
  onLegacyResponse(req: IncomingMessage, status: number, headers: IncomingHttpHeaders): AnswerTap | null {
    const state = this.legacyReads.get(req);
    if (state === undefined) return null;
    // A compressed answer (the client asked for one) is not read here: it is passed on, not compared.
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return null;
    const chunks: Buffer[] = [];
    let size = 0;
    let kept = true;
    return {
      data: (chunk: Buffer): void => {
        if (!kept) return;
        size += chunk.length;
        if (size > MAX_COMPARED_BYTES) {
          kept = false;
          chunks.length = 0;
        } else chunks.push(chunk);
      },
      end: (): void => {
        if (!kept) return;
        const text = Buffer.concat(chunks, size).toString('utf8');
        let body: JsonValue | undefined;
        try {
          body = text === '' ? undefined : (JSON.parse(text) as JsonValue);
        } catch {
          body = text;
        }
        this.afterLegacyAnswer(req, state, status, body);
      },
    };
  }

}
