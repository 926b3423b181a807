import t from 'tap';
import { ArgvError, parseArgv } from '../../gateway/argv.js';

const SPEC = {
  tenant: { type: 'string' },
  rate: { type: 'string' },
  json: { type: 'string' },
  scope: { type: 'string', multiple: true },
  quick: { type: 'boolean' },
} as const;

const refused = (args: string[], message: string | RegExp, positionals = 0) => {
  t.throws(() => parseArgv(args, SPEC, { positionals }), { name: 'ArgvError', code: 'INVALID_REQUEST', message }, args.join(' '));
};

t.test('every declared option has a value: given, or undefined, false, [] when not', async (t) => {
  t.same(parseArgv([], SPEC), { values: { tenant: undefined, rate: undefined, json: undefined, scope: [], quick: false }, positionals: [] });
  const { values } = parseArgv(['--tenant', 'acme', '--quick', '--scope', 'chat', '--scope=admin'], SPEC);
  t.equal(values.tenant, 'acme');
  t.equal(values.quick, true);
  t.same(values.scope, ['chat', 'admin'], 'a multiple option collects every value in order');
});

t.test('--x=value and --x value are the same, and an inline value may start with dashes', async (t) => {
  t.equal(parseArgv(['--tenant=acme'], SPEC).values.tenant, 'acme');
  t.equal(parseArgv(['--tenant=--odd'], SPEC).values.tenant, '--odd');
  t.equal(parseArgv(['--tenant='], SPEC).values.tenant, '', 'an empty inline value is a value');
});

t.test('an unknown option is refused by name', async () => {
  refused(['--tenat', 'acme'], 'unknown option --tenat');
  refused(['--tenant', 'acme', '--verbose'], 'unknown option --verbose');
  refused(['--tenat=acme'], 'unknown option --tenat');
});

t.test('a string option without a value needs one', async () => {
  refused(['--tenant'], '--tenant needs a value');
  refused(['--tenant', '--quick'], '--tenant needs a value');
  refused(['--scope', 'a', '--scope'], '--scope needs a value');
  refused(['--tenant', '--'], '--tenant needs a value');
});

t.test('a value may start with one dash: negative numbers and "-" for stdout', async (t) => {
  t.equal(parseArgv(['--rate', '-5'], SPEC).values.rate, '-5');
  t.equal(parseArgv(['--rate=-5'], SPEC).values.rate, '-5');
  t.equal(parseArgv(['--json', '-'], SPEC).values.json, '-');
});

t.test('an option given twice is refused unless it is multiple', async () => {
  refused(['--tenant', 'a', '--tenant', 'b'], '--tenant is given twice');
  refused(['--tenant=a', '--tenant', 'a'], '--tenant is given twice');
  refused(['--quick', '--quick'], '--quick is given twice');
});

t.test('a flag takes no value', async () => {
  refused(['--quick=yes'], '--quick takes no value');
});

t.test('positionals beyond the command\'s count are refused, naming the first extra one', async (t) => {
  refused(['acme'], 'unexpected argument "acme"');
  refused(['board', 'team', 'extra'], 'unexpected argument "extra"', 2);
  t.same(parseArgv(['board', '--quick', 'team'], SPEC, { positionals: 2 }).positionals, ['board', 'team'], 'options and positionals interleave');
});

t.test('after -- everything is a positional, even what looks like an option', async (t) => {
  const r = parseArgv(['--quick', '--', '--tenant', 'x', '--quick'], SPEC, { positionals: Infinity });
  t.same(r.positionals, ['--tenant', 'x', '--quick']);
  t.equal(r.values.quick, true);
  t.equal(r.values.tenant, undefined);
});

t.test('there are no short options: -5 and -abc are text', async (t) => {
  t.same(parseArgv(['-5', 'degrees', '-abc', '-'], SPEC, { positionals: Infinity }).positionals, ['-5', 'degrees', '-abc', '-']);
  refused(['-h'], 'unexpected argument "-h"');
});

t.test('ArgvError is an Error with the stable code', async (t) => {
  const err = new ArgvError('x');
  t.ok(err instanceof Error);
  t.equal(err.code, 'INVALID_REQUEST');
});
