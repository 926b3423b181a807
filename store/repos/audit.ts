import * as crypto from 'node:crypto';
import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { camelRow } from '../rows.js';
import { jsonObjectText, oneOf, optionalText, pageLimit, tenantId as checkTenant, text } from '../validate.js';

/**
 * Append-only audit trail, one hash chain per tenant:
 *
 *   row 1: prev = 000…0      hash = H(prev ‖ fields₁)
 *   row 2: prev = hash₁      hash = H(hash₁ ‖ fields₂)
 *   row n: prev = hashₙ₋₁    hash = H(hashₙ₋₁ ‖ fieldsₙ)
 *
 * Changing any stored field, or removing or reordering a row, breaks every later
 * link, which verifyAuditChain reports. Chains are per tenant because RLS lets a
 * tenant's transaction see only its own rows, and it must still find its chain head.
 */

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Tenant used for events with no tenant yet, such as a failed authentication. */
export const SYSTEM_TENANT = '_system';
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  /** Who: user id, API key id, `anonymous`… */
  actor: string;
  /** What: `auth.failure`, `chat.turn`, `tool.call`, `admin.agent.update`, `apikey.use`… */
  action: string;
  target?: string;
  sourceIp?: string;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
  /** When; defaults to now. Millisecond precision, as JavaScript dates have. */
  at?: Date;
}

export interface AuditRecord {
  tenantId: string;
  seq: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  sourceIp: string | null;
  outcome: AuditOutcome;
  detail: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export interface AuditRepo {
  append(event: AuditEvent): Promise<AuditRecord>;
  /** Appends several events, in order, as one stretch of the chain. */
  appendMany(events: readonly AuditEvent[]): Promise<AuditRecord[]>;
  /** In chain order, after `afterSeq`. */
  list(opts?: { limit?: number; afterSeq?: number }): Promise<AuditRecord[]>;
}

export interface ChainVerdict {
  ok: boolean;
  /** Rows checked before stopping. */
  checked: number;
  /** Sequence number of the first row that does not fit, when !ok. */
  brokenAt?: number;
  reason?: string;
  /**
   * Hash of the last row checked. A chain cannot reveal rows cut from its end, so
   * operators who need that anchor this value elsewhere and compare later.
   */
  headHash?: string;
}

/**
 * JSON with object keys sorted, so jsonb's own key order cannot change a hash.
 * Values with a `toJSON` (a Date) are written as JSON.stringify writes them,
 * so the text hashed is the text stored.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof obj.toJSON === 'function') return canonical((obj.toJSON as () => unknown)());
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Node ≥ 20.12 hashes a string in one call, without a Hash object per row. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

function sha256Hex(data: string): string {
  return oneShotHash === undefined ? crypto.createHash('sha256').update(data).digest('hex') : oneShotHash('sha256', data, 'hex');
}

export function auditHash(prevHash: string, r: Omit<AuditRecord, 'hash' | 'prevHash'>): string {
  return linkHash(prevHash, r, canonical(r.detail));
}

/**
 * H(prev ‖ "\n" ‖ canonical([tenant, seq, at, actor, action, target, sourceIp, outcome, detail])), with the
 * detail's canonical text given: appendMany stores that same text, so a row's detail is serialised once.
 */
function linkHash(prevHash: string, r: Omit<AuditRecord, 'hash' | 'prevHash' | 'detail'>, detailText: string): string {
  const head = canonical([r.tenantId, r.seq, r.at.toISOString(), r.actor, r.action, r.target, r.sourceIp, r.outcome]);
  return sha256Hex(`${prevHash}\n${head.slice(0, -1)},${detailText}]`);
}

/**
 * `seq` is read as float8 (a JavaScript number). An `ORDER BY seq` next to it
 * would sort by that output expression, which no index has: every query then
 * read and sorted all of the tenant's rows, and each audit batch's chain-head
 * read grew with the log (94 ms at 5,000 rows on PGlite). So every ORDER BY
 * names the column, `audit_log.seq`, and walks the primary key.
 */
const COLUMNS = 'tenant_id, seq::float8 AS seq, at, actor, action, target, source_ip, outcome, detail, prev_hash, hash';

/** The chain head: the tenant's last row, read from the end of the primary key (exported for a plan test). */
export const AUDIT_HEAD = 'SELECT seq::float8 AS seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY audit_log.seq DESC LIMIT 1';

const toRecord = (r: Record<string, unknown>): AuditRecord => camelRow<AuditRecord>(r);

/**
 * Rows per INSERT statement. Each column travels as one array parameter through
 * unnest, so the statement's text and its 11 parameters are the same for any
 * batch: a multi-row VALUES list (11 parameters a row) cost PGlite 1.5–3× more
 * CPU per row, parsing and binding (bench/RESULTS.md, issue 12).
 */
const AUDIT_INSERT_ROWS = 1000;

const AUDIT_INSERT = `INSERT INTO audit_log (tenant_id, seq, at, actor, action, target, source_ip, outcome, detail, prev_hash, hash)
  SELECT t, s, a, ac, act, tg, ip, o, d::jsonb, ph, h
  FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
              $9::text[], $10::text[], $11::text[]) AS u(t, s, a, ac, act, tg, ip, o, d, ph, h)`;

export class SqlAuditRepo implements AuditRepo {
  constructor(
    private readonly q: Queryable,
    private readonly tenantId: string,
  ) {}

