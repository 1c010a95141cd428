import type { LookupFunction } from '../../src/resolution/resolver';
import type { CallScope, LookupResult } from '../../src/v4/api';
import { Deadline } from '../../src/v4/deadline';

/** What the resolver tests share: a lookup the test answers, a call scope, and waiting. */

export function lookupScope(ms = 5_000): CallScope {
  return { authorization: 'Apikey k', requestId: 'test', deadline: new Deadline(ms), trace: { v4Calls: 0 } };
}

/** A lookup that answers only when the test says so, counting its calls. */
export class ControlledLookup {
  calls = 0;
  private waiting: Array<(result: LookupResult) => void> = [];
  readonly fn: LookupFunction = () => {
    this.calls += 1;
    return new Promise((resolve) => this.waiting.push(resolve));
  };
  get pending(): number {
    return this.waiting.length;
  }
  answer(userId: string | null): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve(userId === null ? null : { userId });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
