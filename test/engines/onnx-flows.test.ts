/**
 * The ONNX interpreter agrees with the tfjs interpreters: every bijector of the catalogue alone (on
 * generated image and vector shapes, with conditioning where the kind takes it) and random
 * compositions (chains, inverses, repeats, logit, multiscale factor-out), both directions, with
 * perturbed (non-trivial) parameters, run on onnxruntime-node.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Shape } from '../../src/dsl/index.js';
import { flowArb, primitiveMakers, shapeArb, vectorShapeArb } from '../support/arbitraries.js';
import { compareFlow, kindsIn } from '../support/onnx-helpers.js';
import * as E from 'fp-ts/lib/Either.js';
import type { Signature } from '../../src/dsl/definition.js';
import { definitionOf, definitions, primitiveKinds, type PrimitiveSpec } from '../../src/dsl/registry.js';
import { Graph, graphOps, keptForSpeed, lowerPrimitive, OnnxExportError, overrides, toOnnx } from '../../src/interpreters/onnx/index.js';
import { actnorm, affineCoupling, chain, concat, convNet, factorOut, invert, logit, made, maskedAutoregressive, mlp, parallel, sigmoid, split, type AnyFlow, type Shape1, type Shape3 } from '../../src/dsl/index.js';
import { init, disposeParams } from '../../src/interpreters/index.js';

const worst: Record<string, number> = {};
const worstAt: Record<string, string> = {};
const record = (e: Awaited<ReturnType<typeof compareFlow>>, where = ''): void => {
  for (const dir of ['forward', 'inverse'] as const)
    for (const [k, v] of Object.entries(e[dir])) {
      if (v > (worst[`${dir}.${k}`] ?? 0)) worstAt[`${dir}.${k}`] = where;
      worst[`${dir}.${k}`] = Math.max(worst[`${dir}.${k}`] ?? 0, v);
    }
};
afterAll(() => console.log(`worst ONNX-vs-tfjs errors (normalised |d|/(1+|tfjs|), and absolute *Abs): ${JSON.stringify(worst)}, at ${JSON.stringify(worstAt)}`));

/**
 * Bound on |onnx - tfjs| / (1 + |tfjs|) for every output element and per-sample log-det, both
 * directions. The two runtimes evaluate the same float32 formulas (unit roundoff 6e-8) but sum in other
 * orders (convolutions, matMuls, log-dets: the export adds constant log-dets once, in float64), use
 * other exp/log/atan/softplus implementations (a few ulps each), and the export replaces log1p and
 * expm1 (no ONNX ops) by exact-to-a-few-ulps identities. Those differences add up through a flow and
 * are amplified by its conditioning: at most e^2 per clamped coupling, the condition number of a
 * perturbed 1x1 convolution in its inverse, and up to 64x through a sigmoid onto (0, 256). Typical
 * worst values per run are 1e-6 to 4e-6 (the worst cases: compositions starting with a logit, inverse
 * direction); one run in eight reached 3.9e-5 (inverse outputs, before the location was recorded). A
 * wrong formula or sign gives errors of order 0.1-1. 1e-4 is the
 * tolerance verify uses for round trips; the worst case seen and where it was are printed at the end.
 */
const TOL = 1e-4;

const within = (e: Awaited<ReturnType<typeof compareFlow>>): void => {
  expect(e.forward.outputs, 'forward outputs').toBeLessThan(TOL);
  expect(e.forward.logDet, 'forward log-det').toBeLessThan(TOL);
  expect(e.inverse.outputs, 'inverse outputs').toBeLessThan(TOL);
  expect(e.inverse.logDet, 'inverse log-det').toBeLessThan(TOL);
};

describe('ONNX export of every primitive', () => {
  const rows = [...primitiveMakers([4, 4, 4]).map((m) => [m, m.make([4, 4, 4])] as const), ...primitiveMakers([4]).map((m) => [m, m.make([4])] as const)];
  const names = [...new Set(rows.map(([m]) => m.name))];
  const shapes: fc.Arbitrary<Shape> = fc.oneof(shapeArb, vectorShapeArb);
  it.each(names)('%s', async (name) => {
    await fc.assert(
      fc.asyncProperty(shapes, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 3 }), async (shape, seed, batch) => {
        const maker = primitiveMakers(shape).find((m) => m.name === name);
        fc.pre(maker !== undefined);
        const e = await compareFlow(maker!.make(shape), seed, batch);
        record(e, `${name} ${JSON.stringify(shape)} seed ${seed}`);
        within(e);
      }),
      { numRuns: 6 },
    );
  });
});

