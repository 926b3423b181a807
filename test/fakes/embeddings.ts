// The embedding half of the fake upstreams: each provider's real request and
// answer shapes, with vectors from `fakeVector`, a tiny stand-in for a model
// that knows synonyms. Words of one concept ("car", "automobile", "vehicle")
// land on the same coordinates, so a search for "automobile" finds a note about
// a "car": the recall a real embedding model gives and the offline hash
// embedder cannot. Vectors are deliberately not unit length (the store must
// normalise them).

import { createHash } from 'node:crypto';
import type { Rendered } from './upstream.js';

const CONCEPTS: Record<string, string> = {
  car: 'car', automobile: 'car', vehicle: 'car', sedan: 'car',
  doctor: 'doctor', physician: 'doctor', medic: 'doctor',
  happy: 'happy', glad: 'happy', joyful: 'happy',
  big: 'big', large: 'big', huge: 'big',
  invoice: 'invoice', bill: 'invoice', receipt: 'invoice',
};

const DEFAULT_DIMENSIONS = 64;

export function fakeVector(text: string, dimensions = DEFAULT_DIMENSIONS): number[] {
  const v: number[] = Array.from({ length: dimensions }, () => 0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const concept = CONCEPTS[word] ?? word;
    const h = createHash('sha256').update(concept).digest();
    for (let k = 0; k < 3; k++) v[h[k] % dimensions] += h[k + 3] & 1 ? 3 : -3;
  }
  // Never all zeros: an empty text still gets a direction.
  if (!v.some((x) => x !== 0)) v[0] = 1;
  return v;
}

const dims = (n: unknown): number => (typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : DEFAULT_DIMENSIONS);
const inputs = (input: unknown): string[] => (Array.isArray(input) ? input.map(String) : [String(input ?? '')]);
const json = (body: object): Rendered => ({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });

/** OpenAI `POST /v1/embeddings`: float arrays, or base64 little-endian float32 (the SDK's default ask). */
export function openaiEmbeddings(raw: unknown): Rendered {
  const body = (raw ?? {}) as { model?: string; input?: unknown; dimensions?: number; encoding_format?: string };
  const texts = inputs(body.input);
  const data = texts.map((text, index) => {
    const vector = fakeVector(text, dims(body.dimensions));
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = texts.reduce((n, t) => n + t.split(/\s+/).length, 0);
  return json({ object: 'list', data, model: body.model ?? 'fake-embedding', usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

interface GeminiEmbedRequest {
  model?: string;
  content?: { parts?: { text?: string }[] };
  outputDimensionality?: number;
}

const geminiText = (r: GeminiEmbedRequest): string => (r.content?.parts ?? []).map((p) => p.text ?? '').join(' ');

/** Gemini `models/<m>:embedContent` and `models/<m>:batchEmbedContents`. */
export function geminiEmbeddings(model: string, method: string, raw: unknown): Rendered {
  if (method === 'embedContent') {
    const r = (raw ?? {}) as GeminiEmbedRequest;
    return json({ embedding: { values: fakeVector(geminiText(r), dims(r.outputDimensionality)) } });
  }
  const requests = ((raw ?? {}) as { requests?: GeminiEmbedRequest[] }).requests ?? [];
  // The real API insists that every request names the model of the URL.
  if (requests.some((r) => r.model !== `models/${model}`)) {
    return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 400, message: 'model mismatch', status: 'INVALID_ARGUMENT' } }) };
  }
  return json({ embeddings: requests.map((r) => ({ values: fakeVector(geminiText(r), dims(r.outputDimensionality)) })) });
}

/** Ollama `POST /api/embed`. */
export function ollamaEmbeddings(raw: unknown): Rendered {
  const body = (raw ?? {}) as { model?: string; input?: unknown; dimensions?: number };
  const texts = inputs(body.input);
  return json({
    model: body.model ?? 'fake-embed',
    embeddings: texts.map((t) => fakeVector(t, dims(body.dimensions))),
    total_duration: 1_000_000,
    load_duration: 100_000,
    prompt_eval_count: texts.length,
  });
}
