/**
 * Which database to open, as plain data: it crosses to the store worker in a
 * spawn message, so it holds no functions and no handles. Memory's embedder
 * is named as a module and export (`(args) => Promise<Embedder>`) that the
 * opening thread imports: the embedder lives with the database.
 */
import { mkdirSync } from 'node:fs';
import type { Embedder } from './memory/embedder.js';
import { openStore, type Store } from './store.js';

export interface EmbedderFactory { module: string; export: string; args?: unknown }

interface Common { embedder?: EmbedderFactory }

export type StoreSettings =
  | (Common & { kind: 'pglite'; dataDir: string })
  | (Common & { kind: 'postgres'; databaseUrl: string; appDatabaseUrl?: string; schema?: string; poolSize?: number });

async function makeEmbedder(f: EmbedderFactory | undefined): Promise<Embedder | undefined> {
  if (f === undefined) return undefined;
  const m = (await import(f.module)) as Record<string, unknown>;
  const make = m[f.export];
  if (typeof make !== 'function') throw new Error(`${f.module} has no function ${f.export}`);
  return (make as (args: unknown) => Promise<Embedder>)(f.args);
}

/** Opens (and by default migrates) the store the settings name; creates a PGlite data dir owner-only. */
export async function openStoreWith(s: StoreSettings, migrate = true): Promise<Store> {
  const embedder = await makeEmbedder(s.embedder);
  const common = { migrate, ...(embedder === undefined ? {} : { embedder }) };
  if (s.kind === 'postgres') {
    return openStore({
      databaseUrl: s.databaseUrl, ...common,
      ...(s.appDatabaseUrl ? { appDatabaseUrl: s.appDatabaseUrl } : {}),
      ...(s.schema ? { schema: s.schema } : {}),
      ...(s.poolSize ? { poolSize: s.poolSize } : {}),
    });
  }
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  return openStore({ dataDir: s.dataDir, ...common });
}
