// Paired significance of accuracy differences: two classifiers scored on the same examples differ
// only on the examples where exactly one of them is right. McNemar's exact test asks whether those
// discordant examples split unevenly beyond chance (binomial, p = 1/2). On SST-2 dev (872 sentences)
// one sentence is 0.11 points, so small gaps between pruned models are often not significant.

/** Two-sided exact McNemar p-value for `wins` vs `losses` discordant pairs. */
export function mcnemarExact(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space for large n.
  let logTerm = -n * Math.LN2; // C(n, 0) / 2^n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}

/** The paired comparison of two prediction vectors against the labels. */
export function pairedComparison(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  labels: ArrayLike<number>,
): { wins: number; losses: number; pValue: number } {
  if (a.length !== labels.length || b.length !== labels.length)
    throw new RangeError(`pairedComparison: ${a.length} and ${b.length} predictions for ${labels.length} labels`);
  let wins = 0;
  let losses = 0;
  for (let i = 0; i < labels.length; i++) {
    const aRight = a[i] === labels[i];
    const bRight = b[i] === labels[i];
    if (aRight && !bRight) wins++;
    else if (bRight && !aRight) losses++;
  }
  return { wins, losses, pValue: mcnemarExact(wins, losses) };
}
