/** Size limits of the command line (src/cli/limits.ts): estimated from the spec JSON, refused before allocating. */
import { describe, expect, it } from 'vitest';
import { smallGlow } from '../../src/cli/examples.js';
import { UsageError } from '../../src/cli/io.js';
import { caflowSpec } from '../../src/caflow/model.js';
import { modelConfigOf } from '../../src/cli/model-config.js';
import { presets, type RunConfig } from '../../src/experiments/config.js';
import { checkLayers, checkSample, checkTrain, checkVerify, conditionsPerSampleBatch, LimitError, MAX_LAYERS, memoryBudget, parseBytes, sampleBytes, specCost } from '../../src/cli/limits.js';
import { parameterCount } from '../../src/interpreters/summary.js';
import fc from 'fast-check';
import { affineCoupling, batchNorm, chain, made, maskedAutoregressive, mlp, repeat, scaleShift, splineCoupling } from '../../src/dsl/index.js';
import { init } from '../../src/interpreters/init.js';
import { disposeParams, flattenParams } from '../../src/dsl/params.js';

const budget = { bytes: 4 * 1024 ** 3, source: 'test budget' };
const refused = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LimitError);
    return (e as Error).message;
  }
  throw new Error('expected a LimitError');
};

describe('specCost', () => {
  it('counts layers with repeat multiplicity and estimates parameters close to the real count', () => {
    const glow = smallGlow();
    const cost = specCost(JSON.parse(JSON.stringify(glow)));
    expect(cost.layers).toBe(17);
    const real = parameterCount(glow);
    expect(cost.params).toBeGreaterThanOrEqual(real * 0.5);
    expect(cost.params).toBeLessThanOrEqual(real * 2);
    expect(cost.largestShape).toEqual([3, 8, 8]);
  });

  it('does not expand a repeat: n = 1e8 costs nothing to measure', () => {
    const cost = specCost({ kind: 'repeat', n: 1e8, body: { kind: 'repeat', n: 10, body: { kind: 'actnorm', shape: [3, 8, 8] } } });
    expect(cost.layers).toBe(1e9);
    expect(cost.repeat).toEqual({ path: '$.body', n: 1e9 });
    expect(refused(() => checkLayers(cost, 'summary'))).toContain(`the limit is ${MAX_LAYERS.toLocaleString('en-US')} layers`);
  });
});

describe('refusals name the limit', () => {
  it('verify: huge shapes, a huge inv1x1 and a huge batch', () => {
    expect(refused(() => checkVerify({ kind: 'actnorm', shape: [3, 100000, 100000] }, 2, budget))).toMatch(/needs about 720 GB of memory; the limit is 4\.29 GB \(test budget\)/);
    expect(refused(() => checkVerify({ kind: 'inv1x1', shape: [1000000, 1, 1] }, 2, budget))).toContain('1.00e12 parameters');
    expect(refused(() => checkVerify(JSON.parse(JSON.stringify(smallGlow())), 100_000_000, budget))).toContain('--batch 100000000');
  });

  it('accepts what fits: the bundled example at the default batch', () => {
    expect(() => checkVerify(JSON.parse(JSON.stringify(smallGlow())), 2, budget)).not.toThrow();
    expect(() => checkSample(JSON.parse(JSON.stringify(smallGlow())), 8, 8, 'sample', budget)).not.toThrow();
  });

  it('eval: the paper presets\' 256 x 8 samples do not fit in one batch, so eval samples as many conditions per batch as fit', () => {
    for (const name of ['paper-ffhq-sr', 'paper-celeba-inpaint']) {
      const preset = presets[name] as RunConfig;
      const model = JSON.parse(JSON.stringify(caflowSpec(modelConfigOf(preset)))) as unknown;
      const { conditions, samples: k } = preset.eval;
      expect(refused(() => checkSample(model, conditions, k, 'eval', budget))).toContain('conditions');
      const per = conditionsPerSampleBatch(model, conditions, k, 'eval', budget);
      const cost = specCost(model);
      expect(per).toBeGreaterThanOrEqual(1);
      expect(per).toBeLessThan(conditions);
      expect(sampleBytes(cost, per * k)).toBeLessThanOrEqual(budget.bytes);
      expect(sampleBytes(cost, (per + 1) * k)).toBeGreaterThan(budget.bytes);
    }
    const mnist = presets['mnist-sr'] as RunConfig;
    const small = JSON.parse(JSON.stringify(caflowSpec(modelConfigOf(mnist)))) as unknown;
    expect(conditionsPerSampleBatch(small, mnist.eval.conditions, mnist.eval.samples, 'eval', budget)).toBe(mnist.eval.conditions);
    expect(refused(() => conditionsPerSampleBatch(small, 64, 1e9, 'eval', budget))).toContain('samples of one condition');
  });

  it('sample: k samples for each condition', () => {
    expect(refused(() => checkSample(JSON.parse(JSON.stringify(smallGlow())), 8, 10_000_000, 'sample', budget))).toContain('--k');
  });
});

