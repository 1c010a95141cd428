import type { BrownoutConfig } from '../config/schema';
import { GatewayError } from '../errors';
import type { LegacyRouteId } from '../translation/routes';
import { V4_USERS_PATH } from '../v4/adapter';

/** One planned switch-off, compiled. */
export interface BrownoutWindow {
  /** A credential fingerprint, or `*` for every client. */
  readonly client: string;
  readonly from: number;
  readonly to: number;
  /** Null: every legacy route. */
  readonly routes: ReadonlySet<LegacyRouteId> | null;
}

/**
 * Planned brownouts (BROWNOUTS): windows during which a client's legacy calls are refused with
 * `410 Gone` and the successor link, so a team can rehearse the switch-off (does the client
 * notice? does someone call?) before the Sunset date, and end the rehearsal by ending the window.
 * Nothing reaches V4 or the legacy backend during one. Off by default (no windows).
 */
export class Brownouts {
  readonly windows: readonly BrownoutWindow[];

  constructor(config: readonly BrownoutConfig[], private readonly now: () => number = Date.now) {
    this.windows = config.map((window) => ({
      client: window.client,
      from: Date.parse(window.from),
      to: Date.parse(window.to),
      routes: window.routes === undefined ? null : new Set(window.routes),
    }));
  }

  /** The window refusing this call now, if any (`route` null: a legacy path that is no route, such as a 405). */
  activeFor(credential: string | undefined, route: LegacyRouteId | null): BrownoutWindow | null {
    if (this.windows.length === 0) return null;
    const now = this.now();
    for (const window of this.windows) {
      if (now < window.from || now >= window.to) continue;
      if (window.client !== '*' && window.client !== credential) continue;
      if (window.routes !== null && (route === null || !window.routes.has(route))) continue;
      return window;
    }
    return null;
  }

  /** Refuses the call when a window is active for it. */
  check(credential: string | undefined, route: LegacyRouteId | null): void {
    const window = this.activeFor(credential, route);
    if (window === null) return;
    const until = new Date(window.to);
    throw new GatewayError(
      'LEGACY_API_BROWNOUT',
      `The legacy API is switched off for you until ${until.toISOString()} (a planned brownout, rehearsing its retirement); use User Management V4 (${V4_USERS_PATH}).`,
      { headers: { 'retry-after': String(Math.max(1, Math.ceil((window.to - this.now()) / 1000))) }, detail: 'planned brownout' },
    );
  }
}
