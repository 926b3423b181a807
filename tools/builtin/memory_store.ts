/**
 * Where `memory_save` / `memory_search` keep notes. The interface is what the
 * tools need; the in-memory store here is the default until store/ provides a
 * persistent (and vector) one behind the same interface.
 */

export interface MemoryScope {
  tenant: string;
  sessionId: string;
}

export interface MemoryRecord {
  id: string;
  text: string;
  tags: string[];
  sessionId: string;
  createdAt: number;
}

export interface MemorySearchHit extends MemoryRecord {
  score: number;
}

export interface MemoryStore {
  save(scope: MemoryScope, text: string, tags: readonly string[]): Promise<MemoryRecord>;
  /** Best matches first, at most `limit`. Scoped to the tenant: notes are shared by its sessions. */
  search(scope: MemoryScope, query: string, limit: number): Promise<MemorySearchHit[]>;
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

/** Term-overlap search: enough for notes until a vector store replaces it. */
export class InMemoryMemoryStore implements MemoryStore {
  readonly #tenants = new Map<string, MemoryRecord[]>();
  readonly #maxPerTenant: number;
  readonly #maxTenants: number;
  #seq = 0;

  constructor(options: InMemoryMemoryStoreOptions = {}) {
    this.#maxPerTenant = options.maxPerTenant ?? 1000;
    this.#maxTenants = options.maxTenants ?? 1000;
  }

  async save(scope: MemoryScope, text: string, tags: readonly string[]): Promise<MemoryRecord> {
    let notes = this.#tenants.get(scope.tenant);
    if (notes === undefined) {
      if (this.#tenants.size >= this.#maxTenants) this.#tenants.delete(this.#tenants.keys().next().value as string);
      notes = [];
    }
    // Re-insert so Map order is least-recently-written first.
    this.#tenants.delete(scope.tenant);
    this.#tenants.set(scope.tenant, notes);
    const record: MemoryRecord = { id: `m${++this.#seq}`, text, tags: [...tags], sessionId: scope.sessionId, createdAt: Date.now() };
    notes.push(record);
    if (notes.length > this.#maxPerTenant) notes.splice(0, notes.length - this.#maxPerTenant);
    return record;
  }

  async search(scope: MemoryScope, query: string, limit: number): Promise<MemorySearchHit[]> {
    const wanted = terms(query);
    const hits: MemorySearchHit[] = [];
    for (const record of this.#tenants.get(scope.tenant) ?? []) {
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
