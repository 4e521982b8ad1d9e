/**
 * The classifier two-sample test as sbibm defines it (Lueckmann et al. 2021, sbibm/metrics/c2st.py):
 * both samples are z-scored with the mean and std of the first (X), labelled 0 (X) and 1 (Y), and an
 * MLP classifier with two hidden layers of 10 * dim ReLU units (scikit-learn's MLPClassifier: Adam at
 * 1e-3, minibatches of min(200, n), L2 penalty 1e-4, Glorot-uniform init; training stops when the
 * training loss has not improved by 1e-4 for 10 epochs) is scored by 5-fold cross-validation
 * (stratified, shuffled, seeded). The result is the mean held-out accuracy: 0.5 when the samples are
 * indistinguishable, 1 when they are told apart perfectly.
 *
 * Rows are row-major Float64Arrays (n * dim). Everything runs under tf.tidy or is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom, shuffledIndices } from '../dsl/random.js';

export interface C2stOptions {
  /** Seed of the folds, the initialisation and the minibatches. Default 1 (sbibm's). */
  readonly seed?: number;
  /** Folds. Default 5. */
  readonly folds?: number;
  /** Largest number of epochs per fold. Default 500 (scikit-learn's is 10,000 in sbibm; the stopping rule ends far sooner). */
  readonly maxEpochs?: number;
}

export interface C2stResult {
  /** Mean held-out accuracy over the folds. */
  readonly accuracy: number;
  readonly foldAccuracies: readonly number[];
}

const L2 = 1e-4;

/** Column means and (unbiased, as torch.std) standard deviations of rows; a zero std becomes 1. */
const columnStats = (rows: Float64Array, dim: number): { mean: Float64Array; std: Float64Array } => {
  const n = rows.length / dim;
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i += 1) for (let j = 0; j < dim; j += 1) mean[j] = (mean[j] as number) + (rows[i * dim + j] as number) / n;
  for (let i = 0; i < n; i += 1) for (let j = 0; j < dim; j += 1) std[j] = (std[j] as number) + ((rows[i * dim + j] as number) - (mean[j] as number)) ** 2;
  for (let j = 0; j < dim; j += 1) std[j] = n > 1 && (std[j] as number) > 0 ? Math.sqrt((std[j] as number) / (n - 1)) : 1;
  return { mean, std };
};

/** Glorot-uniform weights and zero biases for the layer widths given. */
const initLayers = (widths: readonly number[], random: () => number): { w: tf.Variable[]; b: tf.Variable[] } => {
  const w: tf.Variable[] = [];
  const b: tf.Variable[] = [];
  for (let l = 0; l + 1 < widths.length; l += 1) {
    const [fanIn, fanOut] = [widths[l] as number, widths[l + 1] as number];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const values = Float32Array.from({ length: fanIn * fanOut }, () => (2 * random() - 1) * limit);
    // Under tidy: a variable keeps its own reference, the initial tensor is disposed.
    w.push(tf.tidy(() => tf.variable(tf.tensor2d(values, [fanIn, fanOut]))));
    b.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]))));
  }
  return { w, b };
};

const logits = (x: tf.Tensor2D, w: readonly tf.Variable[], b: readonly tf.Variable[]): tf.Tensor1D => {
  let h: tf.Tensor2D = x;
  w.forEach((wl, l) => {
    const z = tf.add(tf.matMul(h, wl as unknown as tf.Tensor2D), b[l] as tf.Variable) as tf.Tensor2D;
    h = l + 1 < w.length ? tf.relu(z) : z;
  });
  return tf.reshape(h, [-1]) as tf.Tensor1D;
};

