import type { Db } from './db.js';
import { insertMessageRows, messageRow, type MessageRow, type NewMessage } from './repos/messages.js';
import { enterTenant } from './tenant.js';
import { tenantId } from './validate.js';
import { WriteBehindQueue, type WriteBehindOptions } from './write_behind.js';

export interface TenantMessage extends NewMessage {
  tenantId: string;
}

/** A queued message: checked on enqueue, its meta already JSON (repos/messages.ts MessageRow). */
export interface QueuedMessage {
  tenant: string;
  row: MessageRow;
}

/**
 * Session history through write-behind: one batched INSERT per tenant per flush, all in
 * one transaction that switches the tenant setting per group, so RLS still checks
 * every row. A turn's user message and its reply, when both are in the same batch,
 * are one row (repos/messages.ts). Messages are validated on enqueue, so a malformed
 * one fails its caller instead of a batch.
 */
export class MessageWriter {
  readonly queue: WriteBehindQueue<QueuedMessage>;

  constructor(db: Db, options: Omit<WriteBehindOptions<QueuedMessage>, 'write'> = {}) {
    this.queue = new WriteBehindQueue<QueuedMessage>({
      ...options,
      write: async (batch) => {
        const byTenant = new Map<string, MessageRow[]>();
        for (const { tenant, row } of batch) {
          const list = byTenant.get(tenant);
          if (list === undefined) byTenant.set(tenant, [row]);
          else list.push(row);
        }
        // One transaction for the whole batch, so a retry after a failure never duplicates.
        await db.transaction(async (q) => {
          for (const [t, rows] of byTenant) {
            await enterTenant(q, t);
            await insertMessageRows(q, rows);
          }
        });
      },
    });
  }

  /** Validates now, writes later. False when the queue refused it (see overflow policy). */
  append(message: TenantMessage): boolean {
    return this.queue.enqueue({ tenant: tenantId(message.tenantId), row: messageRow(message) });
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
