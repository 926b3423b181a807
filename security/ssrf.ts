/**
 * Address classification for outbound requests. Everything that does not reach the public
 * internet is blocked: loopback, private and link-local ranges, cloud metadata, CGNAT,
 * multicast, reserved and documentation ranges, and IPv6 forms that embed such an IPv4
 * address (mapped, compatible, NAT64, 6to4).
 *
 * IPv4 text is parsed the way inet_aton and the WHATWG URL parser do, so `2130706433`,
 * `0x7f000001`, `0177.0.0.1` and `127.1` are all recognised as 127.0.0.1.
 */
import { BlockList } from 'node:net';

export type BlockReason =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'benchmark'
  | 'documentation'
  | 'invalid';

export interface AddressVerdict {
  blocked: boolean;
  reason?: BlockReason;
  /** Canonical text of the address that was judged (dotted quad or full IPv6). */
  address?: string;
  family?: 4 | 6;
}

// ---- parsing -----------------------------------------------------------------------------

function parseIPv4Part(part: string): number | null {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]*$/.test(part)) return parseInt(part, 8);
  if (/^[1-9][0-9]*$/.test(part)) return parseInt(part, 10);
  return null;
}

/**
 * inet_aton-style IPv4 parser: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x);
 * the last part fills the remaining bytes. Returns the address as an unsigned 32-bit number.
 */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // one trailing dot, as URLs allow
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p.length === 0 || p.length > 12)) return null;
  const values = parts.map(parseIPv4Part);
  if (values.some((v) => v === null)) return null;
  const nums = values as number[];
  const last = nums[nums.length - 1];
  if (last >= 256 ** (5 - nums.length)) return null;
  let result = last;
  for (let i = 0; i < nums.length - 1; i++) {
    if (nums[i] > 255) return null;
    result += nums[i] * 256 ** (3 - i);
  }
  return result;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Dotted quad with decimal parts only: the IPv4 tail of an IPv6 address. */
function strictDottedQuad(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.some((b) => b > 255) ? null : bytes.reduce((acc, b) => acc * 256 + b, 0);
}

/** Parses IPv6 text (brackets and zone id allowed) into eight 16-bit groups. */
export function parseIPv6(text: string): number[] | null {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':') || s.length > 64) return null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    // Rewrite a trailing a.b.c.d as two hex groups, then parse as plain IPv6.
    const v4 = strictDottedQuad(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const toGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const groups = h.split(':');
    if (groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
    return groups.map((g) => parseInt(g, 16));
  };
  const head = toGroups(halves[0]);
  const tail = halves.length === 2 ? toGroups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 2 ? explicit > 7 : explicit !== 8) return null;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
}

function formatIPv6(groups: number[]): string {
  return groups.map((g) => g.toString(16)).join(':');
}

// ---- range tables --------------------------------------------------------------------------

function blockList(family: 'ipv4' | 'ipv6', cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, prefix] = cidr.split('/');
    list.addSubnet(net, Number(prefix), family);
  }
  return list;
}

