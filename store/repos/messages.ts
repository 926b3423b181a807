import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { jsonObject, oneOf, pageLimit, text } from '../validate.js';

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
  /** Monotonic per database; doubles as the pagination cursor. */
  id: string;
  createdAt: Date;
}

export interface MessagePage {
  items: Message[];
  /** Pass as `after` to get the next page; null when this page was the last. */
  nextCursor: string | null;
}

export interface MessagesRepo {
  append(messages: readonly NewMessage[]): Promise<number>;
  /** Oldest first, after the cursor. */
  list(sessionId: string, opts?: { limit?: number; after?: string }): Promise<MessagePage>;
}

const CURSOR = /^[0-9]{1,19}$/;

export function checkMessage(m: NewMessage): NewMessage {
  const content = m.content;
  if (typeof content !== 'string' || content.length > MAX_MESSAGE_CHARS) {
    throw new StoreError('INVALID_REQUEST', `content must be a string of at most ${MAX_MESSAGE_CHARS} characters`);
  }
  return {
    sessionId: text('sessionId', m.sessionId),
    role: oneOf('role', m.role, MESSAGE_ROLES),
    content,
    ...(m.meta === undefined ? {} : { meta: jsonObject('meta', m.meta) }),
  };
}

function toMessage(r: Record<string, unknown>): Message {
  const m: Message = {
    tenantId: r.tenant_id as string,
    id: r.id as string,
    sessionId: r.session_id as string,
    role: r.role as MessageRole,
    content: r.content as string,
    createdAt: r.created_at as Date,
  };
  if (r.meta !== null && r.meta !== undefined) m.meta = r.meta as Record<string, unknown>;
  return m;
}

export class SqlMessagesRepo implements MessagesRepo {
  constructor(private readonly q: Queryable) {}

  /** One multi-row INSERT (parameters arrive as parallel arrays through unnest). */
  async append(messages: readonly NewMessage[]): Promise<number> {
    if (messages.length === 0) return 0;
    const checked = messages.map(checkMessage);
    const res = await this.q
      .query(
        `INSERT INTO messages (session_id, role, content, meta)
         SELECT s, r, c, m::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(s, r, c, m)`,
        [
          checked.map((m) => m.sessionId),
          checked.map((m) => m.role),
          checked.map((m) => m.content),
          checked.map((m) => (m.meta === undefined ? null : JSON.stringify(m.meta))),
        ],
      )
      .catch(translateDbError);
    return res.rowCount;
  }

  async list(sessionId: string, opts: { limit?: number; after?: string } = {}): Promise<MessagePage> {
    const limit = pageLimit(opts.limit, 100, 1000);
    const after = opts.after ?? '0';
    if (!CURSOR.test(after)) throw new StoreError('INVALID_REQUEST', 'after must be a cursor from a previous page');
    // One extra row tells whether another page exists without a COUNT.
    const res = await this.q.query(
      `SELECT m.tenant_id, m.id::text AS id, m.session_id, m.role, m.content, m.meta, m.created_at
       FROM messages m WHERE m.session_id = $1 AND m.id > $2::bigint ORDER BY m.id LIMIT $3`,
      [text('sessionId', sessionId), after, limit + 1],
    );
    const items = res.rows.slice(0, limit).map(toMessage);
    const nextCursor = res.rows.length > limit ? items[items.length - 1].id : null;
    return { items, nextCursor };
  }
}
