/** JSON encoding and decoding of specs: round trips, exact checking and readable errors. */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { smallGlow } from '../../src/cli/examples.js';
import { decodeSpec, decodeSpecOrThrow, encodeSpec, FlowSpecCodec, parseSpec, SpecReporter } from '../../src/dsl/codec.js';
import {
  actnorm,
  additiveCoupling,
  affine,
  affineCoupling,
  chain,
  chainOf,
  concat,
  conditionalAffine,
  convNet,
  identity,
  inv1x1,
  inv1x1LU,
  invert,
  logit,
  parallel,
  permute,
  randomPermutation,
  repeat,
  splineCoupling,
  split,
  SpecError,
  squeeze,
  unsqueeze,
  type AnyFlow,
  type FlowSpec,
  type Shape3,
  type SpecIssue,
} from '../../src/dsl/index.js';
import { inferShapes } from '../../src/dsl/signature.js';

const roundTrip = (spec: FlowSpec): E.Either<SpecIssue[], FlowSpec> => decodeSpec(JSON.parse(encodeSpec(spec)));

// ---------------------------------------------------------------------------------------------
// Specs built with the real constructors

const net = convNet({ hidden: 8 });
const glowStep = <const S extends Shape3>(s: S) =>
  chain(actnorm(s), inv1x1(s), affineCoupling(s, { cond: { img: [3, s[1], s[2]] }, net, clamp: 1.5 }));