/**
 * Rows for the kinds the property table only uses inside compositions, and for multi-tensor flows:
 * split and concat (several inputs or outputs), parallel with identity (factor-out), logit and its
 * inverse, conditioning through a factor-out's rest.
 */
const multiTensorRows: ReadonlyArray<{ name: string; image: (s: Shape3) => AnyFlow; vector: (s: Shape1) => AnyFlow }> = [
  {
    name: 'split then concat',
    image: ([c, h, w]) => chain(split([2 * c, h, w]), concat([c, h, w], [c, h, w])),
    vector: ([d]) => chain(split([2 * d]), concat([d], [d])),
  },
  { name: 'invert(concat): two outputs', image: ([c, h, w]) => invert(concat([c, h, w], [c + 1, h, w])), vector: ([d]) => invert(concat([d], [d + 1])) },
  {
    name: 'factorOut with a conditioned rest',
    image: ([c, h, w]) => factorOut([2 * c + 2, h, w], chain(actnorm([c + 1, h, w]), affineCoupling([c + 1, h, w], { net: convNet({ hidden: 4 }), cond: { k: [2, h, w] } }))),
    vector: ([d]) => factorOut([2 * d + 4], chain(actnorm([d + 2]), affineCoupling([d + 2], { net: mlp({ hidden: [6] }), cond: { k: [3] } }))),
  },
  { name: 'logit', image: (s) => logit(s, { levels: 256, alpha: 1e-5 }), vector: (s) => logit(s, { levels: 4, alpha: 1e-3 }) },
  { name: 'sigmoid', image: (s) => sigmoid(s), vector: (s) => sigmoid(s, { levels: 1, alpha: 0 }) },
  { name: 'parallel', image: (s) => parallel(actnorm(s), logit(s)), vector: (s) => parallel(logit(s), actnorm(s)) },
];

describe('ONNX export of multi-tensor flows and logit', () => {
  it.each(multiTensorRows.map((r) => r.name))('%s', async (name) => {
    const row = multiTensorRows.find((r) => r.name === name)!;
    await fc.assert(
      fc.asyncProperty(fc.oneof(shapeArb, vectorShapeArb), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 3 }), async (shape, seed, batch) => {
        const flow = shape.length === 3 ? row.image(shape as Shape3) : row.vector(shape as Shape1);
        const e = await compareFlow(flow, seed, batch);
        record(e, `${name} ${JSON.stringify(shape)} seed ${seed}`);
        within(e);
      }),
      { numRuns: 4 },
    );
  });
});

describe('ONNX export of random compositions', () => {
  it('matches tfjs', async () => {
    await fc.assert(
      fc.asyncProperty(flowArb(4), fc.integer({ min: 0, max: 1000 }), async ({ flow, names }, seed) => {
        const e = await compareFlow(flow, seed, 2);
        record(e, `${names.join(',')} seed ${seed}`);
        within(e);
      }),
      { numRuns: 20 },
    );
  });
});

describe('coverage', () => {
  const tested = (): Set<string> => {
    const specs = [
      ...primitiveMakers([4, 4, 4]).map((m) => m.make([4, 4, 4])),
      ...primitiveMakers([4]).map((m) => m.make([4])),
      ...multiTensorRows.flatMap((r) => [r.image([2, 2, 2]), r.vector([2])]),
    ];
    return new Set(specs.flatMap((s) => [...kindsIn(s)]));
  };

  it('every registered kind lowers (maths on the algebra, or an override) and has a row in the tests above', () => {
    const lowerable = [...primitiveKinds()].filter((k) => definitions().get(k)?.algebra !== undefined || overrides[k] !== undefined);
    expect(lowerable).toEqual([...primitiveKinds()]);
    const rows = tested();
    expect(primitiveKinds().filter((k) => !rows.has(k))).toEqual([]);
  });

  it('an override is kept for a kind with maths on the algebra only when listed as kept for speed, with its reason', () => {
    const withAlgebra = primitiveKinds().filter((k) => definitions().get(k)?.algebra !== undefined);
    expect(withAlgebra.length).toBeGreaterThan(0);
    const stale = withAlgebra.filter((k) => overrides[k] !== undefined && (keptForSpeed[k] ?? '').trim() === '');
    expect(stale, 'overrides of kinds that have algebra (delete them, or list them in keptForSpeed with a reason)').toEqual([]);
    // A kept-for-speed entry names a kind that has both an override and algebra.
    for (const k of Object.keys(keptForSpeed) as (keyof typeof keptForSpeed)[]) {
      expect(overrides[k], `keptForSpeed.${k} without an override`).toBeDefined();
      expect(definitions().get(k)?.algebra, `keptForSpeed.${k}: the kind has no algebra`).toBeDefined();
    }
  });
});

