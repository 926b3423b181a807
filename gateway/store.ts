/**
 * The configured store as StoreSettings (plain data the store worker opens),
 * and opening it in this process (admin commands, which run in their own process).
 */
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import type { StoreSettings } from '../store/settings.js';
import type { GatewayConfig } from './config.js';
import type { MemoryConfig } from './memory_config.js';

/** The module and export the store worker calls to make memory's embedder (createEmbedder). */
export const EMBEDDER_FACTORY = { module: new URL('./memory_config.js', import.meta.url).href, export: 'createEmbedder' } as const;

const DEFAULT_MEMORY: MemoryConfig = { embeddings: { kind: 'hash', dimensions: 256 } };

export function storeSettings(config: Pick<GatewayConfig, 'store' | 'dataDir'> & Partial<Pick<GatewayConfig, 'memory'>>): StoreSettings | undefined {
  const s = config.store;
  if (s.kind === 'none') return undefined;
  const embedder = { ...EMBEDDER_FACTORY, args: config.memory ?? DEFAULT_MEMORY };
  if (s.kind === 'postgres') {
    return {
      kind: 'postgres', databaseUrl: s.databaseUrl ?? '', embedder,
      ...(s.appDatabaseUrl ? { appDatabaseUrl: s.appDatabaseUrl } : {}),
      ...(s.schema ? { schema: s.schema } : {}),
    };
  }
  return { kind: 'pglite', dataDir: join(config.dataDir, 'pglite'), embedder };
}

export async function openGatewayStore(config: Pick<GatewayConfig, 'store' | 'dataDir'> & Partial<Pick<GatewayConfig, 'memory'>>, migrate = true): Promise<Store | undefined> {
  const settings = storeSettings(config);
  if (settings === undefined) return undefined;
  const { openStoreWith } = await import('../store/settings.js');
  return openStoreWith(settings, migrate);
}