/** A two-scale Glow-like flow that uses most of the catalogue. */
const glowLike = () =>
  chain(
    logit([3, 8, 8], { alpha: 0.05, levels: 256 }),
    squeeze([3, 8, 8]),
    repeat(glowStep([12, 4, 4]), 2),
    permute([12, 4, 4], [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
    splineCoupling([12, 4, 4], { bins: 4, bound: 2.5, net: convNet({ hidden: 4, kernels: [1, 3, 5] }) }),
    split([12, 4, 4], 6),
    parallel(
      identity([6, 4, 4]),
      chain(
        squeeze([6, 4, 4]),
        invert(actnorm([24, 2, 2])),
        conditionalAffine([24, 2, 2], { cond: { low: [2, 2, 2] }, net }),
        inv1x1LU([24, 2, 2]),
        unsqueeze([24, 2, 2]),
      ),
    ),
    concat([6, 4, 4], [6, 4, 4]),
  );

describe('round trips of constructed specs', () => {
  const cases: Array<[string, () => AnyFlow]> = [
    ['Glow-like chain', glowLike],
    ['smallGlow example', () => smallGlow()],
    ['single affine', () => affine([2, 2, 2])],
    ['sigmoid (inverted logit)', () => invert(logit([1, 4, 4]))],
    ['additive coupling with conditioning', () => additiveCoupling([4, 4, 4], { cond: { z: [1, 4, 4], a: [2, 4, 4] } })],
  ];

  it.each(cases)('%s: decode(encode(spec)) deep-equals spec', (_, make) => {
    const spec = make();
    const decoded = roundTrip(spec);
    expect(decoded).toEqual(E.right(spec));
    expect(parseSpec(encodeSpec(spec))).toEqual(E.right(spec));
  });

  it('encoding is stable, pretty (2 spaces, number arrays on one line), kind first, and keeps the order of conditioning names', () => {
    const spec = glowLike();
    const text = encodeSpec(spec);
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2).replace(/\[\s*([\d.e+-]+(?:,\s*[\d.e+-]+)*)\s*\]/g, (_, n: string) => `[${n.split(/,\s*/).join(', ')}]`));
    expect(text).toContain('"shape": [3, 8, 8]');
    expect(text.startsWith('{\n  "format": "typed-flows/spec@1",\n  "kind": "chain",\n  "steps": [')).toBe(true);
    // Same spec with its fields in another order encodes to the same text.
    const shuffled = JSON.parse(text, (_k, v: unknown) =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && 'kind' in v ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as unknown;
    const decoded = decodeSpecOrThrow(shuffled);
    expect(encodeSpec(decoded)).toBe(text);
    const cond = additiveCoupling([4, 4, 4], { cond: { z: [1, 4, 4], a: [2, 4, 4] } });
    const back = decodeSpecOrThrow(JSON.parse(encodeSpec(cond)));
    expect(back.kind === 'additiveCoupling' && Object.keys(back.cond)).toEqual(['z', 'a']);
  });

  it('a decoded spec is fresh, frozen data the interpreters accept', () => {
    const json = JSON.parse(encodeSpec(glowLike())) as unknown;
    const spec = decodeSpecOrThrow(json);
    expect(spec).not.toBe(json);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(spec.kind === 'chain' && Object.isFrozen(spec.steps[0])).toBe(true);
    expect(inferShapes(spec)).toEqual(inferShapes(glowLike()));
  });

  it('FlowSpecCodec is a plain io-ts codec', () => {
    const spec = glowLike();
    expect(FlowSpecCodec.is(spec)).toBe(true);
    expect(E.isRight(FlowSpecCodec.decode(JSON.parse(JSON.stringify(FlowSpecCodec.encode(spec)))))).toBe(true);
    const extra = { kind: 'actnorm', shape: [2, 2, 2], scale: 1 };
    expect(FlowSpecCodec.is(extra)).toBe(false);
    expect(SpecReporter.report(FlowSpecCodec.decode(extra))).toEqual([
      { path: '$.scale', message: "unknown field 'scale'; an 'actnorm' node has fields kind, shape" },
    ]);
    expect(SpecReporter.report(FlowSpecCodec.decode(spec))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated specs

interface Choice {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly x: number;
  readonly flag: boolean;
}

const choiceArb: fc.Arbitrary<Choice> = fc.record({
  op: fc.nat(),
  a: fc.nat(),
  b: fc.nat(),
  x: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
  flag: fc.boolean(),
});

const condFor = ([, h, w]: Shape3, k: number): Record<string, Shape3> => ({ [`c${1 + (k % 3)}_${h}x${w}`]: [1 + (k % 3), h, w] });

/** Shape-preserving primitives that apply to `s`. */
const preserving = (s: Shape3, ch: Choice): Array<() => AnyFlow> => {
  const netOf = convNet({ hidden: 1 + (ch.a % 16), kernels: ch.flag ? [3, 1, 3] : [1, 3, 5] });
  const makers: Array<() => AnyFlow> = [
    () => affine(s),
    () => actnorm(s),
    () => inv1x1(s),
    () => inv1x1LU(s),
    () => identity(s),
    () => randomPermutation(s, ch.a),
    () => logit(s, { alpha: Math.abs(ch.x / 2), levels: 1 + (ch.a % 255) }),
    () => conditionalAffine(s, { cond: condFor(s, ch.b), net: netOf, clamp: 0.5 + ch.x * 3 }),
  ];
  if (s[0] >= 2)
    makers.push(
      () => affineCoupling(s, { cond: ch.flag ? condFor(s, ch.b) : {}, net: netOf, clamp: 0.5 + ch.x * 3 }),
      () => additiveCoupling(s, { cond: ch.flag ? {} : condFor(s, ch.b), net: netOf }),
      () => splineCoupling(s, { cond: ch.flag ? condFor(s, ch.b) : {}, net: netOf, bins: 1 + (ch.a % 8), bound: 1 + ch.x * 4 }),
    );
  return makers;
};

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;

/** One step on `s`: a primitive or a small combinator, with its output shape. */
const stepOn = (s: Shape3, ch: Choice): { flow: AnyFlow; out: Shape3 } => {
  const [c, h, w] = s;
  const same = (flow: AnyFlow) => ({ flow, out: s });
  const options: Array<() => { flow: AnyFlow; out: Shape3 }> = [
    () => same(pick(preserving(s, ch), ch.a)()),
    () => same(invert(pick(preserving(s, ch), ch.b)())),
    () => same(repeat(chainOf([pick(preserving(s, ch), ch.a)(), pick(preserving(s, ch), ch.b)()]), 1 + (ch.b % 3))),
  ];
  if (h % 2 === 0 && w % 2 === 0) options.push(() => ({ flow: squeeze(s as Shape3 & unknown), out: [4 * c, h / 2, w / 2] }));
  if (c % 4 === 0) {
    options.push(() => ({ flow: unsqueeze(s as Shape3 & unknown), out: [c / 4, 2 * h, 2 * w] }));
    options.push(() => ({ flow: invert(squeeze([c / 4, 2 * h, 2 * w] as Shape3 & unknown)), out: [c / 4, 2 * h, 2 * w] }));
  }
  if (c >= 2) {
    options.push(() => {
      const at = 1 + (ch.a % (c - 1));
      const s1: Shape3 = [at, h, w];
      const s2: Shape3 = [c - at, h, w];
      const flow = chainOf([split(s, at), parallel(pick(preserving(s1, ch), ch.a)(), pick(preserving(s2, ch), ch.b)()), concat(s1, s2)]);
      return same(flow);
    });
  }
  return pick(options, ch.op)();
};

/** Random valid chains of primitives and combinators on a random [C,H,W] with even C, H and W. */
const specArb: fc.Arbitrary<AnyFlow> = fc
  .record({
    c: fc.constantFrom(2, 4, 6),
    h: fc.constantFrom(2, 4, 8),
    w: fc.constantFrom(2, 4, 8),
    choices: fc.array(choiceArb, { minLength: 1, maxLength: 8 }),
  })
  .map(({ c, h, w, choices }) => {
    let shape: Shape3 = [c, h, w];
    const steps: AnyFlow[] = [];
    for (const ch of choices) {
      const { flow, out } = stepOn(shape, ch);
      steps.push(flow);
      shape = out;
    }
    return chainOf(steps);
  });

/** Every object with a `kind` (spec nodes and nets) in a JSON value, with its path. */
const nodesOf = (v: unknown, path = '$'): Array<{ path: string; node: Record<string, unknown> }> => {
  if (Array.isArray(v)) return v.flatMap((x, i) => nodesOf(x, `${path}[${i}]`));
  if (typeof v !== 'object' || v === null) return [];
  const o = v as Record<string, unknown>;
  return [...('kind' in o ? [{ path, node: o }] : []), ...Object.entries(o).flatMap(([k, x]) => nodesOf(x, `${path}.${k}`))];
};

describe('generated specs', () => {
  it('decode(encode(spec)) deep-equals spec and re-encodes to the same text', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const decoded = roundTrip(spec);
        expect(decoded).toEqual(E.right(spec));
        if (E.isRight(decoded)) expect(encodeSpec(decoded.right)).toBe(encodeSpec(spec));
      }),
      { numRuns: 200 },
    );
  });

  it('removing any field of any node is reported at that field, and only there', () => {
    const arb = specArb.chain((spec) => {
      const json = JSON.parse(encodeSpec(spec)) as unknown;
      const nodes = nodesOf(json);
      // Every field but the root's optional format tag.
      return fc.constantFrom(...nodes).chain(({ path, node }) => fc.constantFrom(...Object.keys(node).filter((k) => k !== 'format')).map((key) => ({ json, path, node, key })));
    });
    fc.assert(
      fc.property(arb, ({ json, path, node, key }) => {
        const value = node[key];
        delete node[key];
        const result = decodeSpec(json);
        node[key] = value;
        expect(result).toEqual(E.left([{ path: `${path}.${key}`, message: expect.stringContaining(`missing field '${key}'`) }]));
      }),
      { numRuns: 200 },
    );
  });

  it('an extra field on any node is reported at that field, and only there', () => {
    const arb = specArb.chain((spec) => {
      const json = JSON.parse(encodeSpec(spec)) as unknown;
      return fc.constantFrom(...nodesOf(json)).map(({ path, node }) => ({ json, path, node }));
    });
    fc.assert(
      fc.property(arb, fc.jsonValue(), ({ json, path, node }, junk) => {
        node['extraField'] = junk;
        const result = decodeSpec(json);
        delete node['extraField'];
        expect(result).toEqual(E.left([{ path: `${path}.extraField`, message: expect.stringContaining("unknown field 'extraField'") }]));
      }),
      { numRuns: 200 },
    );
  });

  it('junk JSON never throws: decodeSpec returns Left or Right', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (junk) => {
        const result = decodeSpec(junk);
        expect(E.isLeft(result) || E.isRight(result)).toBe(true);
        if (E.isLeft(result)) {
          expect(result.left.length).toBeGreaterThan(0);
          for (const issue of result.left) expect(issue.path.startsWith('$')).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('junk inside a valid spec never throws either', () => {
    const arb = specArb.chain((spec) => {
      const json = JSON.parse(encodeSpec(spec)) as unknown;
      return fc
        .constantFrom(...nodesOf(json))
        .chain(({ node }) => fc.constantFrom(...Object.keys(node)).map((key) => ({ json, node, key })));
    });
    fc.assert(
      fc.property(arb, fc.jsonValue(), ({ json, node, key }, junk) => {
        node[key] = junk;
        const result = decodeSpec(json);
        expect(E.isLeft(result) || E.isRight(result)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary text never throws from parseSpec', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const result = parseSpec(text);
        expect(E.isLeft(result) || E.isRight(result)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bad specs

const okSteps = [
  { kind: 'actnorm', shape: [4, 8, 8] },
  { kind: 'squeeze', shape: [4, 8, 8] },
  { kind: 'actnorm', shape: [16, 4, 4] },
];
const net3 = { kind: 'convNet', hidden: 8, kernels: [3, 1, 3] };
/** The good chain with step `i` replaced. */
const withStep = (i: number, step: unknown) => ({ kind: 'chain', steps: okSteps.map((s, j) => (j === i ? step : s)) });

type Bad = [name: string, input: unknown, path: string, phrase: string];

const badSpecs: Bad[] = [
  ['unknown kind', withStep(0, { kind: 'actnrom', shape: [4, 8, 8] }), '$.steps[0].kind', "unknown kind 'actnrom'; expected one of affine, actnorm,"],
  ['unknown kind suggests the closest', withStep(0, { kind: 'actnrom', shape: [4, 8, 8] }), '$.steps[0].kind', "did you mean 'actnorm'?"],
  ['kind of the wrong type', withStep(0, { kind: 3, shape: [4, 8, 8] }), '$.steps[0].kind', 'kind must be a string, found 3'],
  ['missing kind', withStep(0, { shape: [4, 8, 8] }), '$.steps[0].kind', "missing field 'kind'"],
  ['misspelt field', withStep(1, { kind: 'squeeze', shpe: [4, 8, 8] }), '$.steps[1].shpe', "unknown field 'shpe' (did you mean 'shape'?)"],
  ['extra field', withStep(2, { kind: 'actnorm', shape: [16, 4, 4], scale: 2 }), '$.steps[2].scale', "unknown field 'scale'; an 'actnorm' node has fields kind, shape"],
  ['missing field', { kind: 'split', shape: [4, 4, 4] }, '$.at', "missing field 'at' (a number); a 'split' node has fields kind, shape, at"],
  ['string where number', { kind: 'split', shape: [4, 4, 4], at: '2' }, '$.at', 'expected a number, found "2"'],
  ['string in a shape', withStep(1, { kind: 'squeeze', shape: [4, '8', 8] }), '$.steps[1].shape', 'expected an event shape [C,H,W] of three positive integers, found [4,"8",8]'],
  ['zero in a shape', withStep(0, { kind: 'actnorm', shape: [0, 8, 8] }), '$.steps[0].shape', 'expected an event shape [C,...] of positive integers, found [0,8,8]'],
  ['fraction in a shape', { kind: 'affine', shape: [2, 2.5, 2] }, '$.shape', 'positive integers, found [2,2.5,2]'],
  ['empty shape', { kind: 'affine', shape: [] }, '$.shape', 'positive integers, found []'],
  ['reshape to another size', { kind: 'reshape', shape: [2, 2], to: [5] }, '$.to', 'cannot reshape [2,2] (4 elements) to [5] (5)'],
  ['shape of two numbers where an image is needed', { kind: 'squeeze', shape: [2, 2] }, '$.shape', 'three positive integers, found [2,2]'],
  ['shapes that do not line up', { kind: 'chain', steps: [okSteps[0], okSteps[1], { kind: 'actnorm', shape: [4, 8, 8] }] }, '$.steps[2]', 'expects input [4,8,8] but the previous step gives [16,4,4]'],
  ['odd height for squeeze', withStep(1, { kind: 'squeeze', shape: [4, 7, 8] }), '$.steps[1].shape', 'squeeze needs an even height and width, got [4,7,8]'],
  ['split at an impossible channel', { kind: 'chain', steps: [okSteps[0], { kind: 'split', shape: [4, 8, 8], at: 4 }] }, '$.steps[1].at', 'cannot split 4 channels at 4'],
  ['conditional affine with no cond', { kind: 'conditionalAffine', shape: [4, 4, 4], cond: {}, net: net3, clamp: 2 }, '$.cond', 'needs at least one conditioning input'],
  ['conditional affine without its cond field', { kind: 'conditionalAffine', shape: [4, 4, 4], net: net3, clamp: 2 }, '$.cond', "missing field 'cond'"],
  ['bad conditioning shape', { kind: 'affineCoupling', shape: [4, 4, 4], cond: { img: [3, 0] }, net: net3, clamp: 2 }, '$.cond.img', 'positive integers, found [3,0]'],
  ['conditioning of another spatial size', { kind: 'affineCoupling', shape: [4, 4, 4], cond: { img: [3, 4] }, net: net3, clamp: 2 }, '$.cond.img', "conditioning [3,4] must have the flowing tensor's height and width 4x4"],
  ['misspelt net kind', { kind: 'additiveCoupling', shape: [4, 4, 4], cond: {}, net: { ...net3, kind: 'convnet' } }, '$.net.kind', "expected kind 'convNet', found \"convnet\""],
  ['two kernel sizes', { kind: 'additiveCoupling', shape: [4, 4, 4], cond: {}, net: { ...net3, kernels: [3, 3] } }, '$.net.kernels', 'expected three kernel sizes [k0,k1,k2], found [3,3]'],
  ['even kernel size', { kind: 'additiveCoupling', shape: [4, 4, 4], cond: {}, net: { ...net3, kernels: [3, 2, 3] } }, '$.net.kernels[1]', 'expected an odd positive kernel size, got 2'],
  ['string in a permutation', { kind: 'permute', shape: [2, 2, 2], perm: [0, '1'] }, '$.perm[1]', 'expected a number, found "1"'],
  ['not a permutation', { kind: 'permute', shape: [2, 2, 2], perm: [0, 0] }, '$.perm', 'expected a permutation of 0..1'],
  ['bad node inside repeat', { kind: 'repeat', n: 2, body: { kind: 'actnorm', shape: [2, 2, 2], extra: true } }, '$.body.extra', "unknown field 'extra'"],
  ['bad branch inside parallel', { kind: 'parallel', branches: [okSteps[0], { kind: 'inv1x1', shape: 'big' }] }, '$.branches[1].shape', 'found "big"'],
  ['bad node inside invert', { kind: 'invert', body: 42 }, '$.body', "expected a flow spec (an object with a 'kind'), found 42"],
  ['steps not a list', { kind: 'chain', steps: { 0: okSteps[0] } }, '$.steps', 'expected a list of flow specs'],
  ['empty chain', { kind: 'chain', steps: [] }, '$.steps', 'expected at least one step'],
  ['repeat of a shape-changing body', { kind: 'repeat', n: 2, body: okSteps[1] }, '$.body', 'a repeated body must map its shapes to themselves'],
  ['not an object', 'actnorm', '$', 'expected a flow spec (an object with a \'kind\'), found "actnorm"'],
  ['null', null, '$', 'found null'],
  ['an array', [okSteps[0]], '$', 'expected a flow spec'],
];

describe('bad specs are rejected with the path of the offending node', () => {
  it.each(badSpecs)('%s', (_, input, path, phrase) => {
    const result = decodeSpec(input);
    expect(E.isLeft(result)).toBe(true);
    if (E.isRight(result)) return;
    expect(result.left).toHaveLength(1);
    expect(result.left[0]).toEqual({ path, message: expect.stringContaining(phrase) });
  });

  it('bad JSON text is an issue at $ with the parser message', () => {
    let parserMessage = '';
    try {
      JSON.parse('{"kind": "affine",');
    } catch (e) {
      parserMessage = (e as Error).message;
    }
    expect(parseSpec('{"kind": "affine",')).toEqual(E.left([{ path: '$', message: `invalid JSON: ${parserMessage}` }]));
    expect(parseSpec('')).toEqual(E.left([{ path: '$', message: expect.stringContaining('invalid JSON') }]));
  });

  it('every problem in a spec is reported, each at its own path', () => {
    const result = decodeSpec({
      kind: 'chain',
      steps: [
        { kind: 'actnrom', shape: [4, 8, 8] },
        { kind: 'squeeze', shpe: [4, 8, 8] },
        { kind: 'split', shape: [4, 8, 8], at: '2', foo: 1 },
      ],
    });
    expect(E.isLeft(result) && result.left.map((i) => i.path)).toEqual(['$.steps[0].kind', '$.steps[1].shpe', '$.steps[2].at', '$.steps[2].foo']);
  });

  it('a node with a known kind is checked against that kind only', () => {
    const result = decodeSpec({ kind: 'logit', shape: [1, 2, 2], alpha: 0.1 });
    expect(result).toEqual(E.left([{ path: '$.levels', message: "missing field 'levels' (a number); a 'logit' node has fields kind, shape, alpha, levels" }]));
  });

  it('a spec that contains itself, or is nested absurdly deep, is rejected without overflowing the stack', () => {
    const cyclic: { kind: string; steps: unknown[] } = { kind: 'chain', steps: [] };
    cyclic.steps.push(cyclic);
    expect(decodeSpec(cyclic)).toEqual(E.left([{ path: '$.steps[0]', message: expect.stringContaining('cyclic') }]));
    let deep: unknown = { kind: 'actnorm', shape: [1, 1, 1] };
    for (let i = 0; i < 10_000; i++) deep = { kind: 'invert', body: deep };
    const result = decodeSpec(deep);
    expect(E.isLeft(result) && result.left[0]?.message).toContain('nested more than');
  });

  it('decodeSpecOrThrow throws a SpecError listing the issues', () => {
    const bad = withStep(1, { kind: 'squeeze', shape: [4, 7, 8] });
    expect(() => decodeSpecOrThrow(bad)).toThrow(SpecError);
    expect(() => decodeSpecOrThrow(bad)).toThrow('$.steps[1].shape: squeeze needs an even height and width, got [4,7,8]');
    try {
      decodeSpecOrThrow(bad);
    } catch (e) {
      expect((e as SpecError).issues).toEqual([{ path: '$.steps[1].shape', message: 'squeeze needs an even height and width, got [4,7,8]' }]);
    }
    expect(decodeSpecOrThrow(JSON.parse(encodeSpec(glowLike())))).toEqual(glowLike());
  });
});

describe('the spec format tag', () => {
  const spec = glowLike();
  const json = (): Record<string, unknown> => JSON.parse(encodeSpec(spec)) as Record<string, unknown>;

  it('is written first by encodeSpec, and a spec without it (an older file) still decodes to the same spec', () => {
    expect(json()['format']).toBe('typed-flows/spec@1');
    const { format: _, ...older } = json();
    expect(decodeSpec(older)).toEqual(E.right(spec));
    expect(decodeSpec(json())).toEqual(E.right(spec));
  });

  it('an unknown version is an issue at $.format that names the versions this build reads', () => {
    expect(decodeSpec({ ...json(), format: 'typed-flows/spec@2' })).toEqual(
      E.left([{ path: '$.format', message: expect.stringContaining("this build of typed-flows reads 'typed-flows/spec@1'") }]),
    );
    expect(decodeSpec({ ...json(), format: 'typed-flows/spec@2' })).toEqual(E.left([expect.objectContaining({ message: expect.stringContaining('newer version') })]));
    expect(decodeSpec({ ...json(), format: 7 })).toEqual(E.left([{ path: '$.format', message: expect.stringContaining('unknown spec format 7') }]));
  });

  it('a UTF-8 byte-order mark before the JSON is ignored', () => {
    expect(parseSpec(`\uFEFF${encodeSpec(spec)}`)).toEqual(E.right(spec));
  });
});

describe('values that overflow float32 are refused where they are known statically', () => {
  const net = { kind: 'convNet', hidden: 4, kernels: [3, 1, 3] };
  it.each([
    ['clamp above 44', { kind: 'affineCoupling', shape: [2, 2, 2], cond: {}, net, clamp: 50 }, '$.clamp', 'overflows float32'],
    ['injector clamp above 44', { kind: 'conditionalAffine', shape: [2, 2, 2], cond: { c: [1, 2, 2] }, net, clamp: 1e3 }, '$.clamp', 'clamp <= 44'],
    ['logit levels above float32', { kind: 'logit', shape: [2], alpha: 1e-5, levels: 1e39 }, '$.levels', 'cannot be computed in float32'],
    ['logit levels below float32', { kind: 'logit', shape: [2], alpha: 1e-5, levels: 1e-40 }, '$.levels', 'cannot be computed in float32'],
  ])('%s', (_name, json, path, message) => {
    expect(decodeSpec(json)).toEqual(E.left([{ path, message: expect.stringContaining(message) }]));
  });

  it('accepts the largest clamp and level counts that stay finite', () => {
    expect(E.isRight(decodeSpec({ kind: 'affineCoupling', shape: [2, 2, 2], cond: {}, net, clamp: 44 }))).toBe(true);
    expect(E.isRight(decodeSpec({ kind: 'logit', shape: [2], alpha: 1e-5, levels: 1e37 }))).toBe(true);
  });
});
