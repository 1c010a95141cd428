import type { Logger } from 'winston';
import { readUserNormalisedEmail, readUserPage, isPlainId, V4_MAX_PAGE_LIMIT } from '../v4/adapter';
import { parseJsonAnswer, untracedScope, V4Answer, type V4Api } from '../v4/api';
import { Deadline } from '../v4/deadline';
import { credentialFingerprint } from './credential-fingerprint';
import type { Resolver } from './resolver';

export interface WarmUpReport {
  readonly pages: number;
  readonly users: number;
  /** Entries added to the cache (emails already cached are left alone: they are newer). */
  readonly cached: number;
  /** Emails held by more than one user: never cached, a lookup answers AMBIGUOUS_EMAIL for them. */
  readonly ambiguous: number;
  readonly ms: number;
}

export interface WarmUpOptions {
  readonly v4: V4Api;
  readonly resolver: Resolver;
  readonly logger: Logger;
  /** Deadline of each page request. */
  readonly pageTimeoutMs: number;
  /** Log a progress line every this many pages. */
  readonly progressEveryPages?: number;
}

/**
 * Pages through the V4 index with one tenant's credentials and fills the cache, so that a bulk
 * legacy job that updates N known users costs about N upstream writes instead of 2N calls.
 * Asynchronous page by page: serving goes on meanwhile. Entries are added only after the whole
 * pass, so an email two users share is never cached from the first of them.
 */
export async function warmUpCache(options: WarmUpOptions, authorization: string): Promise<WarmUpReport> {
  const { v4, resolver, logger } = options;
  const credential = credentialFingerprint(authorization);
  const started = performance.now();
  const found = new Map<string, string>();
  const ambiguous = new Set<string>();
  let pages = 0;
  let users = 0;
  let cached = 0;
  let offset = 0;
  let total = Infinity;
  logger.info('cache warm-up started', { client_credential: credential });
  // The pass takes a while: a write meanwhile may move an email it has read (a rename, a delete),
  // and what the pass read of it must not be kept over the write.
  const fill = resolver.openFill();
  try {
    while (offset < total) {
      const scope = untracedScope(authorization, `warm-up-${pages}`, new Deadline(options.pageTimeoutMs));
      const response = await v4.page({ offset, limit: V4_MAX_PAGE_LIMIT }, scope);
      if (response.status !== 200) throw new V4Answer(response);
      const page = readUserPage(parseJsonAnswer(response));
      total = page.total;
      pages += 1;
      if (page.users.length === 0) break;
      for (const user of page.users) {
        const email = readUserNormalisedEmail(user);
        if (email === undefined || !isPlainId(user.id)) continue;
        if (found.has(email)) ambiguous.add(email);
        else found.set(email, user.id);
      }
      users += page.users.length;
      offset += page.users.length;
      if (pages % (options.progressEveryPages ?? 20) === 0) {
        const seconds = (performance.now() - started) / 1000;
        logger.info('cache warm-up progress', { pages, users, total, users_per_second: Math.round(users / seconds) });
      }
    }
    for (const [email, userId] of found) {
      if (ambiguous.has(email)) continue;
      if (await fill.keep(credential, email, userId)) cached += 1;
    }
  } finally {
    fill.close();
  }
  const ms = Math.round(performance.now() - started);
  const report: WarmUpReport = { pages, users, cached, ambiguous: ambiguous.size, ms };
  logger.info('cache warm-up finished', { ...report, users_per_second: Math.round(users / Math.max(ms / 1000, 0.001)) });
  return report;
}
