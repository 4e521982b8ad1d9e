/**
 * LPIPS (Zhang et al. 2018), as the `lpips` PyTorch package computes it with net='alex', version 0.1,
 * as a pure function of a weights object (no pretrained weights ship with typed-flows):
 *
 *   x in [-1, 1] (8-bit images: x = v / 127.5 - 1, lpips.im2tensor) -> (x - shift) / scale
 *   -> AlexNet features (torchvision alexnet.features 0..11, cut as lpips.pretrained_networks.alexnet):
 *        slice1 = conv0 11x11/4 pad 2 (3->64), ReLU                          -> f1
 *        slice2 = maxpool 3/2, conv3 5x5 pad 2 (64->192), ReLU               -> f2
 *        slice3 = maxpool 3/2, conv6 3x3 pad 1 (192->384), ReLU              -> f3
 *        slice4 = conv8 3x3 pad 1 (384->256), ReLU                           -> f4
 *        slice5 = conv10 3x3 pad 1 (256->256), ReLU                          -> f5
 *   -> per layer l: unit-normalise over channels f / (|f|_2 + 1e-10) for both images, squared
 *      difference, 1x1 conv lin_l (C_l -> 1, no bias), mean over H x W; LPIPS = sum over the 5 layers.
 *
 * PyTorch pads convolutions symmetrically; tfjs 'same' pads asymmetrically for even totals, so every
 * conv is an explicit tf.pad followed by a 'valid' conv. Max-pools have no padding and floor their
 * output size, which is tfjs 'valid'. Grey images are repeated to 3 channels.
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, type SafeTensor } from '../io/safetensors.js';

interface ConvLayer {
  /** The state_dict prefix of the conv in lpips.LPIPS(net='alex'). */
  readonly key: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  /** Whether a 3x3 stride-2 max-pool precedes the conv (the first op of slice2 and slice3). */
  readonly poolBefore: boolean;
}

export const LPIPS_ALEX_CONVS: readonly ConvLayer[] = [
  { key: 'net.slice1.0', inChannels: 3, outChannels: 64, kernel: 11, stride: 4, pad: 2, poolBefore: false },
  { key: 'net.slice2.3', inChannels: 64, outChannels: 192, kernel: 5, stride: 1, pad: 2, poolBefore: true },
  { key: 'net.slice3.6', inChannels: 192, outChannels: 384, kernel: 3, stride: 1, pad: 1, poolBefore: true },
  { key: 'net.slice4.8', inChannels: 384, outChannels: 256, kernel: 3, stride: 1, pad: 1, poolBefore: false },
  { key: 'net.slice5.10', inChannels: 256, outChannels: 256, kernel: 3, stride: 1, pad: 1, poolBefore: false },
];

/** lpips.ScalingLayer's constants (ImageNet statistics mapped to [-1, 1]). */
export const LPIPS_SHIFT: readonly number[] = [-0.03, -0.088, -0.188];
export const LPIPS_SCALE: readonly number[] = [0.458, 0.448, 0.45];
/** lpips.normalize_tensor's epsilon. */
export const LPIPS_EPS = 1e-10;

/** The 1x1 "lin" layers: lin{l}.model.1 (model.0 is the Dropout, inactive in eval mode). */
const linKey = (l: number): string => `lin${l}.model.1.weight`;

export interface LpipsWeights {
  /** Conv kernels in tfjs layout [kh, kw, in, out] and biases [out], in LPIPS_ALEX_CONVS order. */
  readonly convs: ReadonlyArray<{ readonly kernel: tf.Tensor4D; readonly bias: tf.Tensor1D }>;
  /** lin0..lin4 as [1, 1, C_l, 1] kernels. */
  readonly lins: readonly tf.Tensor4D[];
  readonly shift: tf.Tensor1D;
  readonly scale: tf.Tensor1D;
}

/** The tensor names and PyTorch shapes a weights file must hold (the state_dict of lpips.LPIPS(net='alex')). */
export const lpipsExpectedTensors = (): Map<string, readonly number[]> => {
  const m = new Map<string, readonly number[]>();
  for (const c of LPIPS_ALEX_CONVS) {
    m.set(`${c.key}.weight`, [c.outChannels, c.inChannels, c.kernel, c.kernel]);
    m.set(`${c.key}.bias`, [c.outChannels]);
  }
  LPIPS_ALEX_CONVS.forEach((c, l) => m.set(linKey(l), [1, c.outChannels, 1, 1]));
  return m;
};

