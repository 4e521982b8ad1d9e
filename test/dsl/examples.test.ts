import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { examples } from '../../src/cli/examples.js';
import { decodeRunConfig, presets } from '../../src/experiments/config.js';
import { encodeSpec, parseSpec } from '../../src/dsl/codec.js';
import { verifyFlow } from '../../src/interpreters/index.js';

describe('examples/', () => {
  it.each(Object.keys(examples))('%s is the JSON of the DSL example and decodes to it', (name) => {
    const text = readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
    const make = examples[name as keyof typeof examples];
    expect(text).toBe(`${encodeSpec(make())}\n`);
    const decoded = parseSpec(text);
    expect(E.isRight(decoded) && decoded.right).toEqual(make());
  });

  it.each(['long-caflow-sr.json', 'long-dualglow-sr.json'])('the 3,000-step run config %s of docs/experiments.md is the mnist-sr preset with 3,000 steps', (name) => {
    const decoded = decodeRunConfig(JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8')));
    expect(E.isRight(decoded) && decoded.right.train.steps).toBe(3000);
    expect(E.isRight(decoded) && decoded.right.task).toBe('sr');
    expect(E.isRight(decoded) && decoded.right.model.variant).toBe(name.includes('dualglow') ? 'dualglow' : 'caflow');
  });

  it('the Dual-Glow+ run config of docs/experiments.md is valid: the inpaint-right preset at the same size', () => {
    const decoded = decodeRunConfig(JSON.parse(readFileSync(new URL('../../examples/dualglow-inpaint-right.json', import.meta.url), 'utf8')));
    expect(E.isRight(decoded)).toBe(true);
    const preset = presets['mnist-inpaint-right']!;
    expect(E.isRight(decoded) && decoded.right).toEqual({ ...preset, name: 'mnist-inpaint-right-dualglow', model: { ...preset.model, variant: 'dualglow', conditionalDepth: 5 } });
  });

  it('the Glow example satisfies the flow laws, its dense Jacobian included (192 dims)', () => {
    const report = verifyFlow(examples['glow.json'](), { seed: 4, maxReferenceSize: 192 });
    expect(report.checks.map((c) => c.name)).toContain('log-det reference');
    expect(report.passed, JSON.stringify(report.checks)).toBe(true);
  });
});
