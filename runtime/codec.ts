/**
 * Cross-thread encoding. A batch of frames is one msgpack array packed into
 * an exact-size buffer whose ArrayBuffer is transferred (not copied) to the
 * peer. ActorRefs anywhere inside a message use a msgpack extension, so a ref
 * sent to another thread comes out bound to that thread's system.
 */
import { Packr, addExtension } from 'msgpackr';
import { ActorRef, type RefRouter } from './ref.js';

const REF_EXTENSION = 84; // 1..100 are free for applications

let decodingRouter: RefRouter | null = null;

addExtension({
  Class: ActorRef,
  type: REF_EXTENSION,
  write(ref: ActorRef): [number, number] {
    return [ref.host, ref.id];
  },
  read(data: [number, number]): ActorRef {
    if (decodingRouter === null) throw new Error('ActorRef decoded outside a system');
    return new ActorRef(data[0], data[1], decodingRouter);
  },
});

const packr = new Packr({ useRecords: false });

/** Packs frames into a standalone buffer safe to transfer. */
export function encodeBatch(frames: unknown[]): Uint8Array {
  const packed = packr.pack(frames);
  // pack() returns a view into a shared scratch buffer; copy to an exact, owned buffer.
  const owned = new Uint8Array(packed.length);
  owned.set(packed);
  return owned;
}

/** Checks that one value can be encoded (used to isolate a bad frame in a failed batch). */
export function encodable(value: unknown): boolean {
  try {
    packr.pack(value);
    return true;
  } catch {
    return false;
  }
}

export function decodeBatch(bytes: Uint8Array, router: RefRouter): unknown[] {
  decodingRouter = router;
  try {
    return packr.unpack(bytes) as unknown[];
  } finally {
    decodingRouter = null;
  }
}
