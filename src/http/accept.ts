import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/load';
import { GatewayError } from '../errors';
import { FingerprintMemo } from '../resolution/credential-fingerprint';
import { buildAddressList, clientAddress, inList } from './client-address';
import { authorizationFor, configuredAuthorization } from './credentials';
import { newTranslationRecord } from '../operations/translation-record';
import { attachState, stateOf, type RequestState } from './request-state';

/** Told about every call once it is over (the log line, metrics, the migration report). */
export type CallObserver = (state: RequestState, legacyStatus: number, completed: boolean) => void;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface Caller {
  readonly address: string;
  readonly allowed: boolean;
}

/**
 * The first stage of every call: its request id (the caller's if well-formed), the credentials
 * V4 will get and their fingerprint, where the caller is, and the observers told when the call
 * is over, whatever happened. Whether the caller may call is decided here but refused by `admit`,
 * after dispatch has marked a legacy call as one (so a refused legacy call still carries the
 * deprecation headers).
 */
export function createAccept(config: GatewayConfig, observers: readonly CallObserver[]): (req: IncomingMessage, res: ServerResponse) => RequestState {
  const fingerprints = new FingerprintMemo();
  const configuredKey = configuredAuthorization(config.v4ApiKey);
  const allowList = buildAddressList(config.allowCidrs);
  const trustedProxies = config.trustedProxies.length === 0 ? null : buildAddressList(config.trustedProxies);
  /**
   * Decided once per connection, unless X-Forwarded-For counts (it may change per request): kept
   * on the socket under a symbol (request-state.ts says why not in a WeakMap), per gateway.
   */
  const CALLER = Symbol('gateway.caller');
  type WithCaller = Socket & { [CALLER]?: Caller };
  const callerOf = (req: IncomingMessage): Caller => {
    const peer = req.socket.remoteAddress ?? '';
    if (trustedProxies !== null && inList(trustedProxies, peer)) {
      const address = clientAddress(peer, req.headers['x-forwarded-for'] as string | undefined, trustedProxies);
      return { address, allowed: inList(allowList, address) };
    }
    const socket = req.socket as WithCaller;
    let known = socket[CALLER];
    if (known === undefined) {
      const address = clientAddress(peer, undefined, null);
      known = { address, allowed: inList(allowList, address) };
      socket[CALLER] = known;
    }
    return known;
  };
  const accept = (req: IncomingMessage, res: ServerResponse): RequestState => {
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const authorization = authorizationFor(req, configuredKey);
    const caller = callerOf(req);
    const state: RequestState = {
      requestId,
      startedAt: performance.now(),
      clientAddress: caller.address,
      admitted: caller.allowed,
      authorization,
      credential: authorization === null ? undefined : fingerprints.of(authorization),
      record: newTranslationRecord(req.method ?? ''),
      ownHeaders: ['x-request-id', requestId],
    };
    attachState(res, state);
    // `on`, not `once`: an answer closes once, and `once` would wrap the listener on every call.
    res.on('close', callOver);
    return state;
  };
  /** One function for every call (`this` is the answer), not a closure per call. */
  function callOver(this: ServerResponse): void {
    const state = stateOf(this);
    if (state === undefined) return;
    // A client that left before anything was sent got no status at all.
    const status = this.headersSent ? this.statusCode : 0;
    for (const observe of observers) observe(state, status, this.writableFinished);
  }

  return accept;
}

/** Refuses a caller outside ALLOW_CIDRS. */
export function admit(state: RequestState): void {
  if (state.admitted) return;
  state.record.route = 'forbidden';
  throw new GatewayError('FORBIDDEN_CLIENT', 'This gateway does not serve your network; ask its operators to add it to ALLOW_CIDRS.', { detail: 'caller outside ALLOW_CIDRS' });
}
