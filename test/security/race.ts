// The race harness of the security suite: N parallel uses of one one-time value, repeated for several rounds,
// with every use's outcome tallied so a test can assert "exactly one success, the losers all got this refusal"
// and print a per-value summary. Rounds default to a count that keeps CI fast; GATEHOUSE_STRESS_ROUNDS raises it.
import type { Test } from 'tap';

export const PARALLEL = 20;
/** Rounds per one-time value: 3 by default, GATEHOUSE_STRESS_ROUNDS=<n> for a longer soak. */
export const ROUNDS = Math.max(1, Number(process.env.GATEHOUSE_STRESS_ROUNDS) || 3);

/** What one use of the value got: whether it won, and a short stable description of the answer. */
export interface Shot { won: boolean; outcome: string; status: number }

export interface RaceRound {
  /** One use of the value (called PARALLEL times at once). */
  fire(i: number): Promise<Shot>;
  /** Checks after the race: no state beyond the one success (one exchange, one audit row, …). */
  after?(t: Test, shots: Shot[], round: number): Promise<void>;
}

export interface RaceSummary { value: string; rounds: number; parallel: number; wins: number; doubleSpends: number; losers: Record<string, number> }

/**
 * Runs ROUNDS races for one value. Each round arms a fresh value, fires PARALLEL uses at once and asserts:
 * exactly `expectWins` successes (default 1; a range [min, max] when fewer is acceptable), every loser's
 * outcome among `loserOutcomes`, and no 5xx. Returns the tally for the report.
 */
export async function raceRounds(t: Test, value: string, o: {
  arm(round: number): Promise<RaceRound>; loserOutcomes: string[]; expectWins?: number | [number, number];
}): Promise<RaceSummary> {
  const [minWins, maxWins] = Array.isArray(o.expectWins) ? o.expectWins : [o.expectWins ?? 1, o.expectWins ?? 1];
  const summary: RaceSummary = { value, rounds: ROUNDS, parallel: PARALLEL, wins: 0, doubleSpends: 0, losers: {} };
  for (let round = 0; round < ROUNDS; round++) {
    const r = await o.arm(round);
    const shots = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => r.fire(i)));
    const wins = shots.filter((s) => s.won).length;
    summary.wins += wins;
    if (wins > 1) summary.doubleSpends++;
    t.ok(wins >= minWins && wins <= maxWins, `${value}, round ${round + 1}: ${wins} success(es) of ${PARALLEL} (expected ${minWins === maxWins ? minWins : `${minWins}..${maxWins}`})`);
    const losers = shots.filter((s) => !s.won);
    for (const s of losers) summary.losers[s.outcome] = (summary.losers[s.outcome] ?? 0) + 1;
    const unexpected = losers.filter((s) => !o.loserOutcomes.includes(s.outcome)).map((s) => s.outcome);
    t.same(unexpected, [], `${value}, round ${round + 1}: every loser got ${o.loserOutcomes.join(' or ')}`);
    t.notOk(shots.some((s) => s.status >= 500), `${value}, round ${round + 1}: no 5xx`);
    await r.after?.(t, shots, round);
  }
  t.equal(summary.doubleSpends, 0, `${value}: zero double-spends in ${ROUNDS} rounds`);
  t.comment(`${value}: ${ROUNDS} rounds x ${PARALLEL} parallel uses -> ${summary.wins} successes, ${summary.doubleSpends} double-spends; losers ${JSON.stringify(summary.losers)}`);
  return summary;
}
