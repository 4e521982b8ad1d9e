/**
 * The playground page: pick a task, draw or pick a digit, and sample k CAFLOW translations ranked by
 * log p(W | Y). The maths is all in session.ts and the library; this file is the DOM around it.
 */
import * as tf from '@tensorflow/tfjs';
import { rankedSamplesSpec } from '../../src/plots/ranked-samples.js';
import type { TaskName } from '../../src/tasks/index.js';
import { CheckpointIndex, decodeAsset, Examples, exampleImages, type ModelEntry } from './assets.js';
import { chooseBackend, isBrowserBackend } from './backend.js';
import { isEngineName, loadEngine } from './onnx-engine.js';
import { drawPlot, type DrawnPlot } from './plot.js';
import { boundingBox, boxDownsample, centreLikeMnist } from './digit.js';
import { conditionOf, disposeModel, errorText, readModelFile, sampleRanked, type PlaygroundModel, type RankedSample, type SampleEngine } from './session.js';
import { byId } from './dom.js';

const SIZE = 32;
const PAD = 256;
const BRUSH = 20; // MNIST strokes are ~2.5 px wide at 32 px: 20 px on the 256 px pad.

const ui = {
  backend: byId<HTMLElement>('backend'),
  backendNote: byId<HTMLElement>('backend-note'),
  task: byId<HTMLSelectElement>('task'),
  modelInfo: byId<HTMLElement>('model-info'),
  modelFile: byId<HTMLInputElement>('model-file'),
  pad: byId<HTMLCanvasElement>('pad'),
  condition: byId<HTMLCanvasElement>('condition'),
  clear: byId<HTMLButtonElement>('clear'),
  centre: byId<HTMLButtonElement>('centre'),
  examples: byId<HTMLElement>('examples'),
  temperature: byId<HTMLInputElement>('temperature'),
  temperatureValue: byId<HTMLOutputElement>('temperature-value'),
  k: byId<HTMLInputElement>('k'),
  kNote: byId<HTMLElement>('k-note'),
  engineNote: byId<HTMLElement>('engine-note'),
  seed: byId<HTMLInputElement>('seed'),
  sample: byId<HTMLButtonElement>('sample'),
  progress: byId<HTMLProgressElement>('progress'),
  progressText: byId<HTMLElement>('progress-text'),
  status: byId<HTMLElement>('status'),
  results: byId<HTMLElement>('results'),
  costPlot: byId<HTMLElement>('cost-plot'),
};

interface State {
  task: TaskName;
  model: PlaygroundModel | undefined;
  index: CheckpointIndex | undefined;
  examples: Examples | undefined;
  busy: boolean;
}
const state: State = { task: 'sr', model: undefined, index: undefined, examples: undefined, busy: false };

const channelsOf = (task: TaskName): number => (task === 'colorize' ? 3 : 1);

const showStatus = (message: string | undefined, kind: 'error' | 'info' = 'error'): void => {
  ui.status.hidden = message === undefined;
  ui.status.textContent = message ?? '';
  ui.status.className = `status ${kind}`;
  ui.status.dataset['kind'] = kind;
};

// ---- images <-> canvases ----

/** HWC bytes (1 or 3 channels) as RGBA on a size x size canvas. */
const putImage = (canvas: HTMLCanvasElement, bytes: Uint8Array, size: number, channels: number): void => {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    for (let ch = 0; ch < 3; ch++) rgba[p * 4 + ch] = bytes[p * channels + (channels === 3 ? ch : 0)] as number;
    rgba[p * 4 + 3] = 255;
  }
  ctx.putImageData(new ImageData(rgba, size, size), 0, 0);
};

const padContext = (): CanvasRenderingContext2D => {
  const ctx = ui.pad.getContext('2d', { willReadFrequently: true });
  if (ctx === null) throw new Error('this browser gives no 2D canvas');
  return ctx;
};

const clearPad = (): void => {
  const ctx = padContext();
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, PAD, PAD);
};

