/**
 * From typed-flows to a 2-process DistributedDataParallel run in PyTorch and back: a tiny run on the
 * bundled MNIST is trained one step, exported with --format pytorch, trained 4 more steps by the
 * generated train.py under torchrun (2 CPU processes, gloo), imported, evaluated and resumed.
 *
 * NLL agreement: eval's mid-bin held-out NLL (u = 0.5, deterministic) of the imported weights must
 * equal the one train.py computed in PyTorch on the same validation pairs within 1e-4 bits/dim: both
 * are float32 sums over the same ~1,000 dimensions per pair of the same maths (the flow tests put the
 * per-value difference at ~1e-6 relative), averaged over 16 pairs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/experiments/config.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { exportPyTorchCommand } from '../../src/cli/commands/export-pytorch.js';
import { importCommand } from '../../src/cli/commands/import.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { decodeSafetensors, encodeSafetensors, CheckpointError } from '../../src/io/safetensors.js';
import { torchAvailable } from '../support/pytorch-helpers.js';

const torch = torchAvailable();
const TORCHRUN = '/usr/bin/torchrun';

const config: RunConfig = {
  name: 'tiny',
  task: 'sr',
  data: { source: 'mnist', limit: 64 },
  size: 32,
  model: { variant: 'caflow', scales: 2, encoderDepth: 1, conditionalDepth: 1, encoderHidden: 8, conditionalHidden: 8, lambda: 1e-3, clamp: 2 },
  train: { steps: 1, batchSize: 4, lr: 1e-3, warmup: 2, clipNorm: 1, mode: 'joint', checkpointEvery: 1, seed: 0, valFraction: 0.25 },
  eval: { conditions: 2, samples: 2, temperature: 0.5, nllDraws: 1 },
};

describe.skipIf(!torch.ok)(`PyTorch training round trip${torch.ok ? '' : ` (skipped: ${torch.note})`}`, () => {
  it('train.py runs 2 DDP processes on CPU; its checkpoint comes back and eval gives the NLL PyTorch computed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'typed-flows-ddp-'));
    const runs = join(root, 'runs');
    const out = join(root, 'export');
    await trainCommand(config, { out: runs, resume: false, quiet: true });
    const exported = await exportPyTorchCommand(runs, 'tiny', out);
    expect(exported.step).toBe(1);
    const before = readFileSync(join(out, 'checkpoint.safetensors'));

    // torch 1.13's torchrun under Python 3.11 cannot parse its default '--redirects 0' (IntFlag
    // iteration changed); '--redirects 1 --tee 1' (stdout to a log file and the console) avoids it.
    const began = performance.now();
    const r = spawnSync(TORCHRUN, ['--standalone', '--nproc_per_node=2', '--redirects', '1', '--tee', '1', join(out, 'train.py'), '--steps', '5'], {
      encoding: 'utf8',
      cwd: out,
      timeout: 120_000,
    });
    const seconds = (performance.now() - began) / 1000;
    expect(r.status, r.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'pytorch-metrics.json'), 'utf8')) as { step: number; processes: number; val_mid_bin_bits_per_dim: number; skipped: number };
    expect(metrics).toMatchObject({ step: 5, processes: 2, skipped: 0 });
    console.log(`torchrun, 2 processes, 4 steps: ${seconds.toFixed(1)} s in all; PyTorch mid-bin NLL ${metrics.val_mid_bin_bits_per_dim}`);
    // The checkpoint was rewritten with trained weights.
    expect(Buffer.compare(before, readFileSync(join(out, 'checkpoint.safetensors')))).not.toBe(0);

    const imported = await importCommand(runs, 'tiny-torch', join(out, 'checkpoint.safetensors'));
    expect(imported).toEqual({ name: 'tiny-torch', step: 5, losses: 5 });
    const e = await evalCommand(runs, 'tiny-torch', { gridRows: 1 });
    console.log(`typed-flows eval mid-bin NLL ${e.nll.midBin}; difference ${Math.abs(e.nll.midBin - metrics.val_mid_bin_bits_per_dim)}`);
    expect(Math.abs(e.nll.midBin - metrics.val_mid_bin_bits_per_dim)).toBeLessThanOrEqual(1e-4);

    // The Adam state came back too: training resumes from step 5.
    const resumed = await trainCommand({ ...config, name: 'tiny-torch', train: { ...config.train, steps: 6 } }, { out: runs, resume: true, quiet: true });
    expect(resumed).toMatchObject({ steps: 6, stepsThisRun: 1, skipped: 0 });
  }, 180_000);

  it('a checkpoint that does not fit the config is refused, naming each bad tensor', async () => {
    const root = mkdtempSync(join(tmpdir(), 'typed-flows-import-'));
    const runs = join(root, 'runs');
    await trainCommand(config, { out: runs, resume: false, quiet: true });
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(runs, 'tiny', 'checkpoint.safetensors'))));
    const kernel = [...tensors.keys()].find((k) => k.startsWith('params.G.0.') && k.endsWith('conv0.kernel')) as string;
    const bias = [...tensors.keys()].find((k) => k.startsWith('params.T.') && k.endsWith('.bias') && !k.includes('conv')) as string;
    tensors.delete(bias);
    const k = tensors.get(kernel)!;
    tensors.set(kernel, { ...k, shape: [k.data.length] });
    const bad = join(root, 'bad.safetensors');
    writeFileSync(bad, encodeSafetensors(tensors, metadata));
    writeFileSync(join(root, 'config.json'), JSON.stringify(config));
    const error = await importCommand(runs, 'bad', bad).catch((x: unknown) => x);
    expect(error).toBeInstanceOf(CheckpointError);
    const text = `${(error as CheckpointError).message}\n${(error as CheckpointError).problems.join('\n')}`;
    expect(text).toContain(`${bias}: missing`);
    expect(text).toContain(`${kernel}: shape [${k.data.length}], expected [${k.shape.join(',')}]`);
    expect(existsSync(join(runs, 'bad'))).toBe(false);
  }, 60_000);
});
