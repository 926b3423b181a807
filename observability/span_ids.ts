/**
 * Trace and span ids for this thread's tracer provider: random hex cut from a
 * pool that one `randomFillSync` refills every 256 span ids. The SDK's
 * RandomIdGenerator writes Math.random() into a buffer four bytes at a time
 * and hex-encodes it for every id (a call into C++ each time); a slice of the
 * pool is one cheap string. The ids come from the system's CSPRNG, and none
 * is ever all zeros (invalid in W3C Trace Context).
 */
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

const POOL_BYTES = 2_048;
const ZEROS = '0'.repeat(32);

export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private pool = '';
  private at = 0;

  /** `fill` fills the pool's bytes (tests give their own). */
  constructor(private readonly fill: (buf: Buffer) => Buffer = randomFillSync) {}

  generateTraceId = (): string => this.next(32);

  generateSpanId = (): string => this.next(16);

  private next(chars: number): string {
    for (;;) {
      if (this.at + chars > this.pool.length) {
        this.pool = this.fill(this.bytes).toString('hex');
        this.at = 0;
      }
      const id = this.pool.slice(this.at, this.at + chars);
      this.at += chars;
      if (!ZEROS.startsWith(id)) return id;
    }
  }
}