/** Shows a 32x32 image on the 256 px pad, blocky, so drawing over it keeps its pixels. */
const imageToPad = (bytes: Uint8Array, channels: number): void => {
  const small = document.createElement('canvas');
  putImage(small, bytes, SIZE, channels);
  const ctx = padContext();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, PAD, PAD);
};

/** The pad's RGB channels, each PAD x PAD. */
const padChannels = (): [Uint8Array, Uint8Array, Uint8Array] => {
  const data = padContext().getImageData(0, 0, PAD, PAD).data;
  const planes: [Uint8Array, Uint8Array, Uint8Array] = [new Uint8Array(PAD * PAD), new Uint8Array(PAD * PAD), new Uint8Array(PAD * PAD)];
  for (let p = 0; p < PAD * PAD; p++) for (let ch = 0; ch < 3; ch++) planes[ch]![p] = data[p * 4 + ch] as number;
  return planes;
};

/** W: the pad shrunk to 32x32 (HWC bytes with the task's channel count). */
const targetFromPad = (): Uint8Array => {
  const channels = channelsOf(state.task);
  const planes = padChannels().slice(0, channels).map((plane) => boxDownsample(plane, PAD, SIZE));
  const out = new Uint8Array(SIZE * SIZE * channels);
  for (let p = 0; p < SIZE * SIZE; p++) for (let ch = 0; ch < channels; ch++) out[p * channels + ch] = planes[ch]![p] as number;
  return out;
};

// ---- condition ----

/** The pixels a task hides, found once per task by applying it to a white image (inpainting zeroes them). */
const hiddenRegions = new Map<TaskName, ReturnType<typeof boundingBox>>();
const hiddenRegion = (task: TaskName): ReturnType<typeof boundingBox> => {
  if (task !== 'inpaint-center' && task !== 'inpaint-right') return undefined;
  if (!hiddenRegions.has(task)) {
    const y = conditionOf(task, new Uint8Array(SIZE * SIZE).fill(255), [SIZE, SIZE, 1]);
    hiddenRegions.set(task, boundingBox(y.map((v) => 255 - v), SIZE, 0));
  }
  return hiddenRegions.get(task);
};

const updateCondition = (): void => {
  const channels = channelsOf(state.task);
  const y = conditionOf(state.task, targetFromPad(), [SIZE, SIZE, channels]);
  const small = document.createElement('canvas');
  putImage(small, y, SIZE, y.length / (SIZE * SIZE));
  // Drawn large so the outline of the hidden region is crisp.
  const ctx = ui.condition.getContext('2d');
  if (ctx === null) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, PAD, PAD);
  const hidden = hiddenRegion(state.task);
  if (hidden !== undefined) {
    const f = PAD / SIZE;
    ctx.strokeStyle = '#ef4444';
    ctx.setLineDash([8, 6]);
    ctx.lineWidth = 3;
    ctx.strokeRect(hidden.x0 * f + 1.5, hidden.y0 * f + 1.5, (hidden.x1 - hidden.x0) * f - 3, (hidden.y1 - hidden.y0) * f - 3);
    ctx.setLineDash([]);
  }
  ui.condition.dataset['ready'] = 'true';
};

// ---- drawing ----

const installDrawing = (): void => {
  let last: { x: number; y: number } | undefined;
  const at = (e: PointerEvent): { x: number; y: number } => {
    const r = ui.pad.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * PAD, y: ((e.clientY - r.top) / r.height) * PAD };
  };
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }): void => {
    const ctx = padContext();
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = BRUSH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  };
  ui.pad.addEventListener('pointerdown', (e) => {
    ui.pad.setPointerCapture(e.pointerId);
    last = at(e);
    stroke(last, last);
  });
  ui.pad.addEventListener('pointermove', (e) => {
    if (last === undefined) return;
    const p = at(e);
    stroke(last, p);
    last = p;
  });
  const end = (): void => {
    if (last === undefined) return;
    last = undefined;
    updateCondition();
  };
  ui.pad.addEventListener('pointerup', end);
  ui.pad.addEventListener('pointercancel', end);
  ui.clear.addEventListener('click', () => {
    clearPad();
    updateCondition();
  });
  ui.centre.addEventListener('click', () => {
    // Grey tasks only: the luma of the drawing, rescaled and centred as MNIST's digits are.
    const grey = padChannels()[0];
    imageToPad(centreLikeMnist(grey, PAD), 1);
    updateCondition();
  });
};

