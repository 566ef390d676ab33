// "Did you mean …?" for unknown keys and variables: most unknown names are typos of a known one.

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest candidate (case-insensitive), when it is close enough to be a plausible typo or a shortening. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const list = [...candidates];
  // "secret" for "clientSecret": a part of the name is as telling as a typo.
  const containing = list.filter((c) => lower.length >= 4 && c.toLowerCase().includes(lower)).sort((a, b) => a.length - b.length);
  if (containing.length) return containing[0];
  const limit = Math.max(2, Math.floor(name.length / 5));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of list) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  return bestD <= limit ? best : undefined;
}

/** "; did you mean X?" or ''. */
export const didYouMean = (name: string, candidates: Iterable<string>): string => {
  const c = closest(name, candidates);
  return c ? `; did you mean ${c}?` : '';
};
