/**
 * Section 3: how the cost of a CAFLOW training step grows, with image size (16, 32, 64 px at depth 2)
 * and with depth (2, 4, 8, 16 steps per block in the encoders and the conditional flows, at 32 px).
 * 2 scales throughout (H divisible by 2^(scales+1) = 8 for every size), hidden 32, batch 8, RGB.
 * Each configuration runs in its own process (bench/scaling-worker.ts) so its memory figures are its own:
 * time per step (median), peak tensor bytes (high-water mark of tf.memory().numBytes, taken after every
 * kernel of one step), RSS after the steps, and the process's peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caflowSmall, describeConfig, type CaflowBenchConfig } from './caflow-setup.js';
import { log, round, type KernelStat, type RunSize, type Timing } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface ScalingPoint {
  readonly sweep: 'pixels' | 'depth';
  readonly label: string;
  readonly config: CaflowBenchConfig;
  readonly params: number;
  readonly step: Timing;
  readonly peakTensorBytes: number;
  readonly rssBaseline: number;
  readonly rssAfter: number;
  readonly maxRss: number;
  readonly wasmHeapBytes: number | null;
  readonly kernelCalls: number;
  readonly topKernels: KernelStat[];
  readonly categories: KernelStat[];
  /** step time / step time of the sweep's first point. */
  readonly timeRatio: number;
  /** peak tensor bytes / those of the sweep's first point. */
  readonly memoryRatio: number;
  /** Share of the CPUs other processes used just before this point was measured (null: unknown). */
  readonly otherProcessesBusy: number | null;
}

export interface ScalingResult {
  readonly points: ScalingPoint[];
  readonly failures: Array<{ readonly label: string; readonly error: string }>;
  readonly note: string;
}

type Raw = Omit<ScalingPoint, 'sweep' | 'label' | 'timeRatio' | 'memoryRatio' | 'otherProcessesBusy'>;

const runWorker = (config: CaflowBenchConfig, warmup: number, reps: number, backend: string): Raw | { error: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'scaling-worker.ts'), JSON.stringify({ config, warmup, reps })], {
    encoding: 'utf8',
    env: { ...process.env, TYPED_FLOWS_BACKEND: backend },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined || r.status !== 0) return { error: (r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' | ')) || `exit ${r.status}` };
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1] ?? '') as Raw;
  } catch {
    return { error: `no JSON from the worker: ${r.stdout.slice(-300)}` };
  }
};

/**
 * Runs the sweep. `beforePoint` runs before each configuration (run.ts samples, and with --wait-idle
 * waits out, other load there) and returns the share of the CPUs other processes were using.
 */
export const runScaling = async (size: RunSize, backend: string, beforePoint: () => Promise<number | null>): Promise<ScalingResult> => {
  const base: CaflowBenchConfig = { ...caflowSmall };
  const sizes = size.quick ? [16, 32] : [16, 32, 64];
  const depths = size.quick ? [2, 4] : [2, 4, 8, 16];
  const jobs: Array<{ sweep: 'pixels' | 'depth'; label: string; config: CaflowBenchConfig }> = [
    ...sizes.map((s) => ({ sweep: 'pixels' as const, label: `${s} px`, config: { ...base, size: s } })),
    ...depths.map((d) => ({ sweep: 'depth' as const, label: `depth ${d}`, config: { ...base, encoderDepth: d, conditionalDepth: d } })),
  ];
  const raw = new Map<string, Raw>();
  const busy = new Map<string, number | null>();
  const failures: ScalingResult['failures'] = [];
  for (const job of jobs) {
    // The 32 px, depth 2 point is shared by both sweeps: measure it once.
    const key = JSON.stringify(job.config);
    if (raw.has(key)) continue;
    busy.set(key, await beforePoint());
    log(`bench: scaling ${job.label}: ${describeConfig(job.config)}`);
    const r = runWorker(job.config, size.sweep.warmup, size.sweep.reps, backend);
    if ('error' in r) {
      failures.push({ label: job.label, error: r.error });
      log(`bench:   failed: ${r.error}`);
    } else raw.set(key, r);
  }
  const points: ScalingPoint[] = [];
  for (const sweep of ['pixels', 'depth'] as const) {
    const inSweep = jobs.filter((j) => j.sweep === sweep);
    const first = raw.get(JSON.stringify(inSweep[0]?.config));
    for (const job of inSweep) {
      const r = raw.get(JSON.stringify(job.config));
      if (r === undefined) continue;
      points.push({
        sweep,
        label: job.label,
        ...r,
        timeRatio: first === undefined ? NaN : round(r.step.median_ms / first.step.median_ms, 3),
        memoryRatio: first === undefined ? NaN : round(r.peakTensorBytes / first.peakTensorBytes, 3),
        otherProcessesBusy: busy.get(JSON.stringify(job.config)) ?? null,
      });
    }
  }
  return {
    points,
    failures,
    note: `CAFLOW training step, ${base.channels} channels, ${base.scales} scales, hidden ${base.hidden}, batch ${base.batch}; pixels swept at depth ${base.encoderDepth}, depth (encoder = conditional) swept at ${base.size} px. One process per configuration.`,
  };
};
