import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayDeps } from '../build-deps';
import { GatewayError, missingCredentials } from '../errors';
import { matchLegacyPath, type LegacyPathMatch } from '../translation/routes';
import { V4_PREFIX } from '../v4/adapter';
import { admit } from './accept';
import type { RequestState } from './request-state';
import { isShadowedRead } from './shadowing';
import { hasUnsafeSegment } from './unsafe-path';

type LegacyStage = (req: IncomingMessage, res: ServerResponse, state: RequestState, match: LegacyPathMatch, rawQuery: string) => Promise<void>;


function notFound(): GatewayError {
  return new GatewayError('NOT_FOUND', 'No such route on this gateway; legacy calls live under /api/management/user, V4 calls under /api/user/management/v4/.');
}

/**
 * Where a call goes, decided once for every path: a legacy route (marked deprecated, then
 * translated), a V4 path (passed through unchanged), or anything else (the legacy backend, or
 * 404). Callers outside ALLOW_CIDRS are refused here, after a legacy call was marked as one.
 * A legacy call in a planned brownout (BROWNOUTS) is refused with 410 before it goes anywhere.
 * With SHADOW_MODE=legacy-primary the legacy backend answers the legacy routes too.
 */
export function createDispatch(deps: GatewayDeps, legacy: LegacyStage) {
  const { v4PassThrough, legacyBackend, deprecationHeaders, shadowing, brownouts } = deps;
  /** SHADOW_MODE=legacy-primary: the legacy backend answers legacy calls; V4 gets reads as the shadow. */
  const legacyFirst = shadowing !== null && shadowing.mode === 'legacy-primary' ? legacyBackend : null;
  // Not an async function: each call would cost one more promise and turn. It throws what it
  // refuses at once, and hands back the promise of the stage that answers (app.ts takes both).
  return (req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const match = matchLegacyPath(req.method ?? '', path);
    if (match !== null) {
      for (const item of deprecationHeaders) state.ownHeaders.push(item);
      state.record.legacyPath = match.template;
      admit(state);
      state.record.route = match.kind === 'route' ? match.route.id : `legacy-${match.kind}`;
      brownouts.check(state.credential, match.kind === 'route' ? match.route.id : null);
      if (legacyFirst !== null) {
        // Forwarded as it came: a dot segment or backslash would leave LEGACY_BASE_URL's path.
        if (hasUnsafeSegment(path)) throw notFound();
        if (isShadowedRead(req, match)) shadowing?.expectLegacyAnswer(req, state);
        return legacyFirst.handler(req, res);
      }
      return legacy(req, res, state, match, q === -1 ? '' : url.slice(q + 1));
    }
    admit(state);
    if (!path.startsWith('/') || hasUnsafeSegment(path)) throw notFound();
    if (v4PassThrough !== null && path.startsWith(V4_PREFIX)) {
      state.record.route = 'v4-passthrough';
      if (state.authorization === null) throw missingCredentials();
      state.record.v4Method = req.method ?? '';
      state.record.v4Path = path;
      return v4PassThrough.handler(req, res);
    }
    if (legacyBackend !== null) {
      state.record.route = 'legacy-backend';
      return legacyBackend.handler(req, res);
    }
    throw notFound();
  };
}
