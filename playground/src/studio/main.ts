/**
 * The density studio page: data (toys, drawn points, CSV) with fit's split shown, a spec editor
 * checked as you type with its layer table, verify, a live fit in a worker with start/pause/reset,
 * downloads, and model files dropped back in. The maths is the library's (spec.ts, worker.ts); this
 * file is the DOM around it.
 */
import * as E from 'fp-ts/lib/Either.js';
import { errorText } from '../session.js';
import { MIN_ROWS, parseCsv, rowsAt, splitOf, toyRows, toys } from './data.js';
import { clear, colours, drawCurves, drawHeat, drawPoints, extentOf, fromPixel, type Series } from './render.js';
import { checkSpec, layerTable, presetObjective, presetText, studioPresets, studioSettings, type StudioPreset } from './spec.js';
import type { ExportFormat, Extent, FitRequest, ModelView, StudioModel, TrainerMessage, WorkerReady } from './protocol.js';
import { startWorker, toolsClient } from './client.js';
import { escape, issuesHtml, layerTableHtml, verdictsHtml } from './tables.js';
import { byId } from '../dom.js';

const ui = {
  backend: byId<HTMLElement>('backend'),
  backendNote: byId<HTMLElement>('backend-note'),
  source: byId<HTMLSelectElement>('source'),
  rows: byId<HTMLInputElement>('rows'),
  dataSeed: byId<HTMLInputElement>('data-seed'),
  data: byId<HTMLCanvasElement>('data'),
  split: byId<HTMLElement>('split'),
  drawHint: byId<HTMLElement>('draw-hint'),
  clearPoints: byId<HTMLButtonElement>('clear-points'),
  csv: byId<HTMLTextAreaElement>('csv'),
  useCsv: byId<HTMLButtonElement>('use-csv'),
  csvFile: byId<HTMLInputElement>('csv-file'),
  dataError: byId<HTMLElement>('data-error'),
  preset: byId<HTMLSelectElement>('preset'),
  verify: byId<HTMLButtonElement>('verify'),
  spec: byId<HTMLTextAreaElement>('spec'),
  specCheck: byId<HTMLElement>('spec-check'),
  summary: byId<HTMLElement>('summary'),
  verifyReport: byId<HTMLElement>('verify-report'),
  steps: byId<HTMLInputElement>('steps'),
  lr: byId<HTMLInputElement>('lr'),
  batch: byId<HTMLInputElement>('batch'),
  objective: byId<HTMLSelectElement>('objective'),
  start: byId<HTMLButtonElement>('start'),
  pause: byId<HTMLButtonElement>('pause'),
  reset: byId<HTMLButtonElement>('reset'),
  fitStatus: byId<HTMLElement>('fit-status'),
  progress: byId<HTMLProgressElement>('fit-progress'),
  heatmap: byId<HTMLCanvasElement>('heatmap'),
  probe: byId<HTMLElement>('probe'),
  samples: byId<HTMLCanvasElement>('samples'),
  curves: byId<HTMLCanvasElement>('curves'),
  valNll: byId<HTMLElement>('val-nll'),
  gaussianNll: byId<HTMLElement>('gaussian-nll'),
  gmmNll: byId<HTMLElement>('gmm-nll'),
  stepTime: byId<HTMLElement>('step-time'),
  downloads: {
    spec: byId<HTMLButtonElement>('download-spec'),
    safetensors: byId<HTMLButtonElement>('download-model'),
    logProb: byId<HTMLButtonElement>('download-logprob'),
    sample: byId<HTMLButtonElement>('download-sample'),
  },
  modelFile: byId<HTMLInputElement>('model-file'),
  modelStatus: byId<HTMLElement>('model-status'),
};

const DRAWN = 'draw your own';
const CSV = 'CSV';
type FitState = 'idle' | 'running' | 'paused' | 'done' | 'loaded';

const backendParam = new URLSearchParams(location.search).get('backend');

const state = {
  source: 'moons',
  rows: new Float32Array(0) as Float32Array,
  extent: { x0: -3, x1: 3, y0: -3, y1: 3 } as Extent,
  train: new Float32Array(0) as Float32Array,
  validation: new Float32Array(0) as Float32Array,
  specEdited: false,
  fit: 'idle' as FitState,
  control: undefined as Int32Array | undefined,
  history: { train: [] as Array<[number, number]>, validation: [] as Array<[number, number]> },
  baselines: undefined as { gaussianNll: number; mixtureNll: number; k: number } | undefined,
  steps: 1,
  model: undefined as StudioModel | undefined,
  view: undefined as ModelView | undefined,
  /** The extent the model's picture was drawn on. */
  viewExtent: undefined as Extent | undefined,
};

