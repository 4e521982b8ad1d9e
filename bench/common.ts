/**
 * Shared helpers of the benchmark suite: the machine description, a timer (warm-up, then the median of
 * several repetitions), and the per-kernel profile used to find hot spots. Benchmarks measure and
 * report; nothing here asserts anything about the numbers.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly tfjs: string;
  readonly backend: string;
  /** Facts about the backend that matter for the numbers (threads, SIMD). */
  readonly backendNotes: string;
  readonly platform: string;
}

/** The cpu model from /proc/cpuinfo (falls back to os.cpus()). */
export const cpuModel = (): string => {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
};

export const machine = (backend: string): Machine => {
  const notes: string[] = [];
  if (backend === 'wasm') {
    notes.push(`threads: ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'multi' : 'single (tfjs turns them off in Node)'}`);
    notes.push(`SIMD: ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'yes' : 'no'}`);
  }
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    node: process.version,
    tfjs: tf.version.tfjs,
    backend,
    backendNotes: notes.join(', '),
    platform: `${process.platform} ${process.arch}`,
  };
};

/** What else the machine was doing: load averages and cumulative CPU steal time (from /proc/stat). */
export interface LoadSnapshot {
  readonly loadavg: number[];
  /** Seconds of CPU time stolen by the hypervisor since boot, summed over CPUs (null if unknown). */
  readonly stealSeconds: number | null;
}

export const loadSnapshot = (): LoadSnapshot => {
  let stealSeconds: number | null = null;
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
    const steal = Number(fields[8]);
    if (fields[0] === 'cpu' && Number.isFinite(steal)) stealSeconds = steal / 100; // USER_HZ = 100 on Linux
  } catch {
    // not Linux
  }
  return { loadavg: loadavg().map((x) => round(x, 2)), stealSeconds };
};

const cpuTicks = (): { total: number; idle: number } | undefined => {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    return { total, idle: (f[3] ?? 0) + (f[4] ?? 0) };
  } catch {
    return undefined;
  }
};

/**
 * Share of all CPUs busy over the next `ms` milliseconds while this process sleeps: i.e. what other
 * processes use. undefined where /proc/stat is unavailable.
 */
export const busyShare = async (ms = 1000): Promise<number | undefined> => {
  const a = cpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTicks();
  if (a === undefined || b === undefined || b.total === a.total) return undefined;
  return round(1 - (b.idle - a.idle) / (b.total - a.total), 2);
};

/** Waits (up to maxSeconds) until other processes use less than `threshold` of the CPUs; returns the seconds waited. */
export const waitForIdle = async (maxSeconds: number, threshold = 0.1): Promise<{ waited: number; busy: number | undefined }> => {
  const t0 = performance.now();
  let busy = await busyShare();
  while (busy !== undefined && busy >= threshold && (performance.now() - t0) / 1000 < maxSeconds) {
    log(`bench: other processes use ${(100 * busy).toFixed(0)}% of the CPUs; waiting for the machine to go idle...`);
    await new Promise((r) => setTimeout(r, 10_000));
    busy = await busyShare();
  }
  return { waited: Math.round((performance.now() - t0) / 1000), busy };
};

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export interface Timing {
  readonly median_ms: number;
  readonly samples_ms: number[];
}

/**
 * Runs `fn` `warmup` times untimed, then `reps` times timed. `fn` must return the tensors it produced;
 * they are read back (dataSync, so the work is really done on any backend) inside the timed region and
 * disposed outside it.
 */
export const timeTf = (fn: () => tf.Tensor | tf.Tensor[], warmup: number, reps: number): Timing => {
  const once = (): number => {
    const t0 = performance.now();
    const out = fn();
    const outs = Array.isArray(out) ? out : [out];
    for (const o of outs) o.dataSync();
    const ms = performance.now() - t0;
    tf.dispose(outs);
    return ms;
  };
  for (let i = 0; i < warmup; i++) once();
  const samples_ms = Array.from({ length: reps }, once);
  return { median_ms: median(samples_ms), samples_ms };
};

/**
 * Like timeTf for a step that owns its state (e.g. a training step that returns new params): `fn`
 * does all of its work, host sync included, and cleans up after itself; only its duration is taken.
 */
