/**
 * The density studio's DOM-free parts in Node (the page itself: playground.e2e.test.ts): CSV text read
 * back exactly or refused at its line, an edited spec's issue at the path of the node changed, the
 * split the page shows is the one `fit` makes, parameters through their flat form unchanged and
 * without leaks, and the panels' HTML (a failing verdict marked with its layer; text escaped).
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distributions, disposeParams, flattenParams, mlp, affineCoupling } from '../../src/index.js';
import { parseCsv, splitOf, toyRows, toys } from '../../playground/src/studio/data.js';
import { checkSpec, flatParams, layerTable, presetDistribution, presetText, studioPresets, treeOf } from '../../playground/src/studio/spec.js';
import { issuesHtml, verdictsHtml } from '../../playground/src/studio/tables.js';

const rows = fc.array(fc.tuple(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.float({ noNaN: true, noDefaultInfinity: true })), { minLength: 10, maxLength: 60 });

describe('studio data', () => {
  it('reads CSV rows back exactly, with or without a header, whatever the separator', () => {
    fc.assert(
      fc.property(rows, fc.boolean(), fc.constantFrom(',', ';', '\t', ' '), (xs, header, sep) => {
        const text = `${header ? `x${sep}y\n` : ''}${xs.map(([a, b]) => `${a}${sep}${b}`).join('\n')}\n\n`;
        // String(-0) is "0": the text itself has no negative zero to read back.
        expect(Array.from(parseCsv(text))).toEqual(xs.flat().map((v) => Math.fround(v) + 0));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a bad row with its line number, and too few rows', () => {
    fc.assert(
      fc.property(rows, fc.nat(), fc.constantFrom('1,2,3', 'a,b', '4', '1,NaN'), (xs, at, bad) => {
        const lines = xs.map(([a, b]) => `${a},${b}`);
        const i = 1 + (at % lines.length); // after the first line, which could pass as a header
        lines.splice(i, 0, bad);
        expect(() => parseCsv(lines.join('\n'))).toThrow(`line ${i + 1} is not two numbers`);
      }),
      { numRuns: 50 },
    );
    expect(() => parseCsv('x,y\n1,2\n3,4')).toThrow('2 row(s): a fit needs at least 10');
  });

  it("shows fit's own split of the rows", () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 300 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const data = tf.tensor2d(toyRows(toys['moons']!, n, seed), [n, 2]);
        const r = distributions.fit(presetDistribution('gaussian', n), data, { steps: 1, seed });
        const shown = splitOf(n, seed);
        expect(Array.from(shown.train)).toEqual(Array.from(r.split.train));
        expect(Array.from(shown.validation)).toEqual(Array.from(r.split.validation));
        disposeParams(r.params);
        data.dispose();
      }),
      { numRuns: 8 },
    );
  });

  it('draws every toy as finite points in the plane, the same for the same seed', () => {
    for (const toy of Object.values(toys)) {
      const a = toyRows(toy, 200, 3);
      expect(a.length).toBe(400);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(Array.from(toyRows(toy, 200, 3))).toEqual(Array.from(a));
      expect(Array.from(toyRows(toy, 200, 4))).not.toEqual(Array.from(a));
    }
  });
});

describe('studio spec', () => {
  it('accepts every preset, with its layer table', () => {
    for (const name of studioPresets) {
      const checked = checkSpec(presetText(name, 800));
      expect(E.isRight(checked)).toBe(true);
      if (E.isRight(checked)) expect(layerTable(checked.right).params).toBeGreaterThan(0);
    }
  });

  it("puts a bad field's issue at the path of the node changed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, -3, 2.5), (layer, bins) => {
        const json = JSON.parse(presetText('nsf', 800)) as { base: { flow: { steps: Array<Record<string, unknown>> } } };
        const step = json.base.flow.steps[2 * layer]!; // couplings at even steps, permutations between
        step['bins'] = bins;
        const checked = checkSpec(JSON.stringify(json));
        expect(E.isLeft(checked) && checked.left.map((i) => i.path)).toEqual([`$.base.flow.steps[${2 * layer}].bins`]);
      }),
      { numRuns: 15 },
    );
  });

  it('refuses a distribution that is not over points in the plane', () => {
    const flow = affineCoupling([3], { net: mlp({ hidden: [8] }) });
    const text = distributions.encodeDistribution(distributions.transformed(distributions.standardNormal([3]), flow));
    const checked = checkSpec(text);
    expect(E.isLeft(checked) && checked.left[0]).toEqual({ path: '$', message: "the studio's data are points in the plane: the distribution's events must be one vector [2], got [3]" });
  });

  it('carries parameters through their flat form unchanged, without leaking', () => {
    fc.assert(
      fc.property(fc.constantFrom(...studioPresets), fc.integer({ min: 0, max: 1000 }), (name, seed) => {
        const dist = presetDistribution(name, 500);
        const data = tf.tensor2d(toyRows(toys['rings']!, 64, seed), [64, 2]);
        const params = distributions.initDistribution(dist, { seed, data: data as never });
        const before = tf.memory().numTensors;
        const flat = flatParams(params);
        const back = treeOf(dist, flat);
        const again = flattenParams(back);
        expect(again.map(([p]) => p)).toEqual(Object.keys(flat));
        for (const [path, t] of again) expect(Array.from(t.dataSync())).toEqual(Array.from(flat[path]!.values));
        disposeParams(back);
        expect(tf.memory().numTensors).toBe(before);
        disposeParams(params);
        data.dispose();
      }),
      { numRuns: 12 },
    );
  });
});

describe('studio panels', () => {
  it("marks a failing law with its layer, and escapes the spec's text", () => {
    const ok = { flow: '$.base.flow', law: 'round trip', passed: true, worst: 1e-7, tolerance: 1e-4, layer: undefined, detail: '' };
    const bad = { flow: '$.base.flow', law: 'log-det inverse', passed: false, worst: 0.3, tolerance: 1e-4, layer: '2', detail: 'at <x>' };
    const html = verdictsHtml([ok, bad], []);
    expect(html).toContain('data-passed="false"');
    expect(html).toContain('verify: 1 check(s) FAILED');
    expect(html).toContain('<tr class="fail" data-testid="verdict" title="at &lt;x&gt;"><td>$.base.flow</td><td>log-det inverse</td><td>FAIL</td><td class="num">0.300</td><td class="num">1.00e-4</td><td>2</td></tr>');
    expect(verdictsHtml([ok], [])).toContain('✓ verify: all 1 checks passed');
    expect(issuesHtml([{ path: '$.a', message: 'got "<b>"' }])).toContain('<code>$.a</code>: got &quot;&lt;b&gt;&quot;');
  });
});
