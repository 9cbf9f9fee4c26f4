/** "Did you mean" for misspelt keys: `github_user` → `github_username`. */

function normalise(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key closest to `key`, when one is close enough to be what the author meant. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const k = normalise(key);
  if (k === '') return undefined;
  let best: { key: string; score: number } | undefined;
  for (const candidate of known) {
    const c = normalise(candidate);
    const score =
      c === k
        ? 0
        : c.startsWith(k) || k.startsWith(c) || (k.length >= 4 && c.endsWith(k))
          ? 1
          : editDistance(k, c) <= Math.max(2, Math.floor(c.length / 4))
            ? 2
            : Infinity;
    if (score < (best?.score ?? Infinity)) best = { key: candidate, score };
  }
  return best?.key;
}
