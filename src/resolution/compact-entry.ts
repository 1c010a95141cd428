// How a cache entry is stored, so that a million cached emails fit in ~130 MB of heap instead of
// ~210 MB (issue 14; measured by `npm run bench:resolution`). Two savings, both invisible outside
// the resolver:
// - the key is stored as one flat string: `${credential} ${email}` built by concatenation is a
//   tree of cons strings (two 20-byte nodes on top of the characters), kept alive by the cache;
// - a canonical lower-case UUID (what V4 hands out) is stored as its 16 bytes, one character per
//   byte behind a tag character, instead of 36 characters; any other id is stored as it is.

/** Never the first character of a stored id: ids with control characters are refused (adapter.ts). */
const PACKED = '\u0001';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * The cache key, flattened into one sequential string (see above). For storing; a lookup may use
 * the plain concatenation. Copied through latin1, which is lossless only for characters up to
 * U+00FF; a key with others (rare: a non-Latin email) keeps its concatenated form, since a utf8
 * copy would turn a lone surrogate into U+FFFD, another key.
 */
export function storedKey(credential: string, normalisedEmail: string): string {
  const key = `${credential} ${normalisedEmail}`;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return key;
  return Buffer.from(key, 'latin1').toString('latin1');
}

export function lookupKey(credential: string, normalisedEmail: string): string {
  return `${credential} ${normalisedEmail}`;
}

export function packUserId(id: string): string {
  if (id.length !== 36 || !UUID.test(id)) return id;
  const codes = new Array<number>(17);
  codes[0] = 1;
  let j = 1;
  for (let i = 0; i < 36; i += 2) {
    if (id.charCodeAt(i) === 45 /* - */) i += 1;
    codes[j++] = parseInt(id.slice(i, i + 2), 16);
  }
  return String.fromCharCode(...codes);
}

export function unpackUserId(stored: string): string {
  if (stored.length !== 17 || stored[0] !== PACKED) return stored;
  const h = (k: number): string => HEX[stored.charCodeAt(k)] ?? '';
  return `${h(1)}${h(2)}${h(3)}${h(4)}-${h(5)}${h(6)}-${h(7)}${h(8)}-${h(9)}${h(10)}-${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}${h(16)}`;
}