// ---- examples ----

const showExamples = (): void => {
  ui.examples.replaceChildren();
  if (state.examples === undefined) return;
  const set = state.task === 'colorize' ? state.examples.colour : state.examples.grey;
  exampleImages(set).forEach((bytes, i) => {
    const c = document.createElement('canvas');
    putImage(c, bytes, set.size, set.channels);
    c.title = `held-out digit ${i + 1}`;
    c.dataset['testid'] = 'example';
    c.addEventListener('click', () => {
      imageToPad(bytes, set.channels);
      updateCondition();
    });
    ui.examples.append(c);
  });
};

const pickFirstExample = (): void => {
  const first = ui.examples.querySelector('canvas');
  if (first !== null) first.dispatchEvent(new MouseEvent('click'));
  else updateCondition();
};

// ---- models ----

/** The held-out NLL of a bundled model, with its convention named (bound or mid-bin). */
const nllLabel = (entry: ModelEntry): string | undefined =>
  entry.bitsPerDim != null
    ? `held-out NLL ${entry.bitsPerDim} bits/dim (bound: uniform dequantisation, as typed-flows eval reports)`
    : entry.midBinBitsPerDim != null
      ? `held-out NLL ${entry.midBinBitsPerDim} bits/dim (mid-bin, u = 0.5: lower than the bound typed-flows eval reports)`
      : undefined;

/** What a task's bundled model cannot do yet, said where its samples are shown. */
const TASK_WARNINGS: Partial<Record<TaskName, string>> = {
  colorize: 'Undertrained: after 1500 steps its samples are blotchy, multicoloured strokes on muddy backgrounds, not clean coloured digits (docs/experiments.md).',
};

const describe = (m: PlaygroundModel, entry: ModelEntry | undefined): HTMLElement[] => {
  const name = m.variant === 'caflow' ? 'CAFLOW' : 'Dual-Glow+';
  const trained = entry?.trainMinutes != null ? ` (${entry.trainMinutes} min on 2 CPU cores)` : '';
  const text = document.createElement('span');
  text.textContent = `${name} for '${m.task}', ${m.step} training steps${trained}. Source: ${m.source}. `;
  const parts: HTMLElement[] = [text];
  const nll = entry === undefined ? undefined : nllLabel(entry);
  if (nll !== undefined) {
    const label = document.createElement('span');
    label.dataset['testid'] = 'model-nll';
    label.textContent = `${nll}. `;
    parts.push(label);
  }
  const warning = TASK_WARNINGS[m.task];
  if (warning !== undefined) {
    const w = document.createElement('strong');
    w.dataset['testid'] = 'model-warning';
    w.textContent = warning;
    parts.push(w);
  }
  return parts;
};

const useModel = (m: PlaygroundModel, entry: ModelEntry | undefined): void => {
  if (state.model !== undefined) disposeModel(state.model);
  state.model = m;
  ui.modelInfo.replaceChildren(...describe(m, entry));
  ui.temperature.value = String(m.temperature);
  ui.temperatureValue.textContent = m.temperature.toFixed(2);
  ui.sample.disabled = state.busy;
  document.body.dataset['model'] = m.task;
};

const dropModel = (why: string): void => {
  if (state.model !== undefined) disposeModel(state.model);
  state.model = undefined;
  ui.modelInfo.textContent = why;
  ui.sample.disabled = true;
  delete document.body.dataset['model'];
};

const fetchBytes = async (url: string): Promise<Uint8Array> => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
};

