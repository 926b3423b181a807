/**
 * A bounded map whose entries also expire. A JavaScript Map iterates in
 * insertion order, so re-inserting on read keeps the least recently used entry
 * first, and eviction removes from the front:
 *
 *   oldest ──► [a] [b] [c] [d] ◄── newest        get(b) → [a] [c] [d] [b]
 *
 * An expired entry is dropped when read, or evicted like any other when it
 * reaches the front.
 */
export class ExpiringLru<V> {
  readonly maxEntries: number;
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: now + ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Changes the value of a live entry and keeps its expiry; false when absent or expired. */
  replace(key: string, value: V, now = Date.now()): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= now) return false;
    entry.value = value;
    return true;
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
