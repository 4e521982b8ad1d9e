/**
 * `typed-flows c2st <a.csv> <b.csv> [--seed <n>] [--json]`: the classifier two-sample test of
 * src/metrics/c2st.ts (sbibm's definition) between two files of rows with the same columns.
 */
import { c2st, type C2stResult } from '../../metrics/c2st.js';
import { UsageError } from '../io.js';
import { readPointsFile } from '../points.js';

export const c2stCommand = async (a: string, b: string, seed: number): Promise<C2stResult & { rows: readonly [number, number]; width: number }> => {
  const [pa, pb] = [await readPointsFile(a), await readPointsFile(b)];
  if (pa.width !== pb.width) throw new UsageError(`c2st: '${a}' has ${pa.width} numbers per row and '${b}' has ${pb.width}; the samples must have the same columns.`);
  if (pa.rows < 5 || pb.rows < 5) throw new UsageError(`c2st: 5-fold cross-validation needs at least 5 rows in each sample ('${a}' has ${pa.rows}, '${b}' has ${pb.rows}).`);
  const r = c2st(Float64Array.from(pa.values), Float64Array.from(pb.values), pa.width, { seed });
  return { ...r, rows: [pa.rows, pb.rows], width: pa.width };
};