const loadBundledModel = async (task: TaskName): Promise<void> => {
  const entry = state.index?.models.find((m) => m.task === task);
  if (entry === undefined) {
    dropModel(`no bundled model for '${task}': load your own below.`);
    showStatus(`This build ships no model for '${task}'. Train one (docs/playground.md) and load its file below.`);
    return;
  }
  ui.modelInfo.textContent = `loading ${entry.file}…`;
  try {
    const m = readModelFile(await fetchBytes(entry.file), entry.file, task);
    if (state.task === task) useModel(m, entry);
    else disposeModel(m); // the user switched task while it loaded
  } catch (e) {
    dropModel('no model loaded');
    showStatus(errorText(e));
  }
};

const loadUserModel = async (file: File): Promise<void> => {
  showStatus(undefined);
  try {
    useModel(readModelFile(new Uint8Array(await file.arrayBuffer()), file.name, state.task), undefined);
    showStatus(`Loaded ${file.name}.`, 'info');
  } catch (e) {
    // Keep whatever model was loaded before: a bad file loses nothing.
    showStatus(errorText(e));
  } finally {
    ui.modelFile.value = '';
  }
};

// ---- sampling ----

/** The plot of the last samples' costs, removed when the samples are. */
let costPlot: DrawnPlot | undefined;

const clearCostPlot = (): void => {
  costPlot?.remove();
  costPlot = undefined;
  ui.costPlot.hidden = true;
  delete ui.costPlot.dataset['state'];
};

/** The samples' costs against their rank, from the library's spec; a failure costs only the plot. */
const plotCosts = async (samples: readonly RankedSample[], temperature: number): Promise<void> => {
  clearCostPlot();
  ui.costPlot.hidden = false;
  const spec = rankedSamplesSpec(
    samples.map((s, i) => ({ rank: i + 1, bitsPerDim: s.bitsPerDim })),
    { subtitle: `${samples.length} samples at temperature ${temperature.toFixed(2)}, as shown above` },
  );
  try {
    costPlot = await drawPlot(ui.costPlot, spec);
    ui.costPlot.dataset['state'] = 'drawn';
  } catch (e) {
    ui.costPlot.textContent = `The plot could not be drawn: ${errorText(e)}`;
    ui.costPlot.dataset['state'] = 'failed';
  }
};

const renderResults = (samples: readonly RankedSample[], channels: number): void => {
  ui.results.replaceChildren(
    ...samples.map((s, rank) => {
      const fig = document.createElement('figure');
      fig.className = rank === 0 ? 'sample best' : 'sample';
      fig.dataset['testid'] = 'result';
      fig.dataset['logLikelihood'] = String(s.logLikelihood);
      const c = document.createElement('canvas');
      putImage(c, s.image, SIZE, channels);
      const caption = document.createElement('figcaption');
      caption.innerHTML = `#${rank + 1}<br>log p = <span data-testid="log-likelihood">${s.logLikelihood.toFixed(1)}</span> nats<br>${s.bitsPerDim.toFixed(3)} bits/dim`;
      fig.append(c, caption);
      return fig;
    }),
  );
};

const runSampling = async (): Promise<void> => {
  const m = state.model;
  if (m === undefined || state.busy) return;
  const k = readK();
  const temperature = Number(ui.temperature.value);
  const seed = Math.max(0, Math.round(Number(ui.seed.value) || 0));
  state.busy = true;
  ui.sample.disabled = true;
  ui.progress.hidden = false;
  ui.progress.value = 0;
  ui.progressText.textContent = `sampling 0/${k}…`;
  ui.results.dataset['state'] = 'sampling';
  showStatus(undefined);
  const began = performance.now();
  try {
    const condition = conditionOf(state.task, targetFromPad(), m.imageShape);
    const samples = await sampleRanked(
      m,
      condition,
      { k, temperature, seed, chunk: 2 },
      async (done, total) => {
        ui.progress.value = done / total;
        ui.progressText.textContent = `sampling ${done}/${total}…`;
        await tf.nextFrame(); // let the page paint the progress
      },
      engine,
    );
    renderResults(samples, m.imageShape[2]);
    await plotCosts(samples, temperature);
    ui.progressText.textContent = `${k} samples in ${((performance.now() - began) / 1000).toFixed(1)} s on ${engine.kind === 'onnx' ? 'ONNX Runtime Web' : tf.getBackend()}`;
    ui.results.dataset['state'] = 'done';
  } catch (e) {
    showStatus(`Sampling failed: ${errorText(e)}`);
    ui.results.dataset['state'] = 'failed';
  } finally {
    state.busy = false;
    ui.sample.disabled = state.model === undefined;
    ui.progress.hidden = true;
  }
};