/** Trains the classifier on (x, y) and returns its accuracy on (xt, yt). */
const trainAndScore = (x: Float32Array, y: Float32Array, xt: Float32Array, yt: Float32Array, dim: number, random: () => number, maxEpochs: number): number => {
  const n = y.length;
  const { w, b } = initLayers([dim, 10 * dim, 10 * dim, 1], random);
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const batch = Math.min(200, n);
  const xs = tf.tensor2d(x, [n, dim]);
  const ys = tf.tensor1d(y);
  let best = Infinity;
  let stale = 0;
  try {
    for (let epoch = 0; epoch < maxEpochs && stale < 10; epoch += 1) {
      const order = Int32Array.from(shuffledIndices(n, random));
      let total = 0;
      for (let start = 0; start < n; start += batch) {
        const idx = order.subarray(start, Math.min(n, start + batch));
        const loss = optimizer.minimize(() => {
          const i = tf.tensor1d(idx, 'int32');
          const xb = tf.gather(xs, i) as tf.Tensor2D;
          const yb = tf.gather(ys, i);
          const data = tf.losses.sigmoidCrossEntropy(yb, logits(xb, w, b));
          // scikit-learn's penalty: alpha/2 * sum of squared weights / batch size.
          const penalty = tf.mul(tf.addN(w.map((wl) => tf.sum(tf.square(wl)))), L2 / (2 * idx.length));
          return tf.add(data, penalty) as tf.Scalar;
        }, true) as tf.Scalar;
        total += (loss.dataSync()[0] as number) * idx.length;
        loss.dispose();
      }
      const mean = total / n;
      if (mean > best - 1e-4) stale += 1;
      else stale = 0;
      best = Math.min(best, mean);
    }
    return tf.tidy(() => {
      const p = logits(tf.tensor2d(xt, [yt.length, dim]), w, b);
      const correct = tf.sum(tf.cast(tf.equal(tf.cast(tf.greater(p, 0), 'float32'), tf.tensor1d(yt)), 'float32'));
      return (correct.dataSync()[0] as number) / yt.length;
    });
  } finally {
    tf.dispose([xs, ys, ...w, ...b]);
    optimizer.dispose();
  }
};

/**
 * C2ST accuracy of sample `a` (n * dim) against sample `b` (m * dim): see the file comment.
 * Throws a RangeError for samples of other widths or fewer rows than folds.
 */
export const c2st = (a: Float64Array, b: Float64Array, dim: number, options: C2stOptions = {}): C2stResult => {
  const { seed = 1, folds = 5, maxEpochs = 500 } = options;
  const [n, m] = [a.length / dim, b.length / dim];
  if (!(Number.isInteger(n) && Number.isInteger(m) && dim >= 1)) throw new RangeError(`c2st: the samples are not rows of ${dim} numbers`);
  if (n < folds || m < folds) throw new RangeError(`c2st: each sample needs at least ${folds} rows (got ${n} and ${m})`);
  const { mean, std } = columnStats(a, dim);
  const total = n + m;
  const x = new Float32Array(total * dim);
  const y = new Float32Array(total);
  for (let i = 0; i < total; i += 1) {
    const [src, row] = i < n ? [a, i] : [b, i - n];
    for (let j = 0; j < dim; j += 1) x[i * dim + j] = ((src[row * dim + j] as number) - (mean[j] as number)) / (std[j] as number);
    y[i] = i < n ? 0 : 1;
  }
  const random = seededRandom(seed);
  // Stratified folds: each class shuffled and dealt round-robin.
  const fold = new Int32Array(total);
  const deal = (from: number, count: number): void => shuffledIndices(count, random).forEach((k, r) => (fold[from + k] = r % folds));
  deal(0, n);
  deal(n, m);
  const foldAccuracies: number[] = [];
  for (let f = 0; f < folds; f += 1) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < total; i += 1) (fold[i] === f ? test : train).push(i);
    const pick = (idx: readonly number[]): { x: Float32Array; y: Float32Array } => {
      const px = new Float32Array(idx.length * dim);
      const py = new Float32Array(idx.length);
      idx.forEach((i, r) => {
        px.set(x.subarray(i * dim, (i + 1) * dim), r * dim);
        py[r] = y[i] as number;
      });
      return { x: px, y: py };
    };
    const tr = pick(train);
    const te = pick(test);
    foldAccuracies.push(trainAndScore(tr.x, tr.y, te.x, te.y, dim, random, maxEpochs));
  }
  return { accuracy: foldAccuracies.reduce((s, v) => s + v, 0) / folds, foldAccuracies };
};