const fmt = (v: number | undefined, digits = 3): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const seedValue = (): number => Math.trunc(Number(ui.dataSeed.value) || 0);
const trainRows = (): number => state.train.length / 2;

// ----------------------------------------------------------------------------------------------
// Workers

const ask = toolsClient(startWorker(backendParam));

let trainer: Worker;
const startTrainer = (): void => {
  trainer = startWorker(backendParam);
  trainer.onmessage = (e: MessageEvent<TrainerMessage | WorkerReady>) => onTrainer(e.data);
};

// ----------------------------------------------------------------------------------------------
// Data

const showDataError = (message: string | undefined): void => {
  ui.dataError.hidden = message === undefined;
  ui.dataError.textContent = message ?? '';
};

const drawData = (): void => {
  clear(ui.data);
  drawPoints(ui.data, state.extent, [
    { rows: state.train, colour: colours.train, radius: 1.5 },
    { rows: state.validation, colour: colours.validation, radius: 1.8 },
  ]);
  const n = state.rows.length / 2;
  ui.split.innerHTML =
    n < MIN_ROWS
      ? `${n} point(s): draw at least ${MIN_ROWS}.`
      : `${n} points: <span style="color:${colours.train}">■ ${trainRows()} to train on</span>, <span style="color:${colours.validation}">■ ${state.validation.length / 2} to validate on</span> (fit's own split, seed ${seedValue()})`;
  document.body.dataset['rows'] = String(n);
};

/** New rows: the split, the extent, the plot; the fit and any model's picture start over. */
const setRows = (rows: Float32Array, keepExtent = false): void => {
  state.rows = rows;
  const n = rows.length / 2;
  if (n >= MIN_ROWS) {
    const split = splitOf(n, seedValue());
    state.train = rowsAt(rows, split.train);
    state.validation = rowsAt(rows, split.validation);
  } else {
    state.train = rows;
    state.validation = new Float32Array(0);
  }
  if (!keepExtent) state.extent = extentOf(rows);
  drawData();
  resetFit();
  if (!state.specEdited) setSpecText(presetText(ui.preset.value as StudioPreset, Math.max(1, trainRows())), false);
};

const loadSource = (): void => {
  showDataError(undefined);
  state.source = ui.source.value;
  ui.drawHint.hidden = state.source !== DRAWN;
  const toy = toys[state.source];
  if (toy !== undefined) setRows(toyRows(toy, Math.max(MIN_ROWS, Math.min(20000, Math.trunc(Number(ui.rows.value)) || 1000)), seedValue()));
  else if (state.source === DRAWN) {
    state.extent = { x0: -3, x1: 3, y0: -3, y1: 3 };
    setRows(new Float32Array(0), true);
  }
};

const useCsv = (text: string): void => {
  try {
    const rows = parseCsv(text);
    ui.source.value = CSV;
    state.source = CSV;
    ui.drawHint.hidden = true;
    showDataError(undefined);
    setRows(rows);
  } catch (e) {
    showDataError(`CSV: ${errorText(e)}`);
  }
};

// Drawing: a press sprays a few points around the cursor, dragging sprays more along the stroke.
let spraying = false;
let sprayState = 12345;
const jitter = (): number => {
  // A small LCG: the spray needs no quality, only to differ from point to point.
  sprayState = (sprayState * 1103515245 + 12345) % 2147483648;
  return sprayState / 2147483648 - 0.5;
};
const spray = (e: PointerEvent): void => {
  if (state.source !== DRAWN) return;
  const [x, y] = fromPixel(ui.data, state.extent, e.offsetX, e.offsetY);
  const spread = 0.04 * (state.extent.x1 - state.extent.x0);
  const added = Array.from({ length: 6 }, () => [x + spread * jitter(), y + spread * jitter()]).flat();
  setRows(Float32Array.from([...state.rows, ...added]), true);
};
ui.data.addEventListener('pointerdown', (e) => {
  spraying = true;
  spray(e);
});
ui.data.addEventListener('pointermove', (e) => spraying && spray(e));
window.addEventListener('pointerup', () => (spraying = false));
ui.clearPoints.addEventListener('click', () => setRows(new Float32Array(0), true));
ui.source.addEventListener('change', loadSource);
ui.rows.addEventListener('change', loadSource);
ui.dataSeed.addEventListener('change', () => (state.source === DRAWN || state.source === CSV ? setRows(state.rows, true) : loadSource()));
ui.useCsv.addEventListener('click', () => useCsv(ui.csv.value));
ui.csvFile.addEventListener('change', async () => {
  const file = ui.csvFile.files?.[0];
  if (file !== undefined) {
    ui.csv.value = await file.text();
    useCsv(ui.csv.value);
  }
});

