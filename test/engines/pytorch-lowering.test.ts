/**
 * How the PyTorch exporter writes each kind: a class generated from the definition's algebra, else an
 * override (one table, each override kept over an algebra only with a reason); a node with neither is
 * refused with its path.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { affine, chain, exp, inv1x1LU, logit } from '../../src/dsl/index.js';
import { definitions, primitiveKinds } from '../../src/dsl/registry.js';
import {
  keptForSpeed,
  lowerFlow,
  GeneratedClasses,
  overrideOf,
  PyTorchExportError,
  pytorchKinds,
  pytorchOverrides,
  runtimeLibrary,
  toPyTorch,
} from '../../src/interpreters/pytorch/index.js';

const hasAlgebra = (kind: string): boolean => definitions().get(kind)?.algebra !== undefined;

describe('PyTorch kinds', () => {
  it('writes every registered kind: from its algebra or by an override', () => {
    const neither = primitiveKinds().filter((k) => !hasAlgebra(k) && overrideOf(pytorchKinds, k) === undefined);
    expect(neither).toEqual([]);
  });

  it('has no override for a kind with an algebra unless it is kept for speed with a reason', () => {
    const shadowing = Object.keys(pytorchOverrides).filter((k) => hasAlgebra(k) && !Object.hasOwn(keptForSpeed, k));
    expect(shadowing).toEqual([]);
    for (const [kind, reason] of Object.entries(keptForSpeed)) {
      expect(overrideOf(pytorchKinds, kind), `${kind} is kept for speed but has no override`).toBeDefined();
      expect(typeof reason === 'string' && reason.length > 20, `${kind}: say why its override is kept`).toBe(true);
    }
  });

  it('has no hand-written class for exp or logit (they are generated from their algebra)', () => {
    expect(Object.keys(pytorchOverrides)).not.toContain('exp');
    expect(Object.keys(pytorchOverrides)).not.toContain('logit');
    expect(runtimeLibrary.has('Exp')).toBe(false);
    expect(runtimeLibrary.has('Logit')).toBe(false);
  });

  it('refuses a node with neither an algebra nor an override, naming its path and kind', () => {
    // inv1x1LU has an override and no algebra; this engine has no algebra for any kind either.
    const kinds = { overrides: pytorchOverrides, keptForSpeed: {}, algebraOf: () => undefined };
    const flow = chain(inv1x1LU([2, 4, 4]), chain(inv1x1LU([2, 4, 4]), affine([2, 4, 4])));
    const write = (): string => lowerFlow(flow, new GeneratedClasses([]), '$', kinds);
    expect(write).toThrow(PyTorchExportError);
    expect(write).toThrow("$.steps[1].steps[1]: no PyTorch code for bijector kind 'affine'");
  });

  it('refuses a spec that is not well formed before writing anything', () => {
    const bad = { kind: 'chain', steps: [{ kind: 'actnorm', shape: [2, 4, 4] }, { kind: 'frobnicate', shape: [2, 4, 4] }] };
    expect(() => toPyTorch(bad as never)).toThrow(/frobnicate/);
  });
});

describe('generated classes', () => {
  const classLines = (code: string): string[] => code.split('\n').filter((l) => l.startsWith('class '));

  it('writes one class per kind and constants, shared by the nodes that use it, with the constants as literals', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 0.5, noNaN: true }), fc.integer({ min: 2, max: 1024 }), (alpha, levels) => {
        const other = alpha * 0.5;
        const flow = chain(logit([2, 4, 4], { alpha, levels }), exp([2, 4, 4]), logit([2, 4, 4], { alpha: other, levels }), logit([2, 4, 4], { alpha, levels }), exp([2, 4, 4]));
        const code = toPyTorch(flow);
        const generated = classLines(code).filter((l) => /^class (Logit|Exp)\d*\(Flow\)/.test(l));
        expect(generated).toEqual(['class Logit(Flow):', 'class Exp(Flow):', 'class Logit2(Flow):']);
        expect(code).toContain('Chain([Logit(), Exp(), Logit2(), Logit(), Exp()])');
        // The spec's constant (1 - alpha) / levels is inlined as the literal Python reads back to the same double.
        expect(code).toContain(` * ${String((1 - alpha) / levels)}`);
      }),
      { numRuns: 20 },
    );
  });

  it('names a generated class apart from the runtime definitions and the reserved names', () => {
    const classes = new GeneratedClasses(['Exp', 'Exp2']);
    const def = definitions().get('exp');
    expect(def?.algebra).toBeDefined();
    if (def?.algebra === undefined) return;
    expect(classes.classOf(def, def.algebra, exp([2]) as never)).toBe('Exp3');
  });
});
