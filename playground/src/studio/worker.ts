/**
 * The studio's worker, started twice by the page: as the trainer (one `fit` at a time, reporting at
 * every evaluation and waiting on the page's pause flag between steps) and as the tools worker
 * (verify, exports, model files, pictures of a loaded model, log-densities of given points), so that
 * nothing heavy runs on the page's thread. Both run the library's own `fit`, `verifyFlow` and
 * exporters on the best tfjs backend here (backend.ts: webgl on a real GPU, else wasm, else cpu).
 */
import * as tf from '@tensorflow/tfjs';
import { distributions, verifyFlow, disposeParams, type ParamTree } from '../../../src/index.js';
import { chooseBackend, isBrowserBackend } from '../backend.js';
import { errorText } from '../session.js';
import { decodeChecked, fitOptionsOf, flatParams, flowsWithPaths, modelOf } from './spec.js';
import { GRID, type Extent, type FitRequest, type ModelView, type StudioModel, type ToolReply, type ToolRequest, type ToolResults, type TrainerMessage, type VerifyVerdict, type WorkerReady } from './protocol.js';

type AnyDistribution = distributions.AnyDistribution;

/** Draws per picture of the samples. */
const SAMPLES = 600;
/** Least time between two pictures sent while training (a picture costs a few steps). */
const VIEW_EVERY_MS = 400;

const scope = self as unknown as {
  postMessage: (message: unknown, transfer?: Transferable[]) => void;
  onmessage: ((e: MessageEvent) => void) | null;
};

/** The centres of the grid's pixels, top row first, as a [GRID^2, 2] tensor. */
const gridPoints = (extent: Extent): tf.Tensor2D => {
  const xy = new Float32Array(GRID * GRID * 2);
  for (let j = 0; j < GRID; j += 1)
    for (let i = 0; i < GRID; i += 1) {
      xy[2 * (j * GRID + i)] = extent.x0 + ((i + 0.5) / GRID) * (extent.x1 - extent.x0);
      xy[2 * (j * GRID + i) + 1] = extent.y1 - ((j + 0.5) / GRID) * (extent.y1 - extent.y0);
    }
  return tf.tensor2d(xy, [GRID * GRID, 2]);
};

/** log p on the grid and a fixed set of samples (seed 0: the same noise at every picture, so the points move as the model learns). */
const viewOf = (dist: AnyDistribution, params: ParamTree, grid: tf.Tensor2D): ModelView => {
  const logDensity = Float32Array.from(distributions.logProbRows(dist, params, [grid]));
  const drawn = distributions.sample(dist, params)(SAMPLES, { seed: 0 });
  const samples = Float32Array.from(drawn.x.dataSync() as Float32Array);
  drawn.x.dispose();
  return { logDensity, samples };
};

const transfers = (model: StudioModel, view?: ModelView): Transferable[] => [
  ...Object.values(model.params).map((p) => p.values.buffer),
  ...(view === undefined ? [] : [view.logDensity.buffer, view.samples.buffer]),
];

