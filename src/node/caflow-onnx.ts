/**
 * CAFLOW on ONNX Runtime (onnxruntime-node): the exported sampling and likelihood graphs
 * (src/caflow/onnx.ts) behind the same schedule as the tfjs paths, so `--engine onnx` draws the same
 * noise as sample() (sampleNoise) and scores the same held-out NLL batches (heldOutNllJobs).
 */
import * as tf from '@tensorflow/tfjs';
import { caflowToOnnx, noiseName, priorLatents } from '../caflow/onnx.js';
import type { CaflowSpec } from '../caflow/model.js';
import type { CaflowParams } from '../caflow/params.js';
import { dequantize, quantize } from '../caflow/quantize.js';
import { sampleNoise, temperatures } from '../caflow/sample.js';
import { conditionBatches, conditionsOf, heldOutNllJobs, type HeldOutNll, type NllOptions } from '../experiments/evaluate.js';
import type { PairedData } from '../experiments/paired-data.js';
import { onnxSession, type FloatArray, type OnnxSession } from './onnx-runtime.js';

const feed = (t: tf.Tensor): FloatArray => ({ data: Float32Array.from(t.dataSync()), dims: t.shape });

/** k samples per condition from ONNX Runtime and their log-likelihoods. */
export interface OnnxSamples {
  /** [B*k, H, W, C] continuous samples, the k of condition b at rows b*k.., best first. */
  readonly w: tf.Tensor4D;
  /** log p(W | Y) of each row (nats). */
  readonly logLikelihood: tf.Tensor1D;
}

/** A CAFLOW model on ONNX Runtime: sampling, ranked sampling and likelihoods, as the tfjs functions compute them. */
export interface OnnxCaflow {
  /** sample() on ONNX Runtime: the same noise (from `seed`) and temperatures. */
  sample(y: tf.Tensor4D, o: { readonly temperature?: number | readonly number[]; readonly seed?: number }): Promise<OnnxSamples>;
  /** sampleRanked (src/experiments/evaluate.ts) on ONNX Runtime: 8-bit Y in, 8-bit ranked samples out. */
  sampleRanked(y8: tf.Tensor4D, o: { readonly temperature: number; readonly seed: number }): Promise<tf.Tensor4D>;
  /** sampleRankedInBatches (src/experiments/evaluate.ts) on ONNX Runtime: batch b of conditions with seed + b. */
  sampleRankedInBatches(y8: tf.Tensor4D, o: { readonly temperature: number; readonly seed: number; readonly conditionsPerBatch?: number }): Promise<tf.Tensor4D>;
  /** log p(W | Y) per pair (nats) from the likelihood graph. */
  conditional(w: tf.Tensor4D, y: tf.Tensor4D): Promise<Float32Array>;
  /** heldOutNll on ONNX Runtime (same batches, noise and statistics). */
  heldOutNll(data: PairedData, o?: NllOptions): Promise<HeldOutNll>;
  /** Frees both sessions; the model is unusable afterwards. */
  release(): Promise<void>;
}

/** Sessions for CAFLOW's sampling graph (k samples per condition) and likelihood graph. */
export const onnxCaflow = async (m: CaflowSpec, params: CaflowParams, k: number): Promise<OnnxCaflow> => {
  const sampler: OnnxSession = await onnxSession(caflowToOnnx(m, params, { direction: 'sample', k }));
  const likelihood: OnnxSession = await onnxSession(caflowToOnnx(m, params, { direction: 'likelihood' }));
  const dims = (w: tf.Tensor4D): number => w.shape[1] * w.shape[2] * w.shape[3];
  const self: OnnxCaflow = {
    sample: async (y, o) => {
      const noise = sampleNoise(m, y.shape[0] * k, o.seed ?? 0);
      const feeds: Record<string, FloatArray> = { Y: feed(y), temperature: { data: Float32Array.from(temperatures(m, o.temperature ?? 1)), dims: [m.priors.length] } };
      m.priors.forEach((_, i) => priorLatents(m, i).forEach(({ scale }, j) => (feeds[noiseName(i, scale)] = feed(noise[i]?.[j] as tf.Tensor))));
      tf.dispose(noise.flat());
      const out = await sampler.run(feeds);
      const w = out['W'] as FloatArray;
      const logp = out['logp'] as FloatArray;
      return { w: tf.tensor4d(w.data, w.dims as [number, number, number, number]), logLikelihood: tf.tensor1d(logp.data) };
    },
    sampleRanked: async (y8, o) => {
      const y = dequantize(y8, 'center');
      const s = await self.sample(y, o);
      const out = quantize(s.w);
      tf.dispose([y, s.w, s.logLikelihood]);
      return out;
    },
    sampleRankedInBatches: async (y8, o) => {
      const parts: tf.Tensor4D[] = [];
      for (const batch of conditionBatches(y8.shape[0], o.conditionsPerBatch)) {
        const yb = conditionsOf(y8, batch);
        parts.push(await self.sampleRanked(yb, { ...o, seed: o.seed + batch.seedOffset }));
        yb.dispose();
      }
      const all = tf.concat(parts) as tf.Tensor4D;
      tf.dispose(parts);
      return all;
    },
    conditional: async (w, y) => (await likelihood.run({ W: feed(w), Y: feed(y) }))['logp']?.data ?? new Float32Array(0),
    heldOutNll: async (data, o = {}) => {
      const jobs = heldOutNllJobs(data, o);
      for (let next = jobs.next(); ; next = jobs.next()) {
        if (next.done === true) return next.value;
        const { w, y, record } = next.value;
        // bits/dim = -log p / (D ln 2), as conditionalBitsPerDim.
        record((await self.conditional(w, y)).map((l) => -l / (dims(w) * Math.LN2)));
      }
    },
    release: async () => {
      await sampler.release();
      await likelihood.release();
    },
  };
  return self;
};
