/**
 * The template for fresh PGlite data dirs. Nearly all of a first start is
 * PGlite's initdb (tens of seconds of WASM on a busy machine, and a peak of
 * ~900 MB), then the migrations. The build runs both once and keeps the
 * migrated cluster's files, gzipped, next to this module (it ships in the npm
 * package); a fresh data dir is then unpacked from it, which skips initdb.
 *
 *   npm run build ─► postbuild: node dist/store/make_template.js
 *                      └► dist/store/pglite-template.gz  + .key
 *   PgliteDb.open(dir) with no PG_VERSION in dir ─► unpack the template into dir
 *
 * The files are written straight to disk rather than handed to PGlite's
 * `loadDataDir`, which unpacks through WASM memory: a gateway that started
 * that way idled ~110 MB higher (bench/RESULTS.md).
 *
 * Format (inside gzip), one record per file, paths relative and '/'-separated:
 *
 *   ┌──────────┬──────────┬──────────┬──────────────┬─────────────┐
 *   │ u32 plen │ path     │ u32 mode │ u32 size     │ size bytes  │  … repeated
 *   └──────────┴──────────┴──────────┴──────────────┴─────────────┘
 *
 * A directory is a record with size DIR (no bytes follow): PostgreSQL needs its
 * empty ones (pg_twophase, pg_tblspc, …) to exist.
 *
 * The template is migrated and has pgvector prepared for the default embedder
 * (the offline hash embedder): creating the extension, the `vec` column and
 * its HNSW index at a first start cost ~2 s and ~50 MB of RSS that stayed
 * (loading the extension into the WASM instance); with another embedder the
 * store prepares its vectors at start, as on an existing data dir.
 *
 * The key is the PGlite version, the migrations' checksums and that embedder's
 * id: a template made by another PGlite or for other migrations is ignored
 * (initdb as before), and the build makes a new one.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { StoreError } from './errors.js';
import { migrationChecksum } from './migrate.js';
import { migrations } from './migrations/index.js';
import { HashEmbedder } from './memory/hash_embedder.js';

export const TEMPLATE_FILE = fileURLToPath(new URL('./pglite-template.gz', import.meta.url));
const KEY_FILE = `${TEMPLATE_FILE}.key`;
const DIR = 0xffff_ffff;
/** The embedder whose vectors the template has prepared: the gateway's default (memory_config.ts). */
const TEMPLATE_EMBEDDER = new HashEmbedder();

function pgliteVersion(): string {
  const pkg = fileURLToPath(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')));
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** What a template must have been made for to be usable here. */
export function templateKey(): string {
  return createHash('sha256').update([pgliteVersion(), ...migrations.map(migrationChecksum), TEMPLATE_EMBEDDER.id].join(',')).digest('hex').slice(0, 16);
}

/** Fills a fresh data dir from the template. False when there is no usable template. */
export function unpackTemplate(dataDir: string): boolean {
  let packed: Buffer;
  try {
    if (readFileSync(KEY_FILE, 'utf8').trim() !== templateKey()) return false;
    packed = readFileSync(TEMPLATE_FILE);
  } catch {
    return false;
  }
  const buf = gunzipSync(packed);
  let at = 0;
  const u32 = () => {
    const v = buf.readUInt32LE(at);
    at += 4;
    return v;
  };
  while (at < buf.length) {
    const path = buf.toString('utf8', at + 4, at + 4 + buf.readUInt32LE(at));
    at += 4 + Buffer.byteLength(path);
    const mode = u32();
    const size = u32();
    if (path.startsWith('/') || path.split('/').includes('..') || (size !== DIR && at + size > buf.length)) {
      throw new StoreError('INTERNAL', `the PGlite template is corrupt near ${JSON.stringify(path)}`);
    }
    const file = join(dataDir, ...path.split('/'));
    if (size === DIR) {
      mkdirSync(file, { recursive: true, mode });
      continue;
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, buf.subarray(at, at + size), { mode });
    at += size;
  }
  return true;
}

function packDir(root: string): Buffer {
  const parts: Buffer[] = [];
  const record = (full: string, mode: number, size: number): void => {
    const path = Buffer.from(relative(root, full).split(sep).join('/'));
    const head = Buffer.alloc(12 + path.length);
    head.writeUInt32LE(path.length, 0);
    path.copy(head, 4);
    head.writeUInt32LE(mode & 0o777, 4 + path.length);
    head.writeUInt32LE(size, 8 + path.length);
    parts.push(head);
  };
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        record(full, st.mode, DIR);
        walk(full);
        continue;
      }
      record(full, st.mode, st.size);
      parts.push(readFileSync(full));
    }
  };
  walk(root);
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** Makes the template unless a current one exists. True when it made one. */
export async function ensureTemplate(): Promise<boolean> {
  const key = templateKey();
  try {
    if (readFileSync(KEY_FILE, 'utf8').trim() === key && existsSync(TEMPLATE_FILE)) return false;
  } catch {
    // no template yet
  }
  const { PgliteDb } = await import('./pglite_db.js');
  const { migrate } = await import('./migrate.js');
  const { Store } = await import('./store.js');
  const dir = mkdtempSync(join(tmpdir(), 'troupe-pglite-template-'));
  try {
    const db = await PgliteDb.open(dir, undefined, { template: false });
    try {
      await migrate(db);
      await new Store(db, TEMPLATE_EMBEDDER).prepareVectors();
    } finally {
      await db.close();
    }
    // Renamed into place, so a reader never sees half a file.
    writeFileSync(`${TEMPLATE_FILE}.tmp`, packDir(dir));
    renameSync(`${TEMPLATE_FILE}.tmp`, TEMPLATE_FILE);
    chmodSync(TEMPLATE_FILE, 0o644);
    writeFileSync(KEY_FILE, key + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}
