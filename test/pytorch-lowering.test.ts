/** The PyTorch exporter's table covers every kind, and a node it cannot write is refused with its path. */
import { describe, expect, it } from 'vitest';
import { actnorm, affine, chain, inv1x1 } from '../src/dsl/index.js';
import { primitiveKinds } from '../src/dsl/registry.js';
import { lowerFlow, loweringTable, PyTorchExportError, toPyTorch, type LoweringTable } from '../src/interpreters/pytorch/index.js';

describe('PyTorch lowerings', () => {
  it('has a lowering for every registered kind', () => {
    const missing = primitiveKinds().filter((k) => typeof (loweringTable as Record<string, unknown>)[k] !== 'function');
    expect(missing).toEqual([]);
  });

  it('is a compile error to leave a kind out of the table', () => {
    const { affine: _dropped, ...partial } = loweringTable;
    // @ts-expect-error -- the table must have an entry for 'affine' (and every other kind)
    const table: LoweringTable = partial;
    expect(Object.keys(table)).not.toContain('affine');
  });

  it('refuses a node without a lowering, naming its path and kind', () => {
    const { affine: _dropped, ...partial } = loweringTable;
    const flow = chain(actnorm([2, 4, 4]), chain(inv1x1([2, 4, 4]), affine([2, 4, 4])));
    expect(() => lowerFlow(flow, partial)).toThrow(PyTorchExportError);
    expect(() => lowerFlow(flow, partial)).toThrow("$.steps[1].steps[1]: no PyTorch lowering for bijector kind 'affine'");
  });

  it('refuses a spec that is not well formed before writing anything', () => {
    const bad = { kind: 'chain', steps: [{ kind: 'actnorm', shape: [2, 4, 4] }, { kind: 'frobnicate', shape: [2, 4, 4] }] };
    expect(() => toPyTorch(bad as never)).toThrow(/frobnicate/);
  });
});
