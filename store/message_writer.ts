import type { Db } from './db.js';
import { checkMessage, SqlMessagesRepo, type NewMessage } from './repos/messages.js';
import { enterTenant } from './tenant.js';
import { tenantId } from './validate.js';
import { WriteBehindQueue, type WriteBehindOptions } from './write_behind.js';

export interface TenantMessage extends NewMessage {
  tenantId: string;
}

/**
 * Session history through write-behind: one batched INSERT per tenant per flush, all in
 * one transaction that switches the tenant setting per group, so RLS still checks
 * every row. Messages are
 * validated on enqueue, so a malformed one fails its caller instead of a batch.
 */
export class MessageWriter {
  readonly queue: WriteBehindQueue<TenantMessage>;

  constructor(db: Db, options: Omit<WriteBehindOptions<TenantMessage>, 'write'> = {}) {
    this.queue = new WriteBehindQueue<TenantMessage>({
      ...options,
      write: async (batch) => {
        const byTenant = new Map<string, NewMessage[]>();
        for (const { tenantId: t, ...m } of batch) {
          const list = byTenant.get(t);
          if (list === undefined) byTenant.set(t, [m]);
          else list.push(m);
        }
        // One transaction for the whole batch, so a retry after a failure never duplicates.
        await db.transaction(async (q) => {
          const repo = new SqlMessagesRepo(q);
          for (const [t, messages] of byTenant) {
            await enterTenant(q, t);
            await repo.append(messages);
          }
        });
      },
    });
  }

  /** Validates now, writes later. False when the queue refused it (see overflow policy). */
  append(message: TenantMessage): boolean {
    return this.queue.enqueue({ ...checkMessage(message), tenantId: tenantId(message.tenantId) });
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
