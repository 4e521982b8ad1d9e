/**
 * Sample grids as labelled figures: per condition, a row with the condition Y, the k samples best
 * first and the ground truth W (as in the paper's figures), with column and row labels
 * (src/plots/sample-grid.ts), written as PNG with its SVG beside it (src/node/figure.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { variantName } from '../experiments/config.js';
import { sampleGridSpec, type SampleGridRow } from '../plots/sample-grid.js';
import { writeFigure } from './figure.js';
import { encodeImageGrid } from './png.js';

/** Pixels per side a cell aims at: small images are upscaled by whole factors (nearest neighbour) up to it. */
const CELL = 64;

/** A PNG data URL of one [1, H, W, C] image of 0..255 values, upscaled by `scale`. */
const dataUrl = (image: tf.Tensor4D, scale: number): string => `data:image/png;base64,${encodeImageGrid([image], { padding: 0, scale }).toString('base64')}`;

/**
 * Writes the grid of `y` [N,...] (conditions), `samples` [N*k,...] (k per condition, best first) and
 * `w` [N,...] (ground truths) to `file` (PNG) and its SVG beside it. A condition with fewer channels
 * than W (a grey sketch for a colour target) is shown with its channel repeated.
 */
export const writeSampleGrid = async (file: string, y: tf.Tensor4D, samples: tf.Tensor4D, w: tf.Tensor4D, k: number, title?: string): Promise<void> => {
  const [, h, width, channels] = w.shape;
  const scale = Math.max(1, Math.floor(CELL / Math.max(h, width)));
  const rows: SampleGridRow[] = Array.from({ length: y.shape[0] }, (_, i) => {
    const images = tf.tidy(() => {
      const yi = tf.slice(y, [i, 0, 0, 0], [1, -1, -1, -1]);
      const yShown = yi.shape[3] === channels ? yi : tf.tile(yi, [1, 1, 1, channels]);
      return [yShown, ...Array.from({ length: k }, (_, j) => tf.slice(samples, [i * k + j, 0, 0, 0], [1, -1, -1, -1])), tf.slice(w, [i, 0, 0, 0], [1, -1, -1, -1])] as tf.Tensor4D[];
    });
    const urls = images.map((t) => dataUrl(t, scale));
    tf.dispose(images);
    return { label: `held-out pair ${i}`, images: urls };
  });
  await writeFigure(file, sampleGridSpec(rows, { cellSize: Math.max(h, width) * scale, ...(title === undefined ? {} : { title }) }), 1);
};

/** A grid's title: which model, task, training step and sampling temperature. */
export const gridTitle = (variant: string, task: string, step: number, temperature: number): string =>
  `${variantName(variant)}, task ${task}, step ${step}, temperature ${temperature}`;
