/** The summary's cost columns: which direction of a flow is sequential (autoregressive), read from each definition. */
import { describe, expect, it } from 'vitest';
import { actnorm, affineCoupling, chain, inverseAutoregressive, maskedAutoregressive, mlp, reverse } from '../../src/dsl/index.js';
import { summary, summaryRows } from '../../src/interpreters/index.js';

describe('summary: the cost of each direction', () => {
  it('a MAF samples sequentially; its density is one pass', () => {
    const maf = chain(actnorm([3]), maskedAutoregressive([3]), reverse([3]));
    const rows = summaryRows(maf);
    expect(rows[0]).toMatchObject({ forwardCost: 'analytic', inverseCost: 'sequential' });
    expect(rows.find((r) => r.kind === 'maskedAutoregressive')).toMatchObject({ forwardCost: 'analytic', inverseCost: 'sequential' });
    expect(rows.find((r) => r.kind === 'actnorm')).toMatchObject({ forwardCost: 'analytic', inverseCost: 'analytic' });
    expect(summary(maf)).toContain('the inverse (sampling, for a density flow) is sequential');
  });

  it('an IAF is the other way round: its inverted body makes the forward pass sequential', () => {
    const iaf = chain(inverseAutoregressive([3]), actnorm([3]));
    expect(summaryRows(iaf)[0]).toMatchObject({ forwardCost: 'sequential', inverseCost: 'analytic' });
    expect(summary(iaf)).toContain('the forward pass (density, for a sampling flow such as an IAF) is sequential');
  });

  it('a RealNVP is one pass both ways, and says nothing about sequential passes', () => {
    const realNvp = chain(affineCoupling([4], { net: mlp({ hidden: [8] }) }), reverse([4]), affineCoupling([4], { net: mlp({ hidden: [8] }) }));
    expect(summaryRows(realNvp).every((r) => r.forwardCost === 'analytic' && r.inverseCost === 'analytic')).toBe(true);
    expect(summary(realNvp)).not.toContain('sequential');
    expect(summary(realNvp).split('\n')[0]).toMatch(/forward\s+inverse$/);
  });
});
