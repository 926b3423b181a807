import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { REDIS_URL, redisSkipReason } from './redis_available.js';
import { connectForTest } from './test_redis.js';

const skip = await redisSkipReason();
const FIXTURE = fileURLToPath(new URL('./fixtures/take_many.js', import.meta.url));

interface Outcome {
  admitted: number;
  denied: number;
  errors: number;
}

/** A fixture process with its stdout split into lines. */
function startFixture(args: string[]): { child: ChildProcess; nextLine: () => Promise<string> } {
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(line);
      else lines.push(line);
    }
  });
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fixture said nothing for 20 s')), 20_000);
      waiters.push((next) => {
        clearTimeout(timer);
        resolve(next);
      });
    });
  };
  return { child, nextLine };
}

t.test('two processes sharing one budget of 100 admit exactly 100 of 300 requests', { skip }, async (t) => {
  const { prefix } = await connectForTest(t);
  // 0.001 tokens/s: well under one token refills during the test, so the
  // floor of the bucket never reaches 101 and the total must be exactly 100.
  const args = [REDIS_URL, prefix, 'tenant:shared', '150', '100', '0.001'];
  const fixtures = [startFixture(args), startFixture(args)];
  t.teardown(() => {
    for (const { child } of fixtures) if (child.exitCode === null) child.kill('SIGKILL');
  });
  for (const { nextLine } of fixtures) t.equal(await nextLine(), 'ready');
  for (const { child } of fixtures) child.stdin?.end('go\n');
  const outcomes = await Promise.all(fixtures.map(async ({ nextLine }) => JSON.parse(await nextLine()) as Outcome));

  t.same(
    outcomes.map((o) => o.errors),
    [0, 0],
    'no request failed',
  );
  t.equal(
    outcomes.reduce((sum, o) => sum + o.admitted, 0),
    100,
    'admitted in total',
  );
  t.equal(
    outcomes.reduce((sum, o) => sum + o.denied, 0),
    200,
    'denied in total',
  );
});
