/** Opens the configured store: embedded PGlite in the data dir, or PostgreSQL. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../store/index.js';
import type { GatewayConfig } from './config.js';
import { createEmbedder } from './memory_config.js';

export async function openGatewayStore(config: Pick<GatewayConfig, 'store' | 'dataDir'> & Partial<Pick<GatewayConfig, 'memory'>>, migrate = true): Promise<Store | undefined> {
  const s = config.store;
  if (s.kind === 'none') return undefined;
  const embedder = await createEmbedder(config.memory ?? { embeddings: { kind: 'hash', dimensions: 256 } });
  if (s.kind === 'postgres') {
    return openStore({
      databaseUrl: s.databaseUrl, migrate, embedder,
      ...(s.appDatabaseUrl ? { appDatabaseUrl: s.appDatabaseUrl } : {}),
      ...(s.schema ? { schema: s.schema } : {}),
    });
  }
  const dir = join(config.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return openStore({ dataDir: dir, migrate, embedder });
}