/** The most samples one press draws: more would not fit a phone's GPU memory at once. */
const MAX_K = 32;

/** k from its field, brought into 1..MAX_K; the field shows the value used, and a note says why it changed. */
const readK = (): number => {
  const asked = Math.round(Number(ui.k.value));
  const k = Number.isFinite(asked) && asked >= 1 ? Math.min(MAX_K, asked) : 8;
  ui.kNote.hidden = String(k) === ui.k.value;
  ui.kNote.textContent = ui.kNote.hidden ? '' : `k = ${ui.k.value} is outside 1–${MAX_K}: ${k} are drawn (the page's limit; \`typed-flows sample --k\` takes more).`;
  ui.k.value = String(k);
  return k;
};

/** The empty results panel: what pressing Sample will do. */
const placeholder = ui.results.querySelector('[data-testid="results-placeholder"]');

// ---- wiring ----

const setTask = async (task: TaskName): Promise<void> => {
  state.task = task;
  showStatus(undefined);
  ui.results.replaceChildren(...(placeholder === null ? [] : [placeholder]));
  clearCostPlot();
  delete ui.results.dataset['state'];
  ui.centre.disabled = task === 'colorize';
  clearPad();
  showExamples();
  pickFirstExample();
  await loadBundledModel(task);
};

/** Where samples are computed: the tfjs interpreters (default) or, with ?engine=onnx, ONNX Runtime Web. */
let engine: SampleEngine = { kind: 'tfjs' };

const start = async (): Promise<void> => {
  const asked = new URLSearchParams(location.search).get('backend');
  const engineAsked = new URLSearchParams(location.search).get('engine');
  try {
    const choice = await chooseBackend(isBrowserBackend(asked) ? asked : undefined);
    ui.backend.textContent = choice.name;
    ui.backendNote.textContent = choice.skipped.length > 0 ? `(${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : '';
    document.body.dataset['backend'] = choice.name;
  } catch (e) {
    ui.backend.textContent = 'none';
    showStatus(errorText(e));
    return;
  }
  if (isEngineName(engineAsked) && engineAsked !== 'tfjs') {
    try {
      engine = await loadEngine(engineAsked);
      ui.backend.textContent = `${ui.backend.textContent ?? ''}; samples on ONNX Runtime Web`;
      ui.engineNote.textContent =
        "Samples come from the model's exported ONNX graph on ONNX Runtime Web, not the tfjs interpreters: the same noise gives the same samples, which checks that the exported file is faithful. Remove ?engine=onnx for the default.";
    } catch (e) {
      showStatus(`ONNX Runtime Web could not be loaded (${errorText(e)}); sampling with tfjs.`);
    }
  }
  document.body.dataset['engine'] = engine.kind;
  try {
    state.index = decodeAsset(CheckpointIndex, await (await fetch('checkpoints/index.json')).json(), 'checkpoints/index.json');
    state.examples = decodeAsset(Examples, await (await fetch('examples.json')).json(), 'examples.json');
  } catch (e) {
    showStatus(`The bundled files could not be read (${errorText(e)}); you can still load your own model.`);
  }
  installDrawing();
  ui.task.addEventListener('change', () => void setTask(ui.task.value as TaskName));
  ui.modelFile.addEventListener('change', () => {
    const file = ui.modelFile.files?.[0];
    if (file !== undefined) void loadUserModel(file);
  });
  ui.temperature.addEventListener('input', () => {
    ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(2);
  });
  ui.sample.addEventListener('click', () => void runSampling());
  ui.k.addEventListener('change', () => void readK());
  await setTask(ui.task.value as TaskName);
  document.body.dataset['ready'] = 'true';
};

void start();
