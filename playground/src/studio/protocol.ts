/**
 * The messages between the studio page and its workers. Parameters cross as flat, transferable
 * arrays (dotted path -> shape and float32 values), the spec as the codec's JSON text: nothing with a
 * tensor inside crosses, so each side keeps its own tfjs backend.
 */

/** A parameter tree as plain arrays: its dotted paths ("flow.0.net.0.kernel"), shapes and values. */
export type FlatParams = Readonly<Record<string, { readonly shape: readonly number[]; readonly values: Float32Array }>>;

/** A fitted (or loaded) model: the distribution's JSON text, its parameters and the step they come from. */
export interface StudioModel {
  readonly specJson: string;
  readonly params: FlatParams;
  readonly step: number;
}

/** The window of the plane the density is drawn on. */
export interface Extent {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

/** Pixels per side of the log-density grid. */
export const GRID = 72;

/** What the page draws of a model: log p on the grid (row-major, top row first) and samples (x, y pairs). */
export interface ModelView {
  readonly logDensity: Float32Array;
  readonly samples: Float32Array;
}

/** How a fit runs: the fit options the page exposes (the rest are fit's defaults). */
export interface FitSettings {
  readonly steps: number;
  readonly seed: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly evalEvery: number;
  readonly objective: 'likelihood' | 'flow-matching';
}

/** Page -> trainer: start a fit. `control[0]` is 1 while paused (the worker waits on it). */
export interface FitRequest {
  readonly type: 'fit';
  readonly specJson: string;
  /** The rows, x and y interleaved. */
  readonly rows: Float32Array;
  readonly settings: FitSettings;
  readonly extent: Extent;
  readonly control: SharedArrayBuffer | undefined;
}

/** Trainer -> page, in order: baselines once, progress at every evaluation, then done or failed. */
export type TrainerMessage =
  | { readonly type: 'baselines'; readonly gaussianNll: number; readonly mixtureNll: number; readonly k: number }
  | {
      readonly type: 'progress';
      readonly step: number;
      readonly steps: number;
      readonly trainLoss: number;
      readonly validationNll: number | undefined;
      /** Wall time per training step so far (validation included, drawing and pauses left out). */
      readonly msPerStep: number;
      /** Whether the worker waits after this report (it saw the pause flag). */
      readonly paused: boolean;
      /** The current model and its picture (sent a few times a second, and when pausing). */
      readonly snapshot: { readonly model: StudioModel; readonly view: ModelView } | undefined;
    }
  | {
      readonly type: 'done';
      readonly model: StudioModel;
      readonly view: ModelView;
      readonly validationNll: number | undefined;
      readonly bestStep: number;
      readonly steps: number;
      readonly msPerStep: number;
    }
  | { readonly type: 'failed'; readonly message: string };

/** Page -> tools worker: one job, answered by a ToolReply with the same id. */
export type ToolRequest =
  | { readonly type: 'verify'; readonly specJson: string }
  | { readonly type: 'export'; readonly model: StudioModel; readonly format: ExportFormat }
  | { readonly type: 'load'; readonly bytes: Uint8Array; readonly name: string }
  | { readonly type: 'view'; readonly model: StudioModel; readonly extent: Extent }
  | { readonly type: 'logDensity'; readonly model: StudioModel; readonly points: Float32Array };

/** The files the page downloads of a fitted model. */
export type ExportFormat = 'safetensors' | 'logProb' | 'sample';

/** One law `verify` checked on one flow of the distribution. */
export interface VerifyVerdict {
  /** Where the flow is in the distribution's JSON ($.base.flow). */
  readonly flow: string;
  readonly law: string;
  readonly passed: boolean;
  readonly worst: number;
  readonly tolerance: number;
  /** The first layer where a failing law fails, when verify names one. */
  readonly layer: string | undefined;
  readonly detail: string;
}

/** What each tool job answers. */
export interface ToolResults {
  readonly verify: { readonly verdicts: readonly VerifyVerdict[]; readonly notes: readonly string[] };
  readonly export: Uint8Array;
  readonly load: StudioModel;
  readonly view: ModelView;
  readonly logDensity: Float32Array;
}

/** Tools worker -> page. */
export type ToolReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly message: string };

/** Either worker -> page, once its backend is chosen. */
export interface WorkerReady {
  readonly type: 'ready';
  readonly backend: string;
  /** For wasm: whether it runs threaded and with SIMD here. */
  readonly features: string;
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}
