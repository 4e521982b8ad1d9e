/**
 * Parameters read out of a params tree into float32 arrays for initializers, with an error naming the
 * spec path (and parameter path) when the tree does not hold what the spec needs.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamRecord, ParamTree } from '../../dsl/params.js';
import { OnnxExportError } from './errors.js';

/** Where a lowering is, for messages and initializer names. */
export interface At {
  readonly path: string;
  readonly paramPath: string;
}

export const recordAt = (params: ParamTree | undefined, at: At): ParamRecord => {
  if (params === undefined || params instanceof tf.Tensor || Array.isArray(params))
    throw new OnnxExportError(at.path, `expected the parameters of this layer at '${at.paramPath}', found ${params === undefined ? 'none' : 'another structure'}`);
  return params as ParamRecord;
};

export const tensorAt = (p: ParamRecord, name: string, at: At): tf.Tensor => {
  const t = p[name];
  if (!(t instanceof tf.Tensor)) throw new OnnxExportError(at.path, `missing parameter '${name}' at '${at.paramPath}'`);
  return t;
};

export const groupAt = (p: ParamRecord, name: string, at: At): ParamRecord => {
  const t = p[name];
  if (t === undefined || t instanceof tf.Tensor || Array.isArray(t)) throw new OnnxExportError(at.path, `missing parameter group '${name}' at '${at.paramPath}'`);
  return t as ParamRecord;
};

/** A tensor's values as float32 (a copy). */
export const valuesOf = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync());

/** Values of a tensor computed with tfjs from parameters, tidied. */
export const computed = (f: () => tf.Tensor): Float32Array => {
  let out: Float32Array = new Float32Array(0);
  tf.tidy(() => {
    out = valuesOf(f());
  });
  return out;
};

/** Transpose of a row-major [r, c] matrix. */
export const transposed = (m: Float32Array, r: number, c: number): Float32Array => {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = m[i * c + j] as number;
  return out;
};

/** float64 sum of float32 values. */
export const sum = (xs: Float32Array): number => xs.reduce((a, b) => a + b, 0);