  async append(event: AuditEvent): Promise<AuditRecord> {
    return (await this.appendMany([event]))[0];
  }

  /**
   * Appends events in order as one stretch of the chain: one lock, one read of
   * the chain head, hashes linked in memory, multi-row inserts. What write-behind
   * audit queues use, so a busy gateway's audit keeps up.
   */
  async appendMany(events: readonly AuditEvent[]): Promise<AuditRecord[]> {
    if (events.length === 0) return [];
    const bases = events.map((event) => {
      const at = event.at ?? new Date();
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
        throw new StoreError('INVALID_REQUEST', 'at must be a valid Date');
      }
      // The detail's canonical JSON is measured, hashed and stored: one serialisation per row.
      const detailText = event.detail === undefined ? null : jsonObjectText('detail', event.detail, 16 * 1024, canonical);
      return {
        tenantId: this.tenantId,
        at,
        actor: text('actor', event.actor),
        action: text('action', event.action),
        target: optionalText('target', event.target, 500),
        sourceIp: optionalText('sourceIp', event.sourceIp, 64),
        outcome: oneOf('outcome', event.outcome, AUDIT_OUTCOMES),
        detail: event.detail ?? null,
        detailText,
      };
    });
    // Serialise appends per tenant for the rest of this transaction: read head, link, insert.
    await this.q.query(`SELECT pg_advisory_xact_lock(hashtext('troupe.audit'), hashtext($1))`, [this.tenantId]);
    const head = await this.q.query<{ seq: number; hash: string }>(AUDIT_HEAD, [this.tenantId]);
    let prevHash = head.rows.length === 0 ? GENESIS_HASH : head.rows[0].hash;
    let seq = head.rows.length === 0 ? 0 : Number(head.rows[0].seq);
    const records: AuditRecord[] = [];
    const detailTexts: (string | null)[] = [];
    for (const { detailText, ...base } of bases) {
      const record = { ...base, seq: ++seq };
      const hash = linkHash(prevHash, record, detailText ?? 'null');
      records.push({ ...record, prevHash, hash });
      detailTexts.push(detailText);
      prevHash = hash;
    }
    for (let i = 0; i < records.length; i += AUDIT_INSERT_ROWS) {
      const chunk = records.slice(i, i + AUDIT_INSERT_ROWS);
      await this.q
        .query(AUDIT_INSERT, [
          chunk.map((r) => r.tenantId), chunk.map((r) => r.seq), chunk.map((r) => r.at.toISOString()),
          chunk.map((r) => r.actor), chunk.map((r) => r.action), chunk.map((r) => r.target), chunk.map((r) => r.sourceIp),
          chunk.map((r) => r.outcome), detailTexts.slice(i, i + AUDIT_INSERT_ROWS),
          chunk.map((r) => r.prevHash), chunk.map((r) => r.hash),
        ])
        .catch(translateDbError);
    }
    return records;
  }

  async list(opts: { limit?: number; afterSeq?: number } = {}): Promise<AuditRecord[]> {
    const res = await this.q.query(
      `SELECT ${COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY audit_log.seq LIMIT $3`,
      [this.tenantId, opts.afterSeq ?? 0, pageLimit(opts.limit, 100, 1000)],
    );
    return res.rows.map(toRecord);
  }
}

/**
 * Walks one tenant's chain from the start, page by page, recomputing every hash.
 * Works as the owner (any tenant) or inside that tenant's own transaction.
 * `maxRows` bounds the work; a longer chain reports ok for the part checked.
 */
export async function verifyAuditChain(
  q: Queryable,
  tenant: string,
  opts: { pageSize?: number; maxRows?: number } = {},
): Promise<ChainVerdict> {
  const id = checkTenant(tenant);
  const pageSize = pageLimit(opts.pageSize, 1000, 5000);
  const maxRows = opts.maxRows ?? 10_000_000;
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  while (checked < maxRows) {
    const res = await q.query(
      `SELECT ${COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq >= $2 ORDER BY audit_log.seq LIMIT $3`,
      [id, expectedSeq, Math.min(pageSize, maxRows - checked)],
    );
    if (res.rows.length === 0) break;
    for (const row of res.rows) {
      const r = toRecord(row);
      if (r.seq !== expectedSeq) return { ok: false, checked, brokenAt: expectedSeq, reason: `row ${expectedSeq} is missing` };
      if (r.prevHash !== prevHash) return { ok: false, checked, brokenAt: r.seq, reason: 'previous-hash link does not match' };
      if (auditHash(prevHash, r) !== r.hash) return { ok: false, checked, brokenAt: r.seq, reason: 'row content does not match its hash' };
      prevHash = r.hash;
      expectedSeq++;
      checked++;
    }
  }
  return { ok: true, checked, headHash: prevHash };
}
