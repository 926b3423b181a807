// A database error the store translates reaches callers as a catalogue error whose
// message is a fixed sentence with a reason: no table, constraint, column or value
// from the SQL text, which stays on `cause` for logs. Real errors from both backends.
import { StoreError, translateDbError } from '../../store/errors.js';
import { toWireError } from '../../transports/errors.js';
import { eachBackend, seedTenants } from './backends.js';

const SQL_WORDS = /duplicate|constraint|violates|pkey|fkey|users|tool_calls|run_id|key \(|DETAIL/i;

await eachBackend(async (t, { store }) => {
  await seedTenants(store, 'acme');

  t.test('a duplicate id is already_exists, without the SQL text', async (t) => {
    await store.withTenant('acme', (s) => s.users.create({ id: 'dup-user', name: 'first' }));
    const err = await store.withTenant('acme', (s) => s.users.create({ id: 'dup-user', name: 'second' })).then(
      () => undefined, (e: unknown) => e,
    );
    t.ok(err instanceof StoreError, 'a StoreError');
    const wire = toWireError(err);
    t.match(wire, { code: 'INVALID_REQUEST', reason: 'already_exists', retryable: false });
    t.notMatch(wire.message, SQL_WORDS, `"${wire.message}" names nothing of the schema`);
    t.match((err as StoreError).cause, { code: '23505' }, 'the driver error stays on cause');
    t.match(String(((err as StoreError).cause as Error).message), /duplicate key/);
  });

  t.test('a reference to a missing row is unknown_reference, without the SQL text', async (t) => {
    const err = await store.withTenant('acme', (s) => s.toolCalls.start({ runId: 'no-such-run', name: 'clock', args: {} })).then(
      () => undefined, (e: unknown) => e,
    );
    const wire = toWireError(err);
    t.match(wire, { code: 'INVALID_REQUEST', reason: 'unknown_reference' });
    t.notMatch(wire.message, SQL_WORDS, `"${wire.message}" names nothing of the schema`);
    t.match((err as StoreError).cause, { code: '23503' });
  });

  t.test('an error the store does not translate is rethrown as it is, and reaches callers as a bare INTERNAL', async (t) => {
    const err = await store.withTenant('acme', (s) => s.q.query('SELECT * FROM no_such_table').catch(translateDbError)).then(
      () => undefined, (e: unknown) => e,
    );
    t.notOk(err instanceof StoreError);
    t.match(err, { code: '42P01' });
    t.same(toWireError(err), { code: 'INTERNAL', message: 'Internal error', retryable: false });
    const odd = { code: 'constructor' };
    let thrown: unknown;
    try {
      translateDbError(odd);
    } catch (e) {
      thrown = e;
    }
    t.equal(thrown, odd, 'a code that is an Object.prototype key is not a translation');
  });
});
