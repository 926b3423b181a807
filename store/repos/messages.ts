import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { jsonObjectText, oneOf, pageLimit, text } from '../validate.js';

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Longest message body accepted (characters); larger ones are a caller bug. */
export const MAX_MESSAGE_CHARS = 1_000_000;

export interface NewMessage {
  sessionId: string;
  role: MessageRole;
  content: string;
  meta?: Record<string, unknown>;
}

export interface Message extends NewMessage {
  tenantId: string;
  /**
   * Monotonic per database; doubles as the pagination cursor. A user message and
   * the reply written with it share one row (see `append`), so they share this id.
   */
  id: string;
  createdAt: Date;
}

export interface MessagePage {
  items: Message[];
  /** Pass as `after` to get the next page; null when this page was the last. */
  nextCursor: string | null;
}

export interface MessagesRepo {
  /**
   * Writes the messages in order and returns how many it wrote. A user message
   * followed, among the batch's messages of its session, by an assistant message
   * with the same meta (a chat turn) is one row: the reply is a column of the
   * user's row, so a turn costs the database one row instead of two.
   */
  append(messages: readonly NewMessage[]): Promise<number>;
  /**
   * Oldest first, after the cursor. A page holds at most `limit` messages, except
   * that a user message and its reply (one row) are never split across pages.
   */
  list(sessionId: string, opts?: { limit?: number; after?: string }): Promise<MessagePage>;
}

/** A message as it is queued for writing: checked once, its meta already JSON text (null when none). */
export interface MessageRow {
  sessionId: string;
  role: MessageRole;
  content: string;
  meta: string | null;
}

const CURSOR = /^[0-9]{1,19}$/;

function checkContent(content: unknown): string {
  if (typeof content !== 'string' || content.length > MAX_MESSAGE_CHARS) {
    throw new StoreError('INVALID_REQUEST', `content must be a string of at most ${MAX_MESSAGE_CHARS} characters`);
  }
  return content;
}

/** Checks a message for writing: bad input fails with INVALID_REQUEST, here rather than in a later batch. */
export function messageRow(m: NewMessage): MessageRow {
  return {
    sessionId: text('sessionId', m.sessionId),
    role: oneOf('role', m.role, MESSAGE_ROLES),
    content: checkContent(m.content),
    meta: m.meta === undefined ? null : jsonObjectText('meta', m.meta),
  };
}

/**
 * The columns of one multi-row INSERT, in order: a user row takes the assistant
 * message that follows it in the same session (nothing of that session between
 * them) as its reply when both carry the same meta, so reading the rows back
 * gives the same messages in the same order.
 */
function insertColumns(rows: readonly MessageRow[]): [string[], string[], string[], (string | null)[], (string | null)[]] {
  const sessions: string[] = [];
  const roles: string[] = [];
  const contents: string[] = [];
  const metas: (string | null)[] = [];
  const replies: (string | null)[] = [];
  /** Per session, the index of its last row while that row is a user message still without a reply. */
  const open = new Map<string, number>();
  for (const r of rows) {
    const at = open.get(r.sessionId);
    if (at !== undefined && r.role === 'assistant' && metas[at] === r.meta) {
      replies[at] = r.content;
      open.delete(r.sessionId);
      continue;
    }
    if (r.role === 'user') open.set(r.sessionId, sessions.length);
    else if (at !== undefined) open.delete(r.sessionId);
    sessions.push(r.sessionId);
    roles.push(r.role);
    contents.push(r.content);
    metas.push(r.meta);
    replies.push(null);
  }
  return [sessions, roles, contents, metas, replies];
}

const INSERT = `INSERT INTO messages (session_id, role, content, meta, reply)
  SELECT s, r, c, m::jsonb, p FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(s, r, c, m, p)`;

/** Writes checked rows (message_writer.ts queues them so); returns how many messages that was. */
export async function insertMessageRows(q: Queryable, rows: readonly MessageRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  await q.query(INSERT, insertColumns(rows)).catch(translateDbError);
  return rows.length;
}

function toMessages(r: Record<string, unknown>, out: Message[]): void {
  const m: Message = {
    tenantId: r.tenant_id as string,
    id: r.id as string,
    sessionId: r.session_id as string,
    role: r.role as MessageRole,
    content: r.content as string,
    createdAt: r.created_at as Date,
  };
  if (r.meta !== null && r.meta !== undefined) m.meta = r.meta as Record<string, unknown>;
  out.push(m);
  if (typeof r.reply === 'string') out.push({ ...m, role: 'assistant', content: r.reply });
}

export class SqlMessagesRepo implements MessagesRepo {
  constructor(private readonly q: Queryable) {}

  /** One multi-row INSERT (parameters arrive as parallel arrays through unnest). */
  append(messages: readonly NewMessage[]): Promise<number> {
    return insertMessageRows(this.q, messages.map(messageRow));
  }

  async list(sessionId: string, opts: { limit?: number; after?: string } = {}): Promise<MessagePage> {
    const limit = pageLimit(opts.limit, 100, 1000);
    const after = opts.after ?? '0';
    if (!CURSOR.test(after)) throw new StoreError('INVALID_REQUEST', 'after must be a cursor from a previous page');
    // One extra row tells whether another page exists without a COUNT.
    const res = await this.q.query(
      `SELECT m.tenant_id, m.id::text AS id, m.session_id, m.role, m.content, m.meta, m.reply, m.created_at
       FROM messages m WHERE m.session_id = $1 AND m.id > $2::bigint ORDER BY m.id LIMIT $3`,
      [text('sessionId', sessionId), after, limit + 1],
    );
    const items: Message[] = [];
    let rows = 0;
    // A row is one message, or two (a user message and its reply): stop before the page would pass the limit.
    for (const r of res.rows) {
      if (rows > 0 && items.length + (typeof r.reply === 'string' ? 2 : 1) > limit) break;
      toMessages(r, items);
      rows++;
    }
    const nextCursor = rows < res.rows.length ? items[items.length - 1].id : null;
    return { items, nextCursor };
  }
}
