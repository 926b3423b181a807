/**
 * Placement of actors on worker hosts. Keyed placement uses rendezvous
 * (highest-random-weight) hashing: each host scores the key and the highest
 * wins, so the same key always lands on the same host, and changing the host
 * count moves only the keys of the hosts that changed.
 */

/** FNV-1a over the UTF-16 code units of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: spreads the bits of h. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Picks one of `hosts` for `key`. */
export function placeByKey(key: string, hosts: readonly number[]): number {
  if (hosts.length === 0) throw new RangeError('no hosts to place on');
  const k = hashString(key);
  let best = hosts[0];
  let bestScore = -1;
  for (const host of hosts) {
    const score = mix(k ^ Math.imul(host + 1, 0x9e3779b1));
    if (score > bestScore) {
      bestScore = score;
      best = host;
    }
  }
  return best;
}
