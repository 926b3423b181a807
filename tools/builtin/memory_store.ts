/**
 * Where `memory_save` / `memory_search` keep notes. The interface is what the
 * tools need: a tenant and namespaces (the scopes, memory_scope.ts). The
 * gateway backs it with the store's vector memory (actors/persistence.ts); the
 * in-memory store here serves TROUPE_STORE=none and tests.
 */

export interface MemoryRecord {
  id: string;
  text: string;
  tags: string[];
  /** The scope's namespace (memory_scope.ts). */
  namespace: string;
  createdAt: number;
}

export interface MemorySearchHit extends MemoryRecord {
  score: number;
}

export interface MemoryStore {
  save(tenant: string, namespace: string, text: string, tags: readonly string[]): Promise<MemoryRecord>;
  /** Best matches first, at most `limit`, from any of `namespaces` of this tenant only. */
  search(tenant: string, namespaces: readonly string[], query: string, limit: number): Promise<MemorySearchHit[]>;
}

export interface InMemoryMemoryStoreOptions {
  /** Notes kept per tenant; the oldest go first (default 1000). */
  maxPerTenant?: number;
  /** Tenants kept; the least recently written goes first (default 1000). */
  maxTenants?: number;
}

function terms(text: string): Set<string> {
  return new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1));
}

/** Term-overlap search, no vectors: the fallback when the gateway runs without a store. */
export class InMemoryMemoryStore implements MemoryStore {
  readonly #tenants = new Map<string, MemoryRecord[]>();
  readonly #maxPerTenant: number;
  readonly #maxTenants: number;
  #seq = 0;

  constructor(options: InMemoryMemoryStoreOptions = {}) {
    this.#maxPerTenant = options.maxPerTenant ?? 1000;
    this.#maxTenants = options.maxTenants ?? 1000;
  }

  async save(tenant: string, namespace: string, text: string, tags: readonly string[]): Promise<MemoryRecord> {
    let notes = this.#tenants.get(tenant);
    if (notes === undefined) {
      if (this.#tenants.size >= this.#maxTenants) this.#tenants.delete(this.#tenants.keys().next().value as string);
      notes = [];
    }
    // Re-insert so Map order is least-recently-written first.
    this.#tenants.delete(tenant);
    this.#tenants.set(tenant, notes);
    const record: MemoryRecord = { id: `m${++this.#seq}`, text, tags: [...tags], namespace, createdAt: Date.now() };
    notes.push(record);
    if (notes.length > this.#maxPerTenant) notes.splice(0, notes.length - this.#maxPerTenant);
    return record;
  }

  async search(tenant: string, namespaces: readonly string[], query: string, limit: number): Promise<MemorySearchHit[]> {
    const wanted = terms(query);
    const visible = new Set(namespaces);
    const hits: MemorySearchHit[] = [];
    for (const record of this.#tenants.get(tenant) ?? []) {
      if (!visible.has(record.namespace)) continue;
      const have = terms(`${record.text} ${record.tags.join(' ')}`);
      let score = 0;
      for (const w of wanted) if (have.has(w)) score++;
      if (score > 0) hits.push({ ...record, score: score / wanted.size });
    }
    // Higher score first; among equals, the newer note.
    hits.sort((a, b) => b.score - a.score || b.createdAt - a.createdAt || b.id.localeCompare(a.id, 'en', { numeric: true }));
    return hits.slice(0, limit);
  }
}
