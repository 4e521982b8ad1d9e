/**
 * The playground's ONNX engine (the exported sampling graph on ONNX Runtime; onnxruntime-web in the
 * page, onnxruntime-node here, the same API) draws what its tfjs engine draws: the same noise per
 * chunk, so the same ranked samples and log-likelihoods, up to float32 differences.
 */
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { caflowConfig, caflowSpec, encodeCaflowModel, type CaflowParams } from '../../src/caflow/index.js';
import { presets } from '../../src/experiments/config.js';
import { disposeParams, perturbedParams, type ParamTree } from '../../src/interpreters/index.js';
import { conditionOf, disposeModel, readModelFile, sampleRanked, type OnnxRuntimeLike } from '../../playground/src/session.js';

const ort = ((ortNode as unknown as { default?: OnnxRuntimeLike }).default ?? ortNode) as unknown as OnnxRuntimeLike;

describe('playground: the onnx engine', () => {
  it('gives the tfjs engine\'s ranked samples and log-likelihoods', async () => {
    const model = caflowSpec(caflowConfig({ target: [1, 8, 8], condition: [1, 8, 8], scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 4, conditionalHidden: 4 }));
    const params: CaflowParams = { R: perturbedParams(model.encoderY, 1, 0.2), T: perturbedParams(model.encoderW, 2, 0.2), G: model.priors.map((p, i) => perturbedParams(p, 3 + i, 0.2)) };
    const config = { ...(presets['mnist-sr'] as NonNullable<(typeof presets)[string]>), size: 8 };
    const m = readModelFile(await encodeCaflowModel({ model, params, step: 1, config }), 'm.safetensors', 'sr');
    [params.R, params.T, ...params.G].forEach((p) => disposeParams(p as ParamTree));
    const target = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    const condition = conditionOf('sr', target, m.imageShape);
    const request = { k: 5, temperature: 0.8, seed: 3, chunk: 2 };
    const a = await sampleRanked(m, condition, request);
    const progress: number[] = [];
    const b = await sampleRanked(m, condition, request, (done) => void progress.push(done), { kind: 'onnx', ort });
    expect(progress).toEqual([2, 4, 5]);
    expect(b).toHaveLength(5);
    // Same noise: the same samples in the same order (log-likelihoods differ by float32 rounding only,
    // ~1e-7 relative; 1e-4 as in test/engines/onnx-caflow.test.ts), and 8-bit images at most one level apart
    // (floor of values within ~1e-5 of each other).
    b.forEach((s, i) => {
      const t = a[i]!;
      expect(Math.abs(s.logLikelihood - t.logLikelihood) / (1 + Math.abs(t.logLikelihood))).toBeLessThan(1e-4);
      s.image.forEach((v, p) => expect(Math.abs(v - t.image[p]!)).toBeLessThanOrEqual(1));
    });
    expect(new Set(a.map((s) => s.logLikelihood)).size).toBe(5);
    disposeModel(m);
  });
});
