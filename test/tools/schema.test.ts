import t from 'tap';
import { validate } from '../../tools/schema.js';

const person = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 5 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    role: { enum: ['admin', 'user'] },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
  required: ['name'],
  additionalProperties: false,
};

t.test('a value that fits the schema has no issues', async (t) => {
  t.same(validate(person, { name: 'Ann', age: 30, role: 'admin', tags: ['a'], address: { city: 'Oslo' } }), []);
});

t.test('a missing required property is reported at its path', async (t) => {
  t.same(validate(person, {}), [{ path: '$.name', message: 'is required' }]);
});

t.test('a wrong type names the expected and the actual type', async (t) => {
  t.same(validate(person, { name: 3 }), [{ path: '$.name', message: 'must be string, got number' }]);
  t.match(validate(person, { name: 'a', age: 1.5 }), [{ path: '$.age', message: /must be integer/ }]);
});

t.test('an unknown property is refused when additionalProperties is false', async (t) => {
  t.same(validate(person, { name: 'a', extra: 1 }), [{ path: '$.extra', message: 'is not an allowed property' }]);
});

t.test('nested objects and array items report their full JSON path', async (t) => {
  t.match(validate(person, { name: 'a', address: { town: 'x' } }), [
    { path: '$.address.city', message: 'is required' },
    { path: '$.address.town', message: 'is not an allowed property' },
  ]);
  t.match(validate(person, { name: 'a', tags: ['ok', 7] }), [{ path: '$.tags[1]', message: /must be string/ }]);
});

t.test('enum, bounds, lengths and item counts are enforced', async (t) => {
  t.match(validate(person, { name: 'a', role: 'root' }), [{ path: '$.role', message: /one of/ }]);
  t.match(validate(person, { name: 'a', age: -1 }), [{ path: '$.age', message: 'must be >= 0' }]);
  t.match(validate(person, { name: 'a', age: 151 }), [{ path: '$.age', message: 'must be <= 150' }]);
  t.match(validate(person, { name: '' }), [{ path: '$.name', message: /at least 1/ }]);
  t.match(validate(person, { name: 'abcdef' }), [{ path: '$.name', message: /at most 5/ }]);
  t.match(validate(person, { name: 'a', tags: ['x', 'y', 'z'] }), [{ path: '$.tags', message: /at most 2 items/ }]);
});

t.test('keys that are not identifiers are quoted in the path', async (t) => {
  t.same(validate({ type: 'object', additionalProperties: false }, { 'a b': 1 }), [{ path: '$["a b"]', message: 'is not an allowed property' }]);
});

t.test('anyOf accepts a value matching one alternative and refuses the rest', async (t) => {
  const schema = { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 10 }] };
  t.same(validate(schema, 'x'), []);
  t.same(validate(schema, 12), []);
  t.match(validate(schema, 3), [{ path: '$', message: /none of the allowed forms/ }]);
});

t.test('issues are capped and deep nesting is refused', async (t) => {
  const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
  t.equal(validate({ type: 'object', additionalProperties: false }, many, { maxIssues: 3 }).length, 3);
  const deep = { type: 'array', items: {} as Record<string, unknown> };
  let value: unknown = 1;
  for (let i = 0; i < 40; i++) value = [value];
  deep.items = deep;
  t.match(validate(deep, value), [{ message: /nested deeper than 32/ }]);
});
