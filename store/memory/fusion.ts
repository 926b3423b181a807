/**
 * Reciprocal Rank Fusion: score(d) = Σ over lists of 1 / (k + rank(d)), rank from 1.
 * It needs no calibration between ts_rank_cd and cosine (different scales), rewards
 * items both lists agree on, and k = 60 is the customary damping constant.
 */
export const RRF_K = 60;

export interface Fused {
  id: string;
  score: number;
  /** 1-based rank in each input list, or null when absent from it. */
  ranks: (number | null)[];
}

export function reciprocalRankFusion(lists: readonly (readonly string[])[], k = RRF_K): Fused[] {
  const byId = new Map<string, Fused>();
  lists.forEach((list, li) => {
    list.forEach((id, i) => {
      let f = byId.get(id);
      if (f === undefined) {
        f = { id, score: 0, ranks: lists.map(() => null) };
        byId.set(id, f);
      }
      if (f.ranks[li] === null) {
        f.ranks[li] = i + 1;
        f.score += 1 / (k + i + 1);
      }
    });
  });
  return [...byId.values()].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