// ----------------------------------------------------------------------------------------------
// The spec: checked as it is typed, its layer table beside it

const checkEditor = (): boolean => {
  const checked = checkSpec(ui.spec.value);
  ui.spec.classList.toggle('bad', E.isLeft(checked));
  if (E.isLeft(checked)) {
    ui.specCheck.innerHTML = issuesHtml(checked.left);
    ui.summary.innerHTML = '';
    ui.start.disabled = true;
    ui.verify.disabled = true;
    return false;
  }
  const html = layerTableHtml(layerTable(checked.right));
  ui.specCheck.innerHTML = html.check;
  ui.summary.innerHTML = html.summary;
  ui.start.disabled = state.fit === 'running' || state.rows.length / 2 < MIN_ROWS;
  ui.verify.disabled = false;
  return true;
};

const setSpecText = (text: string, edited: boolean): void => {
  ui.spec.value = text;
  state.specEdited = edited;
  ui.verifyReport.innerHTML = '';
  checkEditor();
};

ui.spec.addEventListener('input', () => {
  state.specEdited = true;
  ui.verifyReport.innerHTML = '';
  checkEditor();
});
ui.preset.addEventListener('change', () => {
  const name = ui.preset.value as StudioPreset;
  ui.objective.value = presetObjective(name);
  setSpecText(presetText(name, Math.max(1, trainRows())), false);
  resetFit();
});

ui.verify.addEventListener('click', async () => {
  ui.verify.disabled = true;
  ui.verifyReport.innerHTML = '<p class="muted">verifying…</p>';
  try {
    const { verdicts, notes } = await ask({ type: 'verify', specJson: ui.spec.value });
    ui.verifyReport.innerHTML = verdictsHtml(verdicts, notes);
  } catch (e) {
    ui.verifyReport.innerHTML = `<p class="issues">verify: ${escape(errorText(e))}</p>`;
  } finally {
    ui.verify.disabled = false;
  }
});

// ----------------------------------------------------------------------------------------------
// The fit

const setFitState = (s: FitState, text: string): void => {
  state.fit = s;
  document.body.dataset['fit'] = s;
  ui.fitStatus.textContent = text;
  ui.start.textContent = s === 'paused' ? 'resume' : 'start';
  ui.start.disabled = s === 'running' || !checkEditor() || state.rows.length / 2 < MIN_ROWS;
  ui.pause.disabled = s !== 'running' || state.control === undefined;
  const haveModel = state.model !== undefined;
  ui.downloads.safetensors.disabled = !haveModel;
  ui.downloads.logProb.disabled = !haveModel;
  ui.downloads.sample.disabled = !haveModel;
};

const drawModel = (): void => {
  const view = state.view;
  if (view === undefined || state.viewExtent === undefined) {
    clear(ui.heatmap, '#f0f2f5');
    clear(ui.samples);
    return;
  }
  drawHeat(ui.heatmap, view.logDensity);
  drawPoints(ui.heatmap, state.viewExtent, [{ rows: state.validation, colour: '#ffffff', radius: 1 }]);
  clear(ui.samples);
  drawPoints(ui.samples, state.viewExtent, [
    { rows: state.train, colour: '#cfd8e3', radius: 1.5 },
    { rows: view.samples, colour: colours.samples, radius: 1.3 },
  ]);
  document.body.dataset['drawn'] = String(Number(document.body.dataset['drawn'] ?? '0') + 1);
};

const drawHistory = (): void => {
  const series: Series[] = [
    { label: 'train (minibatch)', colour: colours.trainCurve, points: state.history.train },
    { label: 'validation', colour: colours.validationCurve, points: state.history.validation },
  ];
  if (state.baselines !== undefined) {
    series.push({ label: 'Gaussian', colour: colours.gaussian, level: state.baselines.gaussianNll });
    series.push({ label: `mixture (k = ${state.baselines.k})`, colour: colours.mixture, level: state.baselines.mixtureNll });
  }
  drawCurves(ui.curves, series, state.steps);
};

