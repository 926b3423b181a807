/**
 * An unbounded FIFO on a power-of-two ring that grows by doubling. Used for the
 * scheduler's run queue and the ask deadline queues, where an array with
 * `shift()` would be O(n) per dequeue.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private head = 0;
  length = 0;

  constructor(initial = 16) {
    let cap = 1;
    while (cap < initial) cap <<= 1;
    this.items = new Array<T | undefined>(cap);
  }

  push(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & (this.items.length - 1)] = item;
    this.length++;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    return item;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