/**
 * What the state_dict also holds, accepted when present: the scaling buffers (used), and lins.{l}, the
 * same lin layers registered a second time through lpips.LPIPS's nn.ModuleList (must equal lin{l}).
 */
const OPTIONAL: ReadonlyMap<string, readonly number[]> = new Map<string, readonly number[]>([
  ['scaling_layer.shift', [1, 3, 1, 1]],
  ['scaling_layer.scale', [1, 3, 1, 1]],
  ...LPIPS_ALEX_CONVS.map((c, l): [string, readonly number[]] => [`lins.${l}.model.1.weight`, [1, c.outChannels, 1, 1]]),
]);

const sameValues = (a: SafeTensor, b: SafeTensor): boolean => a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** OIHW (PyTorch) -> HWIO (tfjs). */
const toHwio = (t: SafeTensor): tf.Tensor4D => tf.tidy(() => tf.transpose(tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]), [2, 3, 1, 0]));

/**
 * Validates named tensors against the LPIPS-alex state_dict and converts them. Every missing, extra,
 * misshaped or non-float tensor is listed in one CheckpointError. The caller owns the returned tensors
 * (disposeLpipsWeights).
 */
export const lpipsWeightsFromTensors = (tensors: ReadonlyMap<string, SafeTensor>): LpipsWeights => {
  const expected = lpipsExpectedTensors();
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (t === undefined) problems.push(`missing tensor "${name}" (shape [${shape.join(',')}])`);
  }
  for (const [name, t] of tensors) {
    const shape = expected.get(name) ?? OPTIONAL.get(name);
    if (shape === undefined) {
      problems.push(`unexpected tensor "${name}" (shape [${t.shape.join(',')}]): not part of lpips.LPIPS(net='alex')`);
      continue;
    }
    if (t.dtype !== 'F32') problems.push(`tensor "${name}" has dtype ${t.dtype}, expected F32`);
    if (!sameShape(t.shape, shape)) problems.push(`tensor "${name}" has shape [${t.shape.join(',')}], expected [${shape.join(',')}] (PyTorch layout)`);
  }
  if (problems.length === 0) {
    LPIPS_ALEX_CONVS.forEach((_, l) => {
      const alias = tensors.get(`lins.${l}.model.1.weight`);
      if (alias !== undefined && !sameValues(alias, tensors.get(linKey(l)) as SafeTensor))
        problems.push(`tensors "lins.${l}.model.1.weight" and "${linKey(l)}" differ; in lpips.LPIPS they are the same layer`);
    });
  }
  if (problems.length > 0) throw new CheckpointError("not LPIPS weights for net='alex'", problems);

  const get = (name: string): SafeTensor => tensors.get(name) as SafeTensor;
  const shiftT = tensors.get('scaling_layer.shift');
  const scaleT = tensors.get('scaling_layer.scale');
  return {
    convs: LPIPS_ALEX_CONVS.map((c) => ({ kernel: toHwio(get(`${c.key}.weight`)), bias: tf.tensor1d(get(`${c.key}.bias`).data as Float32Array) })),
    lins: LPIPS_ALEX_CONVS.map((_, l) => toHwio(get(linKey(l)))),
    shift: tf.tensor1d(shiftT === undefined ? [...LPIPS_SHIFT] : Array.from(shiftT.data)),
    scale: tf.tensor1d(scaleT === undefined ? [...LPIPS_SCALE] : Array.from(scaleT.data)),
  };
};

export const disposeLpipsWeights = (w: LpipsWeights): void => {
  tf.dispose([...w.convs.flatMap((c) => [c.kernel, c.bias]), ...w.lins, w.shift, w.scale]);
};

const convOut = (size: number, kernel: number, stride: number, pad: number): number => Math.floor((size + 2 * pad - kernel) / stride) + 1;
const poolOut = (size: number): number => Math.floor((size - 3) / 2) + 1;

/**
 * [height, width] of the five feature maps for an HxW input, or a RangeError when a pool or conv would
 * get less than its window (PyTorch fails there too). AlexNet needs at least 31x31: 32x32 gives maps of
 * 7, 1, 1, 1, 1 pixels per side.
 */
