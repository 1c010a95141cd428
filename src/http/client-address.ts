import { BlockList, isIP } from 'node:net';

/** `::ffff:127.0.0.1` is the IPv4 client 127.0.0.1 on a dual-stack socket. */
export function normaliseAddress(address: string): string {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7);
  return address;
}

/** A set of addresses and subnets (an allow list, the trusted proxies), from CIDRs or plain addresses. */
export function buildAddressList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const slash = entry.indexOf('/');
    const written = slash === -1 ? entry : entry.slice(0, slash);
    const address = normaliseAddress(written);
    const mapped = address !== written;
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const full = type === 'ipv6' ? 128 : 32;
    let prefix = slash === -1 ? full : Number(entry.slice(slash + 1));
    // `::ffff:10.0.0.0/104` is the IPv4 10.0.0.0/8: clients are compared in their IPv4 form.
    if (mapped) prefix = slash === -1 ? 32 : prefix - 96;
    if (mapped && prefix < 0) list.addSubnet(written, Number(entry.slice(slash + 1)), 'ipv6');
    else list.addSubnet(address, prefix, type);
  }
  return list;
}

export function inList(list: BlockList, address: string): boolean {
  const normalised = normaliseAddress(address);
  const family = isIP(normalised);
  if (family === 0) return false;
  return list.check(normalised, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The caller's address. X-Forwarded-For is believed only hop by hop from trusted proxies: walking
 * from the right, the first address that is not a trusted proxy is the client. Anything
 * unparseable stops the walk at the last address known to be real.
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, trusted: BlockList | null): string {
  let client = normaliseAddress(peer);
  if (trusted === null || forwardedFor === undefined || !inList(trusted, client)) return client;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = normaliseAddress((hops[i] ?? '').trim());
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!inList(trusted, hop)) return hop;
  }
  return client;
}
