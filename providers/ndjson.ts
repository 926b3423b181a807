// Splits a byte stream into newline-delimited JSON values (Ollama's wire
// format). A line longer than maxLineBytes is an error rather than a buffer
// that grows without bound.

export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export class NdjsonError extends Error {
  override readonly name = 'NdjsonError';
}

export async function* readNdjson(
  body: AsyncIterable<Uint8Array>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const bytes of body) {
    pending += decoder.decode(bytes, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') yield parseLine(line);
      newline = pending.indexOf('\n');
    }
    if (pending.length > maxLineBytes) throw new NdjsonError(`an NDJSON line exceeds ${maxLineBytes} bytes`);
  }
  pending += decoder.decode();
  // A final line without its newline is complete JSON or a cut: parsing tells.
  if (pending.trim() !== '') yield parseLine(pending.trim());
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new NdjsonError(`an NDJSON line is not JSON: ${line.slice(0, 80)}`);
  }
}
