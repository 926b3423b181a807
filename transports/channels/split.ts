/**
 * Splits a long reply into messages a platform accepts. Cuts fall, in order of
 * preference, between paragraphs, between lines, after a sentence, between
 * words, and only as a last resort inside a word. A fenced code block is never
 * cut open: a block that fits moves whole to the next message, and a block
 * longer than a whole message is cut between its lines, each piece closed and
 * reopened with its own fence, so every message renders on its own.
 *
 *   "para one\n\npara two … ```code```"   budget 20
 *        └── piece 1 ──┘└── piece 2 ─┘└ piece 3 ┘
 */
import { markdownBlocks } from './markdown.js';

/** Where to cut `text` at or before `max`: the best boundary in its second half, else `max`. */
function cutPoint(text: string, max: number): number {
  const floor = Math.floor(max / 2);
  for (const sep of ['\n\n', '\n']) {
    const i = text.lastIndexOf(sep, max - sep.length);
    if (i >= floor) return i + sep.length;
  }
  const window = text.slice(0, max);
  let sentence = -1;
  for (const m of window.matchAll(/[.!?。！？](?:\s|$)/g)) sentence = m.index + m[0].length;
  if (sentence >= floor) return sentence;
  const space = window.lastIndexOf(' ');
  if (space >= floor) return space + 1;
  // Never split a surrogate pair.
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

function splitPlain(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const at = cutPoint(rest, max);
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).replace(/^\n+/, '');
  }
  if (rest.trim().length > 0) out.push(rest);
  return out;
}

function fenced(code: string, lang: string): string {
  return '```' + lang + '\n' + code + '\n```';
}

/** Pieces of a code block, each a closed block of at most `max` characters. */
function splitCode(code: string, lang: string, max: number): string[] {
  const room = Math.max(1, max - fenced('', lang).length);
  return splitPlain(code, room).map((piece) => fenced(piece, lang));
}

/** The pieces, each at most `max` characters, whose concatenation keeps every word and code line. */
export function splitMarkdown(md: string, max: number): string[] {
  if (md.length <= max) return md.trim().length === 0 ? [] : [md];
  const units: string[] = [];
  for (const b of markdownBlocks(md)) {
    if (!b.code) units.push(...splitPlain(b.text, max));
    else {
      const whole = fenced(b.text, b.lang);
      units.push(...(whole.length <= max ? [whole] : splitCode(b.text, b.lang, max)));
    }
  }
  // Pack whole units greedily into messages.
  const out: string[] = [];
  let cur = '';
  for (const u of units) {
    if (u.trim().length === 0) continue;
    const joined = cur === '' ? u : `${cur}\n${u}`;
    if (joined.length <= max) cur = joined;
    else {
      if (cur !== '') out.push(cur);
      cur = u;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * Splits, then renders each piece; a piece whose rendering outgrew the limit
 * (escaping adds characters) is split again with a smaller budget.
 */
export function renderChunks(md: string, max: number, render: (md: string) => string): string[] {
  const out: string[] = [];
  const go = (text: string, budget: number): void => {
    for (const piece of splitMarkdown(text, budget)) {
      const rendered = render(piece);
      if (rendered.length <= max || budget <= 16) out.push(rendered.slice(0, max));
      else go(piece, Math.floor(budget * 0.7));
    }
  };
  go(md, max);
  return out;
}