export const timeSync = (fn: () => void, warmup: number, reps: number): Timing => {
  const once = (): number => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) once();
  const samples_ms = Array.from({ length: reps }, once);
  return { median_ms: median(samples_ms), samples_ms };
};

export const round = (x: number, digits = 3): number => Number(x.toPrecision(digits));

export interface KernelStat {
  readonly kernel: string;
  readonly calls: number;
  readonly ms: number;
  /** Share of the summed kernel time. */
  readonly share: number;
}

export interface KernelInstance {
  readonly kernel: string;
  readonly category: string;
  readonly ms: number;
  readonly inputShapes: string;
  readonly outputShapes: string;
  readonly inputs: number[][];
}

export interface Profile {
  /** Wall time of the profiled call (profiling itself adds overhead). */
  readonly wall_ms: number;
  /** Sum of the per-kernel times; wall minus this is JS-side work (tape, dispatch, tidy, Adam in JS...). */
  readonly kernel_ms: number;
  /** Kernel calls (customGrad scopes not counted). */
  readonly kernelCalls: number;
  /** High-water mark of tf.memory().numBytes, sampled after every kernel (tf.profile's peakBytes). */
  readonly peakBytes: number;
  readonly byKernel: KernelStat[];
  /** The most expensive single kernel calls. */
  readonly topCalls: KernelInstance[];
  /** Kernel time grouped by what the kernels are for (see `categoryOf`). */
  readonly categories: KernelStat[];
  /**
   * Time inside tf.customGrad forward scopes (tfjs profiles them as 'unnamed scope'): conv2dSame's
   * forward (its nested Conv2D is also counted under Conv2D) and inv1x1's logAbsDet (slogdet in JS).
   * Excluded from kernel_ms to avoid counting nested kernels twice.
   */
  readonly customGradScopes: { readonly calls: number; readonly ms: number };
}

const UNNAMED = 'unnamed scope';
export const MATMUL_TRANSPOSE_A = 'MatMul with transposeA (weight gradients)';
export const MATMUL_PLAIN = 'MatMul, plain (inv1x1, conv filter gradients after an explicit transpose)';

/**
 * A kernel call's group, from its name and shapes. BatchMatMul is split by layout: a product whose output
 * is [K, M] for inputs [R, K] and [R, M] is one with transposeA (here: weight gradients: inv1x1's, and
 * conv2dSame's filter gradients if computed that way); the others are plain products.
 */
export const categoryOf = (name: string, ins: ReadonlyArray<readonly number[]>, outs: ReadonlyArray<readonly number[]>): string => {
  if (name === 'BatchMatMul') {
    const [a, b] = ins;
    const o = outs[0];
    const transposeA = a !== undefined && b !== undefined && o !== undefined && a.length === 2 && b.length === 2 && a[0] === b[0] && o[0] === a[1] && o[1] === b[1] && a[0] !== a[1];
    return transposeA ? MATMUL_TRANSPOSE_A : MATMUL_PLAIN;
  }
  if (name === 'FusedConv2D') return 'Conv2D, fused with bias and ReLU (forward convs)';
  if (name === 'Conv2D') return 'Conv2D (conv input gradients, channel-swapped filter gradients)';
  if (name === 'Slice' || name === 'Concat' || name === 'Pad' || name === 'PadV2' || name === 'SplitV') return 'Slice/Concat/Pad (channel splits and joins, padding)';
  if (name === 'TypedFlowsAdamUpdate') return 'Adam update (one fused kernel)';
  if (name === 'Transpose') return 'Transpose (kernel flips, channel swaps, squeeze)';
  if (name === 'Reverse') return 'Reverse (kernel flips for conv input gradients)';
  return 'elementwise and reductions (everything else)';
};

const shapes = (ts: ReadonlyArray<readonly number[] | undefined> | undefined): string =>
  (ts ?? []).map((s) => `[${(s ?? []).join(',')}]`).join(' ');

