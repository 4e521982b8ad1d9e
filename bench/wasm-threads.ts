/**
 * The threaded wasm backend (TYPED_FLOWS_WASM_THREADS, src/backend/wasm-threads.ts) against the default
 * single-threaded one, on:
 * - the coupling-net workload at 32x32: affineCoupling with conv3x3 6->128, ReLU, conv1x1 128->128,
 *   ReLU, conv3x3 128->12 on a batch of 16 x 32x32x12; forward + backward (NLL gradients w.r.t. the
 *   net's parameters);
 * - one CAFLOW training step (32x32 RGB, 2 scales, depth 2 / 2, hidden 32, batch 8);
 * - CAFLOW sampling, k = 8 samples of one Y;
 * - a 1024x1024 matMul (a best case: one large, evenly split kernel).
 * tfjs can initialise wasm only once per process, so each configuration lives in its own child
 * process; the parent asks them for one repetition at a time, alternating which goes first, so both
 * see the same background load. Ratios are threaded / single-threaded (< 1: threads are faster):
 * median over median, and the median of the per-pair ratios.
 *
 *   npx tsx bench/wasm-threads.ts [--quick] [--threads N]   (writes bench/wasm-threads.json)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/index.js';
import { dequantize } from '../src/caflow/index.js';
import { couplingWorkload } from './coupling-setup.js';
import { caflowSmall, caflowTrainer, describeConfig, pixelBatch, sampleOnce } from './caflow-setup.js';
import { busyShare, cpuModel, loadSnapshot, log, median, round, type LoadSnapshot } from './common.js';

const WORKLOADS = ['coupling', 'step', 'sample', 'matmul'] as const;
type Workload = (typeof WORKLOADS)[number];

const COUPLING_32 = { batch: 16, size: 32, channels: 12, hidden: 128, clamp: 2 } as const;
const SAMPLES_K = 8;

const DESCRIPTIONS: Record<Workload, string> = {
  coupling: `coupling net forward + backward: conv3x3 ${COUPLING_32.channels / 2}->${COUPLING_32.hidden}, ReLU, conv1x1, ReLU, conv3x3 ${COUPLING_32.hidden}->${COUPLING_32.channels}, batch ${COUPLING_32.batch} x ${COUPLING_32.size}x${COUPLING_32.size}`,
  step: `CAFLOW training step, ${describeConfig(caflowSmall)}`,
  sample: `CAFLOW sampling, k = ${SAMPLES_K}, ${describeConfig(caflowSmall)}`,
  matmul: 'matMul 1024x1024 by 1024x1024',
};

/** One timed repetition, as a child reports it. */
interface Rep {
  readonly wall_ms: number;
  /** CPU time of the whole child process (all threads) during the repetition. */
  readonly cpu_ms: number;
}

type ToChild = { readonly run: Workload };
type FromChild = { readonly ready: { readonly threads: number; readonly log: string } } | { readonly rep: Rep } | { readonly error: string };

// ---------------------------------------------------------------------------------------------------
// Child: one backend configuration, running one repetition per request.

const couplingRun = (): (() => void) => {
  const { xs, nll } = couplingWorkload(COUPLING_32);
  return () => {
    const outs = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => nll(ps))(xs);
      return [value, ...grads];
    });
    for (const o of outs) o.dataSync();
    tf.dispose(outs);
  };
};

const workloads = (): Record<Workload, () => void> => {
  const coupling = couplingRun();
  const trainer = caflowTrainer(caflowSmall);
  const sampler = caflowTrainer(caflowSmall);
  const y = tf.tidy(() => dequantize(pixelBatch(caflowSmall, 1).y, 'center'));
  let seed = 0;
  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 1);
  const b = tf.randomNormal([1024, 1024], 0, 1, 'float32', 2);
  return {
    coupling,
    step: () => void trainer.step(),
    sample: () => {
      const outs = sampleOnce(sampler.model, sampler.params(), y, SAMPLES_K, seed++);
      for (const o of outs) o.dataSync();
      tf.dispose(outs);
    },
    matmul: () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    },
  };
};

const runChild = async (threads: number): Promise<void> => {
  const send = (m: FromChild): void => void process.send?.(m);
  try {
    const lines: string[] = [];
    const sel = await selectBackend({ prefer: 'wasm', wasmThreads: threads, log: (m) => lines.push(m) });
    const run = workloads();
    process.on('message', (m: ToChild) => {
      try {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        run[m.run]();
        const wall_ms = performance.now() - t0;
        const c = process.cpuUsage(c0);
        send({ rep: { wall_ms, cpu_ms: (c.user + c.system) / 1000 } });
      } catch (e) {
        send({ error: String(e) });
      }
    });
    send({ ready: { threads: sel.wasmThreads ?? 1, log: lines.join(' | ') } });
  } catch (e) {
    send({ error: String(e) });
  }
};

// ---------------------------------------------------------------------------------------------------
// Parent: two children, interleaved repetitions.

interface Side {
  readonly median_ms: number;
  readonly samples_ms: number[];
  /** Median of cpu / wall: how many cores the process kept busy. */
  readonly coresBusy: number;
}

interface Figure {
  readonly workload: Workload;
  readonly description: string;
  readonly threaded: Side;
  readonly single: Side;
  /** median(threaded) / median(single). */
  readonly ratio: number;
  /** Median of the per-pair ratios threaded / single. */
  readonly pairedRatio: number;
}

