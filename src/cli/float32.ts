/** Numbers from files and options that become float32 tensors: what fits, and how to say it does not. */

/** The largest finite float32, about 3.4e38. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Whether `v` is finite once rounded to float32 (1e39 is a finite double but an infinite float32). */
export const fitsFloat32 = (v: number): boolean => Number.isFinite(Math.fround(v));

/** The words for a number that is finite but does not fit float32. */
export const OUTSIDE_FLOAT32 = `outside float32's range (magnitude at most ${FLOAT32_MAX.toPrecision(2)}), the precision the flow computes in`;
