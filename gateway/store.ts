/** Opens the configured store: embedded PGlite in the data dir, or PostgreSQL. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../store/index.js';
import type { GatewayConfig } from './config.js';

export async function openGatewayStore(config: Pick<GatewayConfig, 'store' | 'dataDir'>, migrate = true): Promise<Store | undefined> {
  const s = config.store;
  if (s.kind === 'none') return undefined;
  if (s.kind === 'postgres') {
    return openStore({
      databaseUrl: s.databaseUrl, migrate,
      ...(s.appDatabaseUrl ? { appDatabaseUrl: s.appDatabaseUrl } : {}),
      ...(s.schema ? { schema: s.schema } : {}),
    });
  }
  const dir = join(config.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return openStore({ dataDir: dir, migrate });
}
