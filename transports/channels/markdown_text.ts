/**
 * Markdown for platforms with little or no markup: WhatsApp's own
 * `*bold* _italic_ ~strike~ ```mono```` and plain text (Zalo). Code is
 * never touched: fenced blocks and inline code pass through as they are.
 */

const FENCE = /```[\s\S]*?(?:```|$)/g;

/** Applies `fn` to the text outside fenced code blocks and inline code spans. */
function outsideCode(md: string, fn: (text: string) => string, code: (block: string) => string): string {
  let out = '';
  let last = 0;
  for (const m of md.matchAll(FENCE)) {
    out += outsideInline(md.slice(last, m.index), fn, code) + code(m[0]);
    last = m.index + m[0].length;
  }
  return out + outsideInline(md.slice(last), fn, code);
}

function outsideInline(text: string, fn: (text: string) => string, code: (span: string) => string): string {
  const parts = text.split(/(`[^`\n]+`)/);
  return parts.map((p, i) => (i % 2 === 1 ? code(p) : fn(p))).join('');
}

const BOLD = /\*\*(?=\S)([\s\S]+?)(?<=\S)\*\*|__(?=\S)([\s\S]+?)(?<=\S)__/g;
const ITALIC = /(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])/g;
const STRIKE = /~~(?=\S)([\s\S]+?)(?<=\S)~~/g;
const HEADING = /^#{1,6}\s+(.+?)\s*#*$/gm;
const LINK = /\[([^\]\n]+)\]\((\S+?)\)/g;
const MARK = '\u0000';

/** Markdown → WhatsApp markup. */
export function markdownToWhatsApp(md: string): string {
  return outsideCode(
    md,
    (t) =>
      t
        .replace(HEADING, `${MARK}$1${MARK}`)
        .replace(BOLD, (_m, a: string | undefined, b: string | undefined) => `${MARK}${a ?? b ?? ''}${MARK}`)
        .replace(ITALIC, '_$1_')
        .replace(STRIKE, '~$1~')
        .replace(LINK, (_m, label: string, url: string) => (label === url ? url : `${label} (${url})`))
        .replaceAll(MARK, '*'),
    (c) => c,
  );
}

/** Markdown → plain text: markers dropped, links spelled out, code kept verbatim. */
export function markdownToPlain(md: string): string {
  return outsideCode(
    md,
    (t) =>
      t
        .replace(HEADING, '$1')
        .replace(BOLD, (_m, a: string | undefined, b: string | undefined) => a ?? b ?? '')
        .replace(ITALIC, '$1')
        .replace(STRIKE, '$1')
        .replace(LINK, (_m, label: string, url: string) => (label === url ? url : `${label} (${url})`)),
    (c) => (c.startsWith('```') ? c.replace(/^```[^\n]*\n?/, '').replace(/\n?```$/, '') : c.slice(1, -1)),
  );
}