export interface WasmThreadsResult {
  readonly date: string;
  readonly command: string;
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly threads: { readonly requested: number; readonly got: number; readonly log: string };
  readonly repetitions: { readonly warmup: number; readonly reps: number };
  /** Share of the CPUs other processes used in the second before the run (null: unknown). */
  readonly otherProcessesBusy: number | null;
  readonly loadBefore: LoadSnapshot;
  readonly loadAfter: LoadSnapshot;
  readonly figures: Figure[];
}

class Child {
  private pending: { readonly resolve: (m: FromChild) => void; readonly reject: (e: Error) => void } | undefined;
  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: FromChild) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(m);
    });
    proc.on('exit', (code) => this.pending?.reject(new Error(`bench child exited with code ${code}`)));
  }

  static async start(threads: number): Promise<{ child: Child; threads: number; log: string }> {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', String(threads)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child = new Child(proc);
    const m = await child.next();
    if (!('ready' in m)) throw new Error(`bench child (${threads} threads) failed: ${'error' in m ? m.error : 'no reply'}`);
    return { child, ...m.ready };
  }

  private next(): Promise<FromChild> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  async run(w: Workload): Promise<Rep> {
    const reply = this.next();
    this.proc.send({ run: w } satisfies ToChild);
    const m = await reply;
    if (!('rep' in m)) throw new Error(`bench child failed on ${w}: ${'error' in m ? m.error : 'unexpected reply'}`);
    return m.rep;
  }

  stop(): void {
    this.pending = undefined;
    this.proc.kill();
  }
}

const side = (reps: readonly Rep[]): Side => ({
  median_ms: round(median(reps.map((r) => r.wall_ms))),
  samples_ms: reps.map((r) => round(r.wall_ms)),
  coresBusy: round(median(reps.map((r) => r.cpu_ms / r.wall_ms)), 2),
});

const runParent = async (args: readonly string[]): Promise<void> => {
  const quick = args.includes('--quick');
  const ti = args.indexOf('--threads');
  const requested = ti >= 0 ? Number(args[ti + 1]) : Math.min(8, availableParallelism());
  const { warmup, reps } = quick ? { warmup: 1, reps: 5 } : { warmup: 2, reps: 11 };
  const otherProcessesBusy = (await busyShare()) ?? null;
  const loadBefore = loadSnapshot();
  log(`bench: wasm threads: other processes use ${otherProcessesBusy === null ? '?' : `${Math.round(100 * otherProcessesBusy)}%`} of the CPUs; load ${loadBefore.loadavg.join(' ')}`);

  // One after the other: the threaded start is the slower one and should not steal from the other.
  const t = await Child.start(requested);
  const s = await Child.start(1);
  log(`bench: threaded child: ${t.log}`);
  log(`bench: single child:   ${s.log}`);
  const figures: Figure[] = [];
  try {
    for (const w of WORKLOADS) {
      for (let i = 0; i < warmup; i++) {
        await t.child.run(w);
        await s.child.run(w);
      }
      const tr: Rep[] = [];
      const sr: Rep[] = [];
      for (let i = 0; i < reps; i++) {
        if (i % 2 === 0) {
          tr.push(await t.child.run(w));
          sr.push(await s.child.run(w));
        } else {
          sr.push(await s.child.run(w));
          tr.push(await t.child.run(w));
        }
      }
      const threaded = side(tr);
      const single = side(sr);
      const fig: Figure = {
        workload: w,
        description: DESCRIPTIONS[w],
        threaded,
        single,
        ratio: round(threaded.median_ms / single.median_ms),
        pairedRatio: round(median(tr.map((r, i) => r.wall_ms / (sr[i] as Rep).wall_ms))),
      };
      figures.push(fig);
      log(
        `bench: ${w.padEnd(8)} threaded ${threaded.median_ms} ms (${threaded.coresBusy} cores busy), single ${single.median_ms} ms ` +
          `(${single.coresBusy}); ratio ${fig.ratio}, paired ${fig.pairedRatio}`,
      );
    }
  } finally {
    t.child.stop();
    s.child.stop();
  }

  const result: WasmThreadsResult = {
    date: new Date().toISOString(),
    command: `npx tsx bench/wasm-threads.ts ${args.join(' ')}`.trim(),
    cpu: cpuModel(),
    cores: availableParallelism(),
    node: process.version,
    threads: { requested, got: t.threads, log: t.log },
    repetitions: { warmup, reps },
    otherProcessesBusy,
    loadBefore,
    loadAfter: loadSnapshot(),
    figures,
  };
  const out = fileURLToPath(new URL('./wasm-threads.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(['workload  threaded/single (median, paired)  threaded ms  single ms', ...figures.map((f) => `${f.workload.padEnd(9)} ${String(f.ratio).padEnd(6)} ${String(f.pairedRatio).padEnd(26)} ${String(f.threaded.median_ms).padEnd(12)} ${f.single.median_ms}`)].join('\n'));
  log(`bench: wrote ${out}`);
};

const argv = process.argv.slice(2);
const ci = argv.indexOf('--child');
if (ci >= 0) await runChild(Number(argv[ci + 1]));
else await runParent(argv);
