/**
 * The V8 flags the gateway runs with: `npm start`, the image's CMD and the benchmarks' gateways
 * all pass exactly these (test/unit/node-flags.test.ts holds package.json and the Dockerfile to
 * it). Flags the process is started with, because V8 reads them when it sets up its heap.
 *
 * --max-semi-space-size=8 (MB; Node 20's default on this machine grows to 16): a streamed list
 *   makes garbage fast (every page is parsed, translated and written), and V8 let the young
 *   generation grow to its maximum before collecting it. With 8 MB the 100,000-user list's peak
 *   RSS was 102 MB instead of 120 MB, at no throughput cost the benchmark could see (README,
 *   Performance).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
