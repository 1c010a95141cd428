import type { TimelineSeries } from '../report-timeline';

/** How the page names each charted series: the legacy call itself, as a client team knows it. */
export const SERIES_LABEL: Readonly<Record<TimelineSeries, string>> = {
  'list-users': 'GET /api/management/user',
  'get-user': 'GET /api/management/user/{email}',
  'create-user': 'POST /api/management/user',
  'update-user': 'PUT /api/management/user/{email}',
  'delete-user': 'DELETE /api/management/user/{email}',
  'legacy-other': 'OPTIONS or another method on a legacy path',
  'v4-passthrough': 'V4 pass-through (/api/user/management/v4/…)',
};

/** One colour per series (the V4 pass-through green: that is where clients should end up). */
export const SERIES_COLOUR: Readonly<Record<TimelineSeries, string>> = {
  'list-users': '#4e79a7',
  'get-user': '#76b7b2',
  'create-user': '#f28e2b',
  'update-user': '#e15759',
  'delete-user': '#b07aa1',
  'legacy-other': '#9c755f',
  'v4-passthrough': '#59a14f',
};