const post = (message: TrainerMessage, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

/** Fits the request's spec to its rows with the library's `fit`, the baselines first on the same split. */
const runFit = (req: FitRequest): void => {
  const dist = decodeChecked(req.specJson);
  const s = req.settings;
  const n = req.rows.length / 2;
  const data = tf.tensor2d(req.rows, [n, 2]);
  const grid = gridPoints(req.extent);
  const control = req.control === undefined ? undefined : new Int32Array(req.control);
  try {
    // fit's own split (same rows, same seed), so the baselines are scored on fit's validation rows.
    const split = distributions.splitRows(n, distributions.defaultValidationRows(n), s.seed);
    const [train] = distributions.gatherRows([data], split.train) as [tf.Tensor2D];
    const [validation] = distributions.gatherRows([data], split.validation) as [tf.Tensor2D];
    const baselines = distributions.fitMixtureBaselines(train, validation, { seed: s.seed });
    post({ type: 'baselines', gaussianNll: baselines.validationNll[0] ?? Number.NaN, mixtureNll: baselines.validationNll[baselines.best.k - 1] ?? Number.NaN, k: baselines.best.k });
    distributions.disposeBaselines(baselines);
    train.dispose();
    validation.dispose();

    const start = performance.now();
    let outside = 0; // time in the callback: drawing, posting, paused
    let lastView = -Infinity;
    const msPerStep = (step: number): number => (performance.now() - start - outside) / Math.max(1, step);
    const result = distributions.fit(dist, data, {
      ...fitOptionsOf(s),
      onProgress: (p) => {
        const entered = performance.now();
        const pausing = control !== undefined && Atomics.load(control, 0) === 1;
        const snapshot = pausing || entered - lastView >= VIEW_EVERY_MS ? { model: { specJson: req.specJson, params: flatParams(p.params), step: p.step }, view: viewOf(dist, p.params, grid) } : undefined;
        if (snapshot !== undefined) lastView = performance.now();
        post(
          { type: 'progress', step: p.step, steps: p.steps, trainLoss: p.trainLoss, validationNll: p.validationNll, msPerStep: msPerStep(p.step), paused: pausing, snapshot },
          snapshot === undefined ? [] : transfers(snapshot.model, snapshot.view),
        );
        // Paused: wait here, between two steps, until the page clears the flag (Reset ends the worker).
        // A pause asked for after the check above waits for the next report, which then says so.
        while (pausing && control !== undefined && Atomics.load(control, 0) === 1) Atomics.wait(control, 0, 1);
        outside += performance.now() - entered;
      },
    });
    const perStep = msPerStep(result.steps);
    const model: StudioModel = { specJson: req.specJson, params: flatParams(result.params), step: result.bestStep };
    const view = viewOf(dist, result.params, grid);
    disposeParams(result.params);
    post({ type: 'done', model, view, validationNll: result.validationNll, bestStep: result.bestStep, steps: result.steps, msPerStep: perStep }, transfers(model, view));
  } finally {
    data.dispose();
    grid.dispose();
  }
};

/** The verdicts of `verify` on every flow in the spec, per law (and the layer where one fails). */
const verifyAll = (specJson: string): ToolResults['verify'] => {
  const dist = decodeChecked(specJson);
  const runs = flowsWithPaths(dist).map(({ path, flow }) => ({ path, report: verifyFlow(flow, { seed: 0 }) }));
  const verdicts: VerifyVerdict[] = runs.flatMap(({ path, report }) =>
    report.checks.map((c) => ({ flow: path, law: c.name, passed: c.passed, worst: c.worst, tolerance: c.tolerance, layer: c.layer, detail: c.detail })),
  );
  const notes = runs.flatMap(({ path, report }) => report.notes.map((note) => `${path}: ${note}`));
  return { verdicts, notes: verdicts.length === 0 ? ['this distribution has no flow: there is no bijector to verify', ...notes] : notes };
};

const withModel = <T>(model: StudioModel, f: (dist: AnyDistribution, params: ParamTree) => T): T => {
  const { dist, params } = modelOf(model);
  try {
    return f(dist, params);
  } finally {
    disposeParams(params);
  }
};

const exportModel = async (model: StudioModel, format: 'safetensors' | 'logProb' | 'sample'): Promise<Uint8Array> => {
  const { dist, params } = modelOf(model);
  try {
    if (format === 'safetensors') return await distributions.encodeDistributionModel({ dist, params, step: model.step, config: { madeBy: 'typed-flows studio' } });
    return distributions.distributionToOnnx(dist, params, { graph: format });
  } finally {
    disposeParams(params);
  }
};

/** A dropped model file back into a studio model, or a one-paragraph reason it is not one. */
const loadModel = (bytes: Uint8Array, name: string): StudioModel => {
  let decoded: distributions.DistributionModel;
  try {
    decoded = distributions.decodeDistributionModel(bytes);
  } catch (e) {
    throw new Error(`${name} is not a typed-flows distribution model (the model.safetensors of \`typed-flows fit\` or of this page): ${errorText(e)}`);
  }
  try {
    const specJson = distributions.encodeDistribution(decoded.dist);
    decodeChecked(specJson); // a 3-D or conditional model cannot be drawn here: say so
    return { specJson, params: flatParams(decoded.params), step: decoded.step };
  } catch (e) {
    throw new Error(`${name} is a distribution model, but not one this page can show: ${errorText(e)}`);
  } finally {
    disposeParams(decoded.params);
  }
};

const tool = async (req: ToolRequest): Promise<unknown> => {
  switch (req.type) {
    case 'verify':
      return verifyAll(req.specJson);
    case 'export':
      return exportModel(req.model, req.format);
    case 'load':
      return loadModel(req.bytes, req.name);
    case 'view': {
      const grid = gridPoints(req.extent);
      try {
        return withModel(req.model, (dist, params) => viewOf(dist, params, grid));
      } finally {
        grid.dispose();
      }
    }
    case 'logDensity': {
      const points = tf.tensor2d(req.points, [req.points.length / 2, 2]);
      try {
        return withModel(req.model, (dist, params) => Float32Array.from(distributions.logProbRows(dist, params, [points])));
      } finally {
        points.dispose();
      }
    }
  }
};

/** "threaded SIMD", "SIMD", ... for wasm (threads need a cross-origin isolated page); "" for the others. */
const wasmFeatures = async (backend: string): Promise<string> => {
  if (backend !== 'wasm') return '';
  const [threads, simd] = [await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'), await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')];
  return [threads === true ? 'threaded' : 'single-threaded', simd === true ? 'SIMD' : 'no SIMD'].join(' ');
};

let ready: Promise<void> | undefined;

scope.onmessage = (e: MessageEvent): void => {
  const msg = e.data as { type: 'init'; backend: string | null } | FitRequest | { type: 'tool'; id: number; request: ToolRequest };
  if (msg.type === 'init') {
    ready = chooseBackend(isBrowserBackend(msg.backend) ? msg.backend : undefined).then(
      async (choice) => scope.postMessage({ type: 'ready', backend: choice.name, features: await wasmFeatures(choice.name), skipped: choice.skipped } satisfies WorkerReady),
      (err: unknown) => post({ type: 'failed', message: errorText(err) }),
    );
    return;
  }
  void (ready ?? Promise.resolve()).then(async () => {
    if (msg.type === 'fit') {
      try {
        runFit(msg);
      } catch (err) {
        post({ type: 'failed', message: errorText(err) });
      }
      return;
    }
    try {
      const result = await tool(msg.request);
      const transfer = result instanceof Uint8Array || result instanceof Float32Array ? [result.buffer] : [];
      scope.postMessage({ id: msg.id, ok: true, result } satisfies ToolReply, transfer as Transferable[]);
    } catch (err) {
      scope.postMessage({ id: msg.id, ok: false, message: errorText(err) } satisfies ToolReply);
    }
  });
};