export const lpipsFeatureSizes = (height: number, width: number): Array<readonly [number, number]> => {
  const sizes: Array<readonly [number, number]> = [];
  let h = height;
  let w = width;
  for (const c of LPIPS_ALEX_CONVS) {
    if (c.poolBefore) {
      if (h < 3 || w < 3) break;
      h = poolOut(h);
      w = poolOut(w);
    }
    if (h + 2 * c.pad < c.kernel || w + 2 * c.pad < c.kernel) break;
    h = convOut(h, c.kernel, c.stride, c.pad);
    w = convOut(w, c.kernel, c.stride, c.pad);
    sizes.push([h, w]);
  }
  if (sizes.length < LPIPS_ALEX_CONVS.length) {
    throw new RangeError(`LPIPS (AlexNet): ${height}x${width} images are too small; AlexNet's convolutions and max-pools need at least 31x31 pixels`);
  }
  return sizes;
};

/** The five ReLU feature maps of AlexNet for images already scaled to [-1, 1] with 3 channels. */
const features = (w: LpipsWeights, x: tf.Tensor4D): tf.Tensor4D[] => {
  const out: tf.Tensor4D[] = [];
  let h: tf.Tensor4D = tf.div(tf.sub(x, w.shift), w.scale);
  LPIPS_ALEX_CONVS.forEach((c, i) => {
    if (c.poolBefore) h = tf.maxPool(h, 3, 2, 'valid');
    const conv = w.convs[i] as { kernel: tf.Tensor4D; bias: tf.Tensor1D };
    const padded = tf.pad(h, [[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]]);
    h = tf.relu(tf.add(tf.conv2d(padded, conv.kernel, c.stride, 'valid'), conv.bias)) as tf.Tensor4D;
    out.push(h);
  });
  return out;
};

const unitNormalise = (f: tf.Tensor4D): tf.Tensor4D => tf.div(f, tf.add(tf.sqrt(tf.sum(tf.square(f), 3, true)), LPIPS_EPS)) as tf.Tensor4D;

/** 8-bit NHWC (grey or RGB) -> [-1, 1] with 3 channels. */
const toUnitRange = (x: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const f = tf.sub(tf.div(tf.cast(x, 'float32'), 127.5), 1) as tf.Tensor4D;
    return f.shape[3] === 1 ? tf.tile(f, [1, 1, 1, 3]) : f;
  });

export interface LpipsOptions {
  /** Images pushed through AlexNet at once (bounds memory on large images). Default 16. */
  readonly batchSize?: number;
}

/**
 * LPIPS distance of each image pair of 8-bit NHWC images (values 0..255, 1 or 3 channels, at least
 * 31x31). Returns one distance per image; leaves no tensors behind.
 */
export const lpipsPerImage = (w: LpipsWeights, a: tf.Tensor4D, b: tf.Tensor4D, o: LpipsOptions = {}): Float32Array => {
  if (a.shape.length !== 4 || a.shape.some((d, i) => d !== b.shape[i]))
    throw new RangeError(`LPIPS: images must have the same NHWC shape, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  const [n, height, width, channels] = a.shape;
  if (channels !== 1 && channels !== 3) throw new RangeError(`LPIPS: images must have 1 or 3 channels, got ${channels}`);
  lpipsFeatureSizes(height, width);
  const batch = Math.max(1, o.batchSize ?? 16);
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const d = tf.tidy(() => {
      const x = toUnitRange(tf.slice(a, [start, 0, 0, 0], [size, -1, -1, -1]));
      const y = toUnitRange(tf.slice(b, [start, 0, 0, 0], [size, -1, -1, -1]));
      const fx = features(w, x);
      const fy = features(w, y);
      const perLayer = fx.map((f, l) => {
        const diff = tf.square(tf.sub(unitNormalise(f), unitNormalise(fy[l] as tf.Tensor4D))) as tf.Tensor4D;
        return tf.mean(tf.conv2d(diff, w.lins[l] as tf.Tensor4D, 1, 'valid'), [1, 2, 3]);
      });
      return tf.addN(perLayer);
    });
    out.set(d.dataSync() as Float32Array, start);
    d.dispose();
  }
  return out;
};

/** Mean LPIPS over the image pairs. */
export const lpips = (w: LpipsWeights, a: tf.Tensor4D, b: tf.Tensor4D, o: LpipsOptions = {}): number => {
  const d = lpipsPerImage(w, a, b, o);
  if (d.length === 0) throw new RangeError('LPIPS: no images');
  return d.reduce((s, x) => s + x, 0) / d.length;
};
