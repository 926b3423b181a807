import t from 'tap';
import { LoopDetector } from '../../actors/loop_detector.js';
import { planCompaction, estimateTokens } from '../../actors/context_window.js';
import { stableJson } from '../../actors/stable_json.js';
import type { ChatMessage } from '../../providers/index.js';

t.test('stable JSON ignores key order at every level', async (t) => {
  t.equal(stableJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 0 } }), stableJson({ a: { c: 0, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  t.not(stableJson({ a: 1 }), stableJson({ a: 2 }));
});

t.test('the same call with the same result warns at 3 and stops at 5', async (t) => {
  const d = new LoopDetector();
  const verdicts = [1, 2, 3, 4, 5].map(() => d.record('search', { q: 'x', page: 1 }, 'nothing', false).action);
  t.same(verdicts, ['ok', 'ok', 'warn', 'warn', 'stop']);
});

t.test('argument key order does not hide a repeated call', async (t) => {
  const d = new LoopDetector();
  d.record('search', { q: 'x', page: 1 }, 'r', false);
  d.record('search', { page: 1, q: 'x' }, 'r', false);
  t.equal(d.record('search', { q: 'x', page: 1 }, 'r', false).action, 'warn');
});

t.test('the same tool with the same result for different arguments warns at 4 and stops at 6', async (t) => {
  const d = new LoopDetector();
  const verdicts = [1, 2, 3, 4, 5, 6].map((i) => d.record('lookup', { id: i }, 'not found', false));
  t.same(verdicts.map((v) => v.action), ['ok', 'ok', 'ok', 'warn', 'warn', 'stop']);
  t.match(verdicts[5], { rule: 'same_result' });
});

t.test('different results are not a loop', async (t) => {
  const d = new LoopDetector();
  const verdicts = [1, 2, 3, 4, 5, 6].map((i) => d.record('lookup', { id: i }, `result ${i}`, false).action);
  t.same(verdicts, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
});

t.test('a long streak of read-only calls warns, then stops; an acting call resets it', async (t) => {
  const d = new LoopDetector({ sameCallWarn: 99, sameCallStop: 99, sameResultWarn: 99, sameResultStop: 99, readOnlyWarn: 3, readOnlyStop: 5 });
  const first = [1, 2, 3].map((i) => d.record('read', { i }, `r${i}`, true).action);
  t.same(first, ['ok', 'ok', 'warn']);
  t.equal(d.record('write', { i: 0 }, 'ok', false).action, 'ok', 'a non-read-only call resets the streak');
  const second = [1, 2, 3, 4, 5].map((i) => d.record('read', { i: i + 10 }, `r${i + 10}`, true));
  t.same(second.map((v) => v.action), ['ok', 'ok', 'warn', 'warn', 'stop']);
  t.match(second[4], { rule: 'read_only_streak' });
});

t.test('compaction keeps the system prompt and never splits a tool call from its results', async (t) => {
  const big = 'x'.repeat(400);
  const messages: ChatMessage[] = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: big },
    { role: 'assistant', content: big },
    { role: 'user', content: big },
    { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 't', arguments: '{}' }, { id: 'b', name: 't', arguments: '{}' }] },
    { role: 'tool', toolCallId: 'a', content: big },
    { role: 'tool', toolCallId: 'b', content: big },
    { role: 'user', content: 'last question' },
  ];
  t.equal(planCompaction(messages, 1_000_000), null, 'nothing to do when it fits');
  const budget = estimateTokens(messages.slice(4)) + estimateTokens(messages.slice(0, 1)) + 256;
  const plan = planCompaction(messages, budget, 256);
  t.ok(plan);
  t.equal(plan?.recent[0].role, 'assistant', 'the kept part starts at the tool-calling message');
  t.equal(plan?.recent.length, 4);
  t.equal(plan?.older.length, 3);
  const tight = planCompaction(messages, estimateTokens(messages.slice(5)) + 300, 256);
  t.not(tight?.recent[0].role, 'tool', 'a cut never leaves a tool result without its call');
});