/** Profiles one call of `fn` kernel by kernel (the backend's own timer around each kernel). */
export const profileKernels = async (fn: () => void, top = 12): Promise<Profile> => {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    fn();
    return [] as tf.Tensor[];
  });
  const wall_ms = performance.now() - t0;
  const stats = new Map<string, { calls: number; ms: number }>();
  const cats = new Map<string, { calls: number; ms: number }>();
  const calls: KernelInstance[] = [];
  const scopes = { calls: 0, ms: 0 };
  let kernel_ms = 0;
  const add = (m: Map<string, { calls: number; ms: number }>, key: string, ms: number): void => {
    const s = m.get(key) ?? { calls: 0, ms: 0 };
    s.calls += 1;
    s.ms += ms;
    m.set(key, s);
  };
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs);
    if (k.name === UNNAMED) {
      scopes.calls += 1;
      scopes.ms += ms;
      continue;
    }
    kernel_ms += ms;
    add(stats, k.name, ms);
    const category = categoryOf(k.name, k.inputShapes ?? [], k.outputShapes ?? []);
    add(cats, category, ms);
    calls.push({ kernel: k.name, category, ms, inputShapes: shapes(k.inputShapes), outputShapes: shapes(k.outputShapes), inputs: (k.inputShapes ?? []).map((x) => [...x]) });
  }
  const table = (m: Map<string, { calls: number; ms: number }>): KernelStat[] =>
    [...m.entries()]
      .map(([kernel, s]) => ({ kernel, calls: s.calls, ms: round(s.ms), share: round(s.ms / kernel_ms) }))
      .sort((a, b) => b.ms - a.ms);
  const byKernel = table(stats);
  calls.sort((a, b) => b.ms - a.ms);
  return {
    wall_ms: round(wall_ms),
    kernel_ms: round(kernel_ms),
    kernelCalls: info.kernels.length - scopes.calls,
    peakBytes: info.peakBytes,
    byKernel: byKernel.slice(0, top),
    topCalls: calls.slice(0, top).map((c) => ({ ...c, ms: round(c.ms) })),
    categories: table(cats),
    customGradScopes: { calls: scopes.calls, ms: round(scopes.ms) },
  };
};

/** Counts of a run: quick (`--quick`) or full. */
export interface RunSize {
  readonly quick: boolean;
  /** Warm-up and timed repetitions for cheap figures (tens of ms). */
  readonly cheap: { readonly warmup: number; readonly reps: number };
  /** For a CAFLOW training step / sampling (hundreds of ms to seconds). */
  readonly step: { readonly warmup: number; readonly reps: number };
  /** For the scaling sweep (the larger configurations take seconds per step). */
  readonly sweep: { readonly warmup: number; readonly reps: number };
}

export const runSize = (quick: boolean): RunSize =>
  quick
    ? { quick, cheap: { warmup: 2, reps: 5 }, step: { warmup: 1, reps: 3 }, sweep: { warmup: 1, reps: 2 } }
    : { quick, cheap: { warmup: 3, reps: 21 }, step: { warmup: 2, reps: 11 }, sweep: { warmup: 1, reps: 5 } };

export const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

/**
 * Times a and b interleaved (alternating which goes first), after `warmup` rounds of each; `before`
 * runs ahead of every call, outside the timing. `paired` is the median of the per-pair ratios a/b.
 */
export const interleaved = (
  a: () => tf.Tensor[],
  b: () => tf.Tensor[],
  warmup: number,
  reps: number,
  before?: (which: 'a' | 'b') => void,
): { a: Timing; b: Timing; paired: number } => {
  const once = (f: () => tf.Tensor[], which: 'a' | 'b'): number => {
    before?.(which);
    const t0 = performance.now();
    const outs = f();
    for (const o of outs) o.dataSync();
    const ms = performance.now() - t0;
    tf.dispose(outs);
    return ms;
  };
  for (let i = 0; i < warmup; i++) {
    once(a, 'a');
    once(b, 'b');
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      as.push(once(a, 'a'));
      bs.push(once(b, 'b'));
    } else {
      bs.push(once(b, 'b'));
      as.push(once(a, 'a'));
    }
  }
  return {
    a: { median_ms: median(as), samples_ms: as },
    b: { median_ms: median(bs), samples_ms: bs },
    paired: median(as.map((x, i) => x / (bs[i] as number))),
  };
};
