/**
 * Leak verdict for `--soak`: a least-squares line through RSS over the
 * measured window (warm-up excluded, so start-up growth does not count).
 * A leak is fitted growth above the threshold; noise around a flat line
 * fits a slope near zero, so one spike does not trip it.
 */
import type { ServerSample, SoakVerdict } from '../report/result.js';

export function soakVerdict(samples: readonly ServerSample[], thresholdBytes: number): SoakVerdict {
  const pts = samples.filter((s) => s.phase === 'measure' && s.rssBytes !== undefined);
  if (pts.length < 3) return { leak: false, slopeBytesPerMin: 0, growthBytes: 0, thresholdBytes };
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p.t, 0) / n;
  const my = pts.reduce((a, p) => a + (p.rssBytes ?? 0), 0) / n;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mx) * ((p.rssBytes ?? 0) - my);
    den += (p.t - mx) ** 2;
  }
  const slopePerSec = den === 0 ? 0 : num / den;
  const span = pts[n - 1].t - pts[0].t;
  const growthBytes = Math.round(slopePerSec * span);
  return { leak: growthBytes > thresholdBytes, slopeBytesPerMin: Math.round(slopePerSec * 60), growthBytes, thresholdBytes };
}
