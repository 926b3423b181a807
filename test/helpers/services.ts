// Reachability of the machine's services for tests. Under CI=true a missing service
// is a failure; elsewhere the caller skips with a reason naming what it needs.
import pg from 'pg';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** DATABASE_URL (or the local default) when a server answers there, else null. */
export async function postgresUrl(): Promise<string | null> {
  const url = process.env.DATABASE_URL || DEFAULT_POSTGRES_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return url;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** tap `skip` value: false when `url` is set; a "needs <name>" reason otherwise (throws under CI). */
export function requireService(name: 'PostgreSQL' | 'Redis', url: string | null): false | string {
  if (url !== null) return false;
  if (process.env.CI === 'true') throw new Error(`${name} is unreachable, and under CI=true it is required`);
  return `needs ${name} (not reachable)`;
}