const onTrainer = (msg: TrainerMessage | WorkerReady): void => {
  switch (msg.type) {
    case 'ready':
      ui.backend.textContent = msg.backend;
      document.body.dataset['backend'] = msg.backend;
      ui.backendNote.textContent =
        (msg.features === '' ? '' : `wasm here is ${msg.features}. `) +
        (msg.skipped.length === 0 ? '' : `Passed over: ${msg.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}. `) +
        'Training runs in a Web Worker, so the page stays responsive; a second worker runs verify, the exports and model files. ' +
        'Force a backend with ?backend=webgl, ?backend=wasm or ?backend=cpu in the address.' +
        (crossOriginIsolated ? '' : ' This page is not cross-origin isolated (its host sends no COOP/COEP headers): wasm runs on one thread, and Pause, which waits on shared memory, is off (Reset still stops a fit).');
      document.body.dataset['ready'] = 'true';
      return;
    case 'baselines':
      state.baselines = msg;
      ui.gaussianNll.textContent = fmt(msg.gaussianNll);
      ui.gmmNll.textContent = `${fmt(msg.mixtureNll)} (k = ${msg.k})`;
      ui.gaussianNll.dataset['value'] = String(msg.gaussianNll);
      ui.gmmNll.dataset['value'] = String(msg.mixtureNll);
      drawHistory();
      return;
    case 'progress':
      if (msg.step > 0 && Number.isFinite(msg.trainLoss)) state.history.train.push([msg.step, msg.trainLoss]);
      if (msg.validationNll !== undefined) state.history.validation.push([msg.step, msg.validationNll]);
      ui.progress.value = msg.step / msg.steps;
      ui.valNll.textContent = fmt(msg.validationNll);
      ui.valNll.dataset['value'] = String(msg.validationNll);
      ui.stepTime.textContent = msg.step > 0 ? `${msg.msPerStep.toFixed(1)} ms` : '–';
      ui.stepTime.dataset['value'] = String(msg.msPerStep);
      document.body.dataset['step'] = String(msg.step);
      if (msg.snapshot !== undefined) {
        state.model = msg.snapshot.model;
        state.view = msg.snapshot.view;
        drawModel();
      }
      drawHistory();
      if (state.fit === 'running') setFitState('running', `step ${msg.step} of ${msg.steps}`);
      else if (state.fit === 'paused' && msg.paused) setFitState('paused', `paused at step ${msg.step} of ${msg.steps}`);
      return;
    case 'done':
      state.model = msg.model;
      state.view = msg.view;
      drawModel();
      ui.valNll.textContent = `${fmt(msg.validationNll)} (best, step ${msg.bestStep})`;
      ui.valNll.dataset['value'] = String(msg.validationNll);
      ui.stepTime.textContent = `${msg.msPerStep.toFixed(1)} ms`;
      ui.stepTime.dataset['value'] = String(msg.msPerStep);
      setFitState('done', `done: ${msg.steps} steps; the model is the one of step ${msg.bestStep}, the best on the validation points`);
      return;
    case 'failed':
      setFitState('idle', `the fit failed: ${msg.message}`);
      ui.fitStatus.dataset['error'] = msg.message;
      return;
  }
};

const start = (): void => {
  if (state.fit === 'paused' && state.control !== undefined) {
    Atomics.store(state.control, 0, 0);
    Atomics.notify(state.control, 0);
    setFitState('running', 'resumed');
    return;
  }
  if (!checkEditor()) return;
  if (state.fit === 'done' || state.fit === 'loaded') resetFit();
  // Pausing waits on a shared flag, which needs a cross-origin isolated page (npm run playground sends the headers).
  const control = crossOriginIsolated ? new SharedArrayBuffer(4) : undefined;
  state.control = control === undefined ? undefined : new Int32Array(control);
  state.steps = Math.max(1, Math.trunc(Number(ui.steps.value)) || 1);
  state.viewExtent = state.extent;
  const request: FitRequest = {
    type: 'fit',
    specJson: ui.spec.value,
    rows: Float32Array.from(state.rows),
    settings: studioSettings(
      state.steps,
      seedValue(),
      ui.objective.value === 'flow-matching' ? 'flow-matching' : 'likelihood',
      Number(ui.lr.value) || undefined,
      Math.max(1, Math.trunc(Number(ui.batch.value)) || 256),
    ),
    extent: state.extent,
    control,
  };
  trainer.postMessage(request, [request.rows.buffer]);
  setFitState('running', 'fitting the baselines (EM), then the model…');
  if (control === undefined) ui.pause.title = 'pausing needs a cross-origin isolated page (see docs/playground.md)';
};

