/** The optimal assignment against brute force over every permutation (n <= 6) and on structured cases. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optimalAssignment } from '../../src/distributions/assignment.js';

const permutations = (n: number): number[][] =>
  n === 0 ? [[]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));

const total = (cost: readonly number[], n: number, p: ArrayLike<number>): number => Array.from({ length: n }, (_, i) => cost[i * n + (p[i] as number)] as number).reduce((a, b) => a + b, 0);

describe('optimalAssignment', () => {
  it('finds a permutation of least total cost (brute force over all n! for n <= 6)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n * n, maxLength: n * n }))),
        ([n, cost]) => {
          const p = optimalAssignment(cost, n);
          expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          const best = Math.min(...permutations(n).map((q) => total(cost, n, q)));
          // Sums of up to 6 doubles of size 100: rounding below 1e-9.
          expect(total(cost, n, p)).toBeCloseTo(best, 9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('pairs points on a line with themselves in order (squared distances: the monotone matching)', () => {
    const xs = [3, -1, 7, 0.5, 2];
    const ys = [7.1, 0.4, 2.2, 3.3, -0.9];
    const cost = xs.flatMap((x) => ys.map((y) => (x - y) ** 2));
    expect(Array.from(optimalAssignment(cost, 5))).toEqual([3, 4, 0, 1, 2]);
  });

  it('refuses a cost matrix of the wrong size', () => {
    expect(() => optimalAssignment([1, 2, 3], 2)).toThrow(/expected 4 costs/);
  });
});