describe('refusals', () => {
  it('an autoregressive inverse above the unrolling limit is refused with its spec path', () => {
    const flow = maskedAutoregressive([6], { net: made({ hidden: [8] }) });
    const params = init(flow);
    expect(() => toOnnx(flow, params, { direction: 'inverse', maxUnroll: 4 })).toThrow(OnnxExportError);
    expect(() => toOnnx(flow, params, { direction: 'inverse', maxUnroll: 4 })).toThrow(/^\$: the sequential inverse .*would unroll 6 passes/);
    expect(toOnnx(flow, params, { direction: 'forward', maxUnroll: 4 }).byteLength).toBeGreaterThan(0);
    disposeParams(params);
  });

  it("the algebra's iterate is unrolled up to maxUnroll steps and refused above, naming the spec path", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), (maxUnroll, n) => {
        const g = new Graph('probe');
        const o = graphOps(g, { path: '$.steps[2]', pass: 'the sequential inverse of a probe layer', maxUnroll });
        const run = (): readonly string[] => o.iterate(n, [g.input('x', [1])], (i, [s]) => [o.add(s as string, i)]);
        if (n <= maxUnroll) {
          const outs = run();
          expect(outs).toHaveLength(1);
          g.output('y', outs[0] as string, [1]);
          expect(g.data().nodes.filter((node) => node.op === 'Add')).toHaveLength(n);
        } else expect(run).toThrow(new RegExp(`^\\$\\.steps\\[2\\]: the sequential inverse of a probe layer would unroll ${n} passes, above the limit of ${maxUnroll}`));
      }),
    );
  });

  it('a kind with neither maths on the algebra nor an override is refused, naming the spec path', () => {
    const spec: PrimitiveSpec = { kind: 'actnorm', shape: [3] };
    const params = init(spec);
    const g = new Graph('probe');
    const lower = lowerPrimitive(
      { g, ctx: {}, options: { maxUnroll: 8 } },
      { overrides: {}, keptForSpeed: {}, definitionOf: (s) => ({ ...definitionOf(s), algebra: undefined }) },
    );
    const node = { path: '$.steps[1]', paramPath: '1', dir: 'forward' as const, params, ins: [g.input('x', ['N', 3])] };
    expect(() => lower(spec, node)).toThrow(OnnxExportError);
    expect(() => lower(spec, node)).toThrow(/^\$\.steps\[1\]: the kind 'actnorm' cannot be exported to ONNX/);
    disposeParams(params);
  });

  it('a layer on the algebra whose conditioning is not an input of the graph is refused, naming the spec path', () => {
    const spec: PrimitiveSpec = { kind: 'logit', shape: [3], alpha: 1e-5, levels: 256 };
    const g = new Graph('probe');
    // logit with a conditioning field the graph lacks: the generic lowering checks the signature's names.
    const lower = lowerPrimitive(
      { g, ctx: {}, options: { maxUnroll: 8 } },
      {
        overrides: {},
        keptForSpeed: {},
        definitionOf: (s) => {
          const d = definitionOf(s);
          return { algebra: d.algebra, signature: (sp, path) => E.map((sig: Signature) => ({ ...sig, cond: { k: [2] as Shape } }))(d.signature(sp, path)) };
        },
      },
    );
    const node = { path: '$.steps[0]', paramPath: '0', dir: 'forward' as const, params: undefined, ins: [g.input('x', ['N', 3])] };
    expect(() => lower(spec, node)).toThrow(/^\$\.steps\[0\]: the conditioning input 'k' is not an input of the graph/);
  });
});
