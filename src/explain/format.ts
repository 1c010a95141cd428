import type { Explanation } from './explain';

function json(value: unknown): string {
  return JSON.stringify(value);
}

/** `explain`'s answer as text for a terminal. */
export function formatExplanation(e: Explanation, body?: string): string {
  const lines: string[] = [`${e.method} ${e.path}`];
  if (body !== undefined) lines.push(`  body: ${body}`);
  lines.push('', 'checks, in the order the gateway runs them:');
  if (e.checks.length === 0) lines.push('  (none passed)');
  for (const { check, detail } of e.checks) lines.push(`  ✓ ${check}: ${detail}`);
  lines.push('');
  if (e.v4Calls.length === 0) {
    lines.push('V4 calls: none; nothing reaches V4.');
  } else {
    lines.push('V4 calls (nothing was sent):');
    e.v4Calls.forEach((call, i) => {
      lines.push(`  ${i + 1}. ${call.purpose.padEnd(7)} ${call.method} ${call.path}`);
      if (call.body !== undefined) lines.push(`     body: ${json(call.body)}`);
    });
  }
  for (const note of e.notes) lines.push(`  note: ${note}`);
  lines.push('');
  if (e.error !== undefined) {
    lines.push(`the client gets ${e.answer.status} ${e.error}:`, `  ${json(e.answer.body)}`);
    const headers = Object.entries(e.answer.headers);
    if (headers.length > 0) lines.push(`  headers: ${headers.map(([name, value]) => `${name}: ${value}`).join('; ')}`);
  } else {
    if (e.exampleV4Answer !== undefined) {
      lines.push(`translated back, from an example V4 answer ${e.exampleV4Answer.status}:`, `  ${e.exampleV4Answer.body === undefined ? '(no body)' : json(e.exampleV4Answer.body)}`);
    }
    lines.push(`the client gets ${e.answer.status}:`, `  ${e.answer.body === undefined ? '(no body)' : json(e.answer.body)}`);
    const headers = Object.entries(e.answer.headers);
    if (headers.length > 0) lines.push(`  headers: ${headers.map(([name, value]) => `${name}: ${value}`).join('; ')}`);
  }
  lines.push('  every legacy answer also carries Deprecation and Link (and Sunset when SUNSET_DATE is set), and X-Request-Id');
  return lines.join('\n') + '\n';
}