/** Checked in order; the first match names the reason. */
const IPV4_RANGES: ReadonlyArray<readonly [BlockReason, BlockList]> = [
  ['metadata', blockList('ipv4', ['169.254.169.254/32', '169.254.170.2/32', '100.100.100.200/32', '168.63.129.16/32'])],
  ['broadcast', blockList('ipv4', ['255.255.255.255/32'])],
  ['unspecified', blockList('ipv4', ['0.0.0.0/8'])],
  ['loopback', blockList('ipv4', ['127.0.0.0/8'])],
  ['private', blockList('ipv4', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])],
  ['link_local', blockList('ipv4', ['169.254.0.0/16'])],
  ['cgnat', blockList('ipv4', ['100.64.0.0/10'])],
  ['benchmark', blockList('ipv4', ['198.18.0.0/15'])],
  ['documentation', blockList('ipv4', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'])],
  ['multicast', blockList('ipv4', ['224.0.0.0/4'])],
  ['reserved', blockList('ipv4', ['192.0.0.0/24', '192.88.99.0/24', '240.0.0.0/4'])],
];

const IPV6_RANGES: ReadonlyArray<readonly [BlockReason, BlockList]> = [
  ['metadata', blockList('ipv6', ['fd00:ec2::254/128'])],
  ['private', blockList('ipv6', ['fc00::/7', 'fec0::/10'])],
  ['link_local', blockList('ipv6', ['fe80::/10'])],
  ['multicast', blockList('ipv6', ['ff00::/8'])],
  ['documentation', blockList('ipv6', ['2001:db8::/32', '3fff::/20'])],
  ['benchmark', blockList('ipv6', ['2001:2::/48'])],
  // Teredo (2001::/32) hides an IPv4 address; discard-only 100::/64; local-use NAT64.
  ['reserved', blockList('ipv6', ['2001::/32', '100::/64', '64:ff9b:1::/48', '::/8'])],
];

function firstMatch(ranges: ReadonlyArray<readonly [BlockReason, BlockList]>, address: string, family: 'ipv4' | 'ipv6'): BlockReason | undefined {
  for (const [reason, list] of ranges) if (list.check(address, family)) return reason;
  return undefined;
}

// ---- classification ------------------------------------------------------------------------

export function classifyIPv4(value: number): AddressVerdict {
  const address = formatIPv4(value);
  const reason = firstMatch(IPV4_RANGES, address, 'ipv4');
  return reason === undefined ? { blocked: false, address, family: 4 } : { blocked: true, reason, address, family: 4 };
}

function embedded(groups: number[], hi: number): number {
  return ((groups[hi] << 16) | groups[hi + 1]) >>> 0;
}

export function classifyIPv6(groups: number[]): AddressVerdict {
  const address = formatIPv6(groups);
  const zeroUpTo = (n: number): boolean => groups.slice(0, n).every((g) => g === 0);
  const withAddress = (v: AddressVerdict): AddressVerdict => ({ ...v, address, family: 6 });

  if (zeroUpTo(8)) return { blocked: true, reason: 'unspecified', address, family: 6 };
  if (zeroUpTo(7) && groups[7] === 1) return { blocked: true, reason: 'loopback', address, family: 6 };
  // ::ffff:a.b.c.d (mapped) reaches the IPv4 address itself: judge that address.
  if (zeroUpTo(5) && groups[5] === 0xffff) return withAddress(classifyIPv4(embedded(groups, 6)));
  // ::a.b.c.d (IPv4-compatible) is deprecated; nothing public uses it, so block it whatever it embeds.
  if (zeroUpTo(6)) {
    const inner = classifyIPv4(embedded(groups, 6));
    return { blocked: true, reason: inner.reason ?? 'reserved', address, family: 6 };
  }
  // NAT64 64:ff9b::/96 and 6to4 2002::/16 route to the embedded IPv4 address.
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    return withAddress(classifyIPv4(embedded(groups, 6)));
  }
  if (groups[0] === 0x2002) {
    const inner = classifyIPv4(embedded(groups, 1));
    if (inner.blocked) return withAddress(inner);
  }
  const reason = firstMatch(IPV6_RANGES, address, 'ipv6');
  return reason === undefined ? { blocked: false, address, family: 6 } : { blocked: true, reason, address, family: 6 };
}

/** Classifies an IP literal in any accepted notation. Text that is not an IP is blocked as invalid. */
export function classifyAddress(text: string): AddressVerdict {
  const v6 = parseIPv6(text);
  if (v6 !== null) return classifyIPv6(v6);
  const v4 = parseIPv4(text);
  if (v4 !== null) return classifyIPv4(v4);
  return { blocked: true, reason: 'invalid' };
}

export function isIpLiteral(text: string): boolean {
  return parseIPv6(text) !== null || parseIPv4(text) !== null;
}

/** Names that resolve to the machine itself or to a cloud metadata service. */
const BLOCKED_HOSTNAMES: ReadonlyMap<string, BlockReason> = new Map([
  ['localhost', 'loopback'],
  ['localhost.localdomain', 'loopback'],
  ['ip6-localhost', 'loopback'],
  ['ip6-loopback', 'loopback'],
  ['metadata', 'metadata'],
  ['metadata.google.internal', 'metadata'],
  ['metadata.goog', 'metadata'],
  ['instance-data', 'metadata'],
  ['instance-data.ec2.internal', 'metadata'],
  ['metadata.azure.internal', 'metadata'],
  ['metadata.tencentyun.com', 'metadata'],
]);

export function normalizeHostname(host: string): string {
  return host.toLowerCase().replace(/\.+$/, '');
}

/**
 * Judges a URL host before any DNS: IP literals are classified, known local and metadata
 * names are blocked. Returns null for an ordinary name, whose addresses must be resolved
 * and each classified.
 */
export function classifyHostname(host: string): AddressVerdict | null {
  const name = normalizeHostname(host);
  if (isIpLiteral(name)) return classifyAddress(name);
  const reason = BLOCKED_HOSTNAMES.get(name) ?? (name.endsWith('.localhost') ? 'loopback' : undefined);
  return reason === undefined ? null : { blocked: true, reason };
}
