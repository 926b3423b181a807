import type { Queryable } from '../db.js';
import { StoreError, translateDbError } from '../errors.js';
import { pageLimit } from '../validate.js';

/** A platform user's access to one chat channel: asked for (`pending`) or granted (`approved`). */
export interface ChannelPairing {
  channelId: string;
  userId: string;
  userName: string | null;
  code: string;
  status: 'pending' | 'approved';
  createdAt: Date;
  approvedAt: Date | null;
}

export interface ChannelPairingsRepo {
  isApproved(channelId: string, userId: string): Promise<boolean>;
  /** Records a request with `code` unless the user has a row already; returns the row's code. */
  request(channelId: string, userId: string, code: string, userName?: string): Promise<string>;
  /** Approves the pending request holding `code`; the user id, or null for no such code. */
  approve(channelId: string, code: string): Promise<string | null>;
  /** Approves a user directly (an operator who knows the id). */
  allow(channelId: string, userId: string): Promise<void>;
  revoke(channelId: string, userId: string): Promise<boolean>;
  list(channelId?: string, opts?: { limit?: number }): Promise<ChannelPairing[]>;
}

const CODE = /^[A-Z0-9]{4,16}$/;

function code(value: string): string {
  const c = value.trim().toUpperCase();
  if (!CODE.test(c)) throw new StoreError('INVALID_REQUEST', 'a pairing code is 4-16 letters and digits');
  return c;
}

type PairingRow = {
  channel_id: string; user_id: string; user_name: string | null; code: string; status: 'pending' | 'approved'; created_at: Date; approved_at: Date | null;
};

export class SqlChannelPairingsRepo implements ChannelPairingsRepo {
  constructor(private readonly q: Queryable) {}

  async isApproved(channelId: string, userId: string): Promise<boolean> {
    const res = await this.q.query(
      "SELECT 1 FROM channel_pairings WHERE channel_id = $1 AND user_id = $2 AND status = 'approved'", [channelId, userId],
    );
    return res.rows.length > 0;
  }

  async request(channelId: string, userId: string, newCode: string, userName?: string): Promise<string> {
    const res = await this.q.query<{ code: string }>(
      `INSERT INTO channel_pairings (channel_id, user_id, user_name, code, status) VALUES ($1, $2, $3, $4, 'pending')
       ON CONFLICT (tenant_id, channel_id, user_id) DO UPDATE SET user_name = COALESCE(EXCLUDED.user_name, channel_pairings.user_name)
       RETURNING code`,
      [channelId, userId, userName?.slice(0, 256) ?? null, code(newCode)],
    ).catch(translateDbError);
    return res.rows[0].code;
  }

  async approve(channelId: string, given: string): Promise<string | null> {
    const res = await this.q.query<{ user_id: string }>(
      `UPDATE channel_pairings SET status = 'approved', approved_at = now()
       WHERE channel_id = $1 AND code = $2 AND status = 'pending' RETURNING user_id`,
      [channelId, code(given)],
    );
    return res.rows[0]?.user_id ?? null;
  }

  async allow(channelId: string, userId: string): Promise<void> {
    await this.q.query(
      `INSERT INTO channel_pairings (channel_id, user_id, code, status, approved_at) VALUES ($1, $2, 'MANUAL', 'approved', now())
       ON CONFLICT (tenant_id, channel_id, user_id) DO UPDATE SET status = 'approved', approved_at = now()`,
      [channelId, userId],
    ).catch(translateDbError);
  }

  async revoke(channelId: string, userId: string): Promise<boolean> {
    const res = await this.q.query('DELETE FROM channel_pairings WHERE channel_id = $1 AND user_id = $2', [channelId, userId]);
    return (res.rowCount ?? 0) > 0;
  }

  async list(channelId?: string, opts: { limit?: number } = {}): Promise<ChannelPairing[]> {
    const res = await this.q.query<PairingRow>(
      `SELECT channel_id, user_id, user_name, code, status, created_at, approved_at FROM channel_pairings
       WHERE ($1::text IS NULL OR channel_id = $1) ORDER BY channel_id, created_at LIMIT $2`,
      [channelId ?? null, pageLimit(opts.limit)],
    );
    return res.rows.map((r) => ({
      channelId: r.channel_id, userId: r.user_id, userName: r.user_name, code: r.code, status: r.status,
      createdAt: new Date(r.created_at), approvedAt: r.approved_at === null ? null : new Date(r.approved_at),
    }));
  }
}
