import t from 'tap';
import { ExpiringLru } from '../../store/redis/expiring_lru.js';

t.test('past maxEntries the least recently used entry is evicted', async (t) => {
  const lru = new ExpiringLru<number>(2);
  lru.set('a', 1, 1000, 0);
  lru.set('b', 2, 1000, 0);
  t.equal(lru.get('a', 1), 1, 'reading a makes b the oldest');
  lru.set('c', 3, 1000, 2);
  t.equal(lru.size, 2);
  t.equal(lru.get('b', 3), undefined);
  t.equal(lru.get('a', 3), 1);
  t.equal(lru.get('c', 3), 3);
});

t.test('an entry is gone once its ttl has passed', async (t) => {
  const lru = new ExpiringLru<string>(10);
  lru.set('k', 'v', 100, 1000);
  t.equal(lru.get('k', 1099), 'v');
  t.equal(lru.get('k', 1100), undefined);
  t.equal(lru.size, 0, 'reading an expired entry drops it');
});

t.test('replace changes a live value and keeps its expiry', async (t) => {
  const lru = new ExpiringLru<string>(10);
  lru.set('k', 'pending', 100, 0);
  t.equal(lru.replace('k', 'run-1', 50), true);
  t.equal(lru.get('k', 60), 'run-1');
  t.equal(lru.get('k', 100), undefined);
  t.equal(lru.replace('k', 'run-2', 120), false, 'nothing to replace after expiry');
  t.equal(lru.replace('missing', 'x', 0), false);
});
