import t from 'tap';
import { ToolPolicy } from '../../tools/policy.js';

const read = { name: 'read_file', group: 'fs' };
const exec = { name: 'exec', group: 'exec' };
const clock = { name: 'datetime', group: 'time' };

t.test('with no lists every tool is allowed', async (t) => {
  const policy = new ToolPolicy();
  t.ok(policy.allows(read) && policy.allows(exec) && policy.allows(clock));
});

t.test('an allow list admits only the tools and groups it names', async (t) => {
  const policy = new ToolPolicy({ allow: ['group:fs', 'datetime'] });
  t.ok(policy.allows(read));
  t.ok(policy.allows(clock));
  t.equal(policy.refusal(exec), 'not_allowed');
});

t.test('deny wins over allow, by name and by group', async (t) => {
  t.equal(new ToolPolicy({ allow: ['group:fs'], deny: ['read_file'] }).refusal(read), 'denied');
  t.equal(new ToolPolicy({ allow: ['read_file'], deny: ['group:fs'] }).refusal(read), 'denied');
  t.ok(new ToolPolicy({ deny: ['group:exec'] }).allows(clock), 'other groups stay allowed');
});

t.test('a tool without a group is matched only by name', async (t) => {
  const policy = new ToolPolicy({ deny: ['group:undefined'] });
  t.ok(policy.allows({ name: 'loose' }));
});
