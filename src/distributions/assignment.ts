/**
 * The optimal assignment of a square cost matrix (the Hungarian method with row and column potentials,
 * shortest augmenting paths: O(n^3)), for minibatch optimal-transport pairing in flow matching
 * (Tong et al. 2023; Pooladian et al. 2023): each data row gets the noise row that makes the sum of
 * squared distances smallest, so the conditional paths cross less and the learnt field is straighter.
 */

/**
 * The permutation `p` minimising sum_i cost[i][p[i]] for an n x n cost given row-major. Exact for
 * finite costs; deterministic (ties go to the lowest column index).
 */
export const optimalAssignment = (cost: Float64Array | readonly number[], n: number): Int32Array => {
  if (cost.length !== n * n) throw new RangeError(`optimalAssignment: expected ${n * n} costs, got ${cost.length}`);
  // 1-based arrays with a virtual column 0, as in the classic formulation.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOfColumn = new Int32Array(n + 1); // the row assigned to each column (0: none)
  const way = new Int32Array(n + 1);
  const minTo = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    minTo.fill(Infinity);
    used.fill(0);
    do {
      used[column] = 1;
      const r = rowOfColumn[column] as number;
      let delta = Infinity;
      let next = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j] === 1) continue;
        const reduced = (cost[(r - 1) * n + (j - 1)] as number) - (u[r] as number) - (v[j] as number);
        if (reduced < (minTo[j] as number)) {
          minTo[j] = reduced;
          way[j] = column;
        }
        if ((minTo[j] as number) < delta) {
          delta = minTo[j] as number;
          next = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j] === 1) {
          u[rowOfColumn[j] as number] = (u[rowOfColumn[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else minTo[j] = (minTo[j] as number) - delta;
      }
      column = next;
    } while (rowOfColumn[column] !== 0);
    // Flip the augmenting path.
    do {
      const previous = way[column] as number;
      rowOfColumn[column] = rowOfColumn[previous] as number;
      column = previous;
    } while (column !== 0);
  }
  const assignment = new Int32Array(n);
  for (let j = 1; j <= n; j++) assignment[(rowOfColumn[j] as number) - 1] = j - 1;
  return assignment;
};