describe('train', () => {
  it('refuses a batch size whose step cannot fit, and accepts every preset at its own', () => {
    for (const [name, preset] of Object.entries(presets)) {
      expect(() => checkTrain(caflowSpec(modelConfigOf(preset)), preset.train.batchSize, budget), name).not.toThrow();
    }
    const sr = presets['mnist-sr'] as RunConfig;
    expect(refused(() => checkTrain(caflowSpec(modelConfigOf(sr)), 100_000_000, budget))).toMatch(/^train with train\.batchSize 100000000 .* needs about .*; the limit is 4\.29 GB \(test budget\)\. Use a smaller train\.batchSize/);
  });
});

describe('the memory budget', () => {
  it('defaults to half the machine, at most 4 GiB; TYPED_FLOWS_MAX_MEMORY overrides it', () => {
    expect(memoryBudget({}, 2e9).bytes).toBe(1e9);
    expect(memoryBudget({}, 64e9).bytes).toBe(4 * 1024 ** 3);
    expect(memoryBudget({ TYPED_FLOWS_MAX_MEMORY: '8GB' }, 2e9)).toEqual({ bytes: 8e9, source: 'TYPED_FLOWS_MAX_MEMORY=8GB' });
    expect(() => memoryBudget({ TYPED_FLOWS_MAX_MEMORY: 'lots' })).toThrow(UsageError);
    expect(parseBytes('512 MiB')).toBe(512 * 1024 ** 2);
    expect(parseBytes('0')).toBeUndefined();
  });

  it('size units mean what they say: decimal kB/MB/GB/TB, binary KiB/MiB/GiB/TiB, any case', () => {
    const decimal = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 } as const;
    const binary = { kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(...Object.entries({ ...decimal, ...binary })), fc.boolean(), fc.boolean(), (n, [unit, factor], upper, space) => {
        const text = `${n}${space ? ' ' : ''}${upper ? unit.toUpperCase() : unit}`;
        expect(parseBytes(text)).toBe(n * factor);
      }),
    );
    // The two readings of 512 differ by 4.9 %: parsing MB as MiB would fail here.
    expect(parseBytes('512MB')).toBe(512e6);
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
  });
});

describe('one parameter counter: the definitions\' params.shapes through the fold', () => {
  /** The elements of the tensors init makes: counted independently of any shape table. */
  const initElements = (flow: Parameters<typeof init>[0]): number => {
    const params = init(flow, { seed: 1 });
    const n = flattenParams(params).reduce((s, [, t]) => s + t.size, 0);
    disposeParams(params);
    return n;
  };
  it('counts maskedAutoregressive (MADE), batchNorm, scaleShift and MLP couplings exactly, repeats multiplied', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), (d, hidden, n) => {
        const flows = [
          maskedAutoregressive([d], { net: made({ hidden: [hidden, hidden] }) }),
          batchNorm([d]),
          scaleShift([d], { learnable: true }),
          affineCoupling([d], { net: mlp({ hidden: [hidden] }) }),
          splineCoupling([d], { net: mlp({ hidden: [hidden] }), bins: 4 }),
          repeat(chain(maskedAutoregressive([d], { net: made({ hidden: [hidden] }) }), batchNorm([d])), n),
        ];
        for (const flow of flows) {
          const cost = specCost(JSON.parse(JSON.stringify(flow)));
          expect(cost.params, flow.kind).toBe(initElements(flow));
          // The old JSON walk counted none of these.
          expect(cost.params).toBeGreaterThan(0);
        }
      }),
      { numRuns: 10 },
    );
  });
});
