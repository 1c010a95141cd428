/** A dot segment (`.`, `..`, raw or percent-encoded) between slashes or at either end. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** A path with a dot segment or a backslash (raw or encoded): never forwarded anywhere as it came. */
export function hasUnsafeSegment(path: string): boolean {
  return path.includes('\\') || /%5c/i.test(path) || DOT_SEGMENT.test(path);
}