/** Stops any fit (the trainer worker is ended and a fresh one started) and clears the pictures. */
function resetFit(): void {
  if (state.fit === 'running' || state.fit === 'paused') {
    trainer.terminate();
    startTrainer();
  }
  state.history = { train: [], validation: [] };
  state.baselines = undefined;
  state.model = undefined;
  state.view = undefined;
  ui.progress.value = 0;
  for (const el of [ui.valNll, ui.gaussianNll, ui.gmmNll, ui.stepTime]) {
    el.textContent = '–';
    delete el.dataset['value'];
  }
  drawModel();
  drawHistory();
  setFitState('idle', '');
}

ui.start.addEventListener('click', start);
ui.pause.addEventListener('click', () => {
  if (state.control === undefined) return;
  Atomics.store(state.control, 0, 1);
  setFitState('paused', 'pausing at the next evaluation…');
});
ui.reset.addEventListener('click', resetFit);

// Point at the density for log p there, computed exactly by the tools worker (not read off the
// picture). Moves made while one is computed collapse into the last, so the readout ends where the pointer stops.
let probeNext: Float32Array | undefined;
let probing = false;
const probe = async (): Promise<void> => {
  probing = true;
  while (probeNext !== undefined && state.model !== undefined) {
    const point = probeNext;
    probeNext = undefined;
    try {
      const [lp] = await ask({ type: 'logDensity', model: state.model, points: point });
      ui.probe.textContent = `log p(${(point[0] as number).toFixed(2)}, ${(point[1] as number).toFixed(2)}) = ${fmt(lp)} nats`;
      ui.probe.dataset['x'] = String(point[0]);
      ui.probe.dataset['y'] = String(point[1]);
      ui.probe.dataset['logDensity'] = String(lp);
    } catch (err) {
      ui.probe.textContent = errorText(err);
    }
  }
  probing = false;
};
ui.heatmap.addEventListener('pointermove', (e) => {
  if (state.model === undefined || state.viewExtent === undefined) return;
  probeNext = Float32Array.from(fromPixel(ui.heatmap, state.viewExtent, e.offsetX, e.offsetY));
  if (!probing) void probe();
});

// ----------------------------------------------------------------------------------------------
// Take it away: downloads, and model files dropped back in

const save = (bytes: BlobPart, name: string, type: string): void => {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

const showModelStatus = (message: string | undefined, kind: 'error' | 'info' = 'info'): void => {
  ui.modelStatus.hidden = message === undefined;
  ui.modelStatus.textContent = message ?? '';
  ui.modelStatus.classList.toggle('info', kind === 'info');
};

ui.downloads.spec.addEventListener('click', () => save(ui.spec.value, 'spec.json', 'application/json'));
const files: Record<ExportFormat, string> = { safetensors: 'model.safetensors', logProb: 'logprob.onnx', sample: 'sample.onnx' };
for (const format of ['safetensors', 'logProb', 'sample'] as const) {
  ui.downloads[format].addEventListener('click', async () => {
    if (state.model === undefined) return;
    try {
      save((await ask({ type: 'export', model: state.model, format })) as Uint8Array<ArrayBuffer>, files[format], 'application/octet-stream');
      showModelStatus(`${files[format]}: the parameters of step ${state.model.step}.`);
    } catch (e) {
      showModelStatus(`${files[format]}: ${errorText(e)}`, 'error');
    }
  });
}

const loadFile = async (file: File): Promise<void> => {
  try {
    const model = await ask({ type: 'load', bytes: new Uint8Array(await file.arrayBuffer()), name: file.name });
    resetFit();
    setSpecText(model.specJson, true);
    state.model = model;
    state.viewExtent = state.extent;
    state.view = await ask({ type: 'view', model, extent: state.extent });
    drawModel();
    setFitState('loaded', `loaded ${file.name} (parameters of step ${model.step}); start fits it again from a fresh start`);
    showModelStatus(`${file.name}: loaded, drawn over the current data.`);
  } catch (e) {
    showModelStatus(errorText(e), 'error');
  }
};
ui.modelFile.addEventListener('change', () => {
  const file = ui.modelFile.files?.[0];
  if (file !== undefined) void loadFile(file);
  ui.modelFile.value = '';
});
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const file = e.dataTransfer?.files[0];
  if (file === undefined) return;
  if (/\.(csv|txt)$/i.test(file.name)) void file.text().then((t) => ((ui.csv.value = t), useCsv(t)));
  else void loadFile(file);
});

// ----------------------------------------------------------------------------------------------
// Start

for (const name of [...Object.keys(toys), DRAWN, CSV]) ui.source.append(new Option(name, name));
for (const name of studioPresets) ui.preset.append(new Option(name, name));
ui.preset.value = 'nsf';
ui.objective.value = presetObjective('nsf');
startTrainer();
loadSource();
