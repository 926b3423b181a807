/**
 * Bounds the values one Prometheus label may take: the first `max` distinct
 * values keep their name, every later one is reported as `other`. Tenants and
 * models come from outside, so without a cap a scrape would grow with them.
 */
export const OTHER = 'other';

export class LabelCap {
  readonly #seen = new Set<string>();

  constructor(readonly max: number) {}

  label(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return OTHER;
    this.#seen.add(value);
    return value;
  }
}
