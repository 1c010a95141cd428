import type { BrownoutConfig } from '../../config/schema';
import { escapeHtml } from './escape';

/** The planned brownouts (BROWNOUTS), each with where it stands now: over, on now, or to come. */
export function brownoutSection(windows: readonly BrownoutConfig[], now: number, names: Readonly<Record<string, string>>): string {
  if (windows.length === 0) return '';
  const rows = windows
    .map((window) => {
      const from = Date.parse(window.from);
      const to = Date.parse(window.to);
      const state = now >= to ? 'over' : now >= from ? 'on now' : 'planned';
      const who = window.client === '*' ? 'every client' : (names[window.client] ?? `client ${window.client}`);
      const routes = window.routes === undefined ? 'every legacy route' : window.routes.join(', ');
      return `<tr data-brownout-state="${state === 'on now' ? 'active' : state}"><td>${escapeHtml(who)}</td><td>${escapeHtml(routes)}</td><td><time datetime="${escapeHtml(window.from)}">${escapeHtml(window.from)}</time></td><td><time datetime="${escapeHtml(window.to)}">${escapeHtml(window.to)}</time></td><td><strong>${state}</strong></td></tr>`;
    })
    .join('');
  return `<section class="brownouts"><h2>Planned brownouts</h2><p>During a window the client's legacy calls are refused with <code>410 LEGACY_API_BROWNOUT</code>, a <code>Retry-After</code> until the window ends and the successor link, and nothing is sent to V4: a rehearsal of the switch-off before the Sunset date. Refused calls show under the client's error codes.</p>
<table><thead><tr><th scope="col">who</th><th scope="col">routes</th><th scope="col">from</th><th scope="col">to</th><th scope="col">now</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
