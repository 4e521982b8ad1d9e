/**
 * The size of a CAFLOW model. Defaults are the reference settings of docs/caflow.md §3
 * (64x64 RGB, 4 scales, encoder depth 16, conditional depth 8, hidden 64 / 32).
 */
import type { Shape3 } from '../dsl/shape.js';

/** The model family: `caflow` (G_i conditioned on every coarser scale) or `dualglow` (Dual-Glow+: each G_i on its own scale only). */
export type Variant = 'caflow' | 'dualglow';

/** The sizes and settings a CAFLOW model is built from (`caflowSpec`). */
export interface CaflowConfig {
  /** Event shape of the target image W, [C, H, W]. */
  readonly target: Shape3;
  /** Event shape of the conditioning image Y (same H and W as the target; channels may differ). */
  readonly condition: Shape3;
  /** Number of scales n; H and W must be divisible by 2^n. */
  readonly scales: number;
  /** Glow steps per scale in the encoders R and T. */
  readonly encoderDepth: number;
  /** Conditional steps per block in the flows G_i. */
  readonly conditionalDepth: number;
  readonly encoderHidden: number;
  readonly conditionalHidden: number;
  /** 8-bit data: logit preprocessing inside the encoders (uniform dequantisation happens in training). */
  readonly dequantize: boolean;
  /** 'caflow' (cross-scale autoregressive G_i) or the 'dualglow' (Dual-Glow+) ablation. */
  readonly variant: Variant;
  /** Weight of the Y encoder's own log-likelihood in the joint objective. */
  readonly lambda: number;
  /** Soft clamp of the affine couplings and injectors. */
  readonly clamp: number;
}

/** The reference settings of docs/caflow.md §3: 64x64 RGB, 4 scales, encoder depth 16, conditional depth 8, hidden 64 / 32. */
export const referenceConfig: CaflowConfig = {
  target: [3, 64, 64],
  condition: [3, 64, 64],
  scales: 4,
  encoderDepth: 16,
  conditionalDepth: 8,
  encoderHidden: 64,
  conditionalHidden: 32,
  dequantize: true,
  variant: 'caflow',
  lambda: 1e-3,
  clamp: 2,
};

/** The reference config with `overrides` applied. */
export const caflowConfig = (overrides: Partial<CaflowConfig> = {}): CaflowConfig => ({ ...referenceConfig, ...overrides });
