import t from 'tap';
import { ActorSystem, type ModuleProps } from '../../runtime/index.js';
import { withTrace } from './fixtures/envelope.js';

const FIXTURE = new URL('./fixtures/envelope.js', import.meta.url).href;
const echo: ModuleProps = { module: FIXTURE, export: 'contextEcho' };

t.test('a message carries the sender\'s envelope context to its handler, on a worker and back', async (t) => {
  const sys = await ActorSystem.start({ pool: { workers: 2 }, envelope: { module: FIXTURE, export: 'stringContext' } });
  t.teardown(() => sys.shutdown(500));
  const a = sys.spawn(echo, { placement: { worker: 1 } });
  const b = sys.spawn(echo, { placement: { worker: 2 } });
  const local = sys.spawn(echo);
  t.equal(await withTrace('trace-1', () => a.ask('where')), 'trace-1', 'main → worker');
  t.same(await withTrace('trace-2', () => a.ask({ forward: b })), ['trace-2', 'trace-2'], 'main → worker → worker');
  t.same(await withTrace('trace-3', () => a.ask({ forward: local })), ['trace-3', 'trace-3'], 'main → worker → main');
  t.equal(await withTrace('trace-4', () => local.ask('where')), 'trace-4', 'on one thread');
  t.equal(await a.ask('where'), null, 'nothing sent, nothing received');
  t.equal(await withTrace('trace-5', () => new Promise((resolve) => setImmediate(() => resolve(local.ask('where'))))), 'trace-5');
});

t.test('a handler of a message that carried nothing does not inherit another message\'s context', async (t) => {
  const sys = await ActorSystem.start({ pool: { workers: 1 }, envelope: { module: FIXTURE, export: 'stringContext' } });
  t.teardown(() => sys.shutdown(500));
  const local = sys.spawn(echo);
  // The second message is taken up when the first one's async handler settles, inside trace-6.
  const first = withTrace('trace-6', () => local.ask('where'));
  const second = local.ask('where');
  t.equal(await first, 'trace-6');
  t.equal(await second, null);
});

t.test('without an envelope context messages travel bare and handlers see none', async (t) => {
  const sys = await ActorSystem.start({ pool: { workers: 1 } });
  t.teardown(() => sys.shutdown(500));
  const a = sys.spawn(echo, { placement: { worker: 1 } });
  t.equal(await withTrace('trace-8', () => a.ask('where')), null);
});
