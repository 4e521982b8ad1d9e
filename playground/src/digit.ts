/**
 * Turning a drawing into the kind of image the bundled models were trained on. MNIST digits were
 * scaled so their longer side is 20 px, placed in 28x28 with their centre of mass in the middle, and
 * padded here to 32x32; `centreLikeMnist` does the same to a drawing, `boxDownsample` just shrinks it.
 * Images are square, row-major, one grey value per pixel.
 */

/** Averages factor x factor blocks: a size x size image to (size / factor) x (size / factor). */
export const boxDownsample = (grey: ArrayLike<number>, size: number, out: number): Uint8Array => {
  if (size % out !== 0) throw new RangeError(`cannot box-downsample ${size} px to ${out} px: ${size} is not a multiple of ${out}`);
  const f = size / out;
  const result = new Uint8Array(out * out);
  for (let y = 0; y < out; y++)
    for (let x = 0; x < out; x++) {
      let sum = 0;
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) sum += grey[(y * f + dy) * size + x * f + dx] as number;
      result[y * out + x] = Math.round(sum / (f * f));
    }
  return result;
};

/** The smallest rectangle holding every pixel above `threshold`, or undefined for a blank image. */
export const boundingBox = (grey: ArrayLike<number>, size: number, threshold = 0): { x0: number; y0: number; x1: number; y1: number } | undefined => {
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      if ((grey[y * size + x] as number) > threshold) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
  return x1 < 0 ? undefined : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
};

/** Centre of mass (x, y) of a width x height image, in pixel coordinates; undefined when blank. */
export const centreOfMass = (grey: ArrayLike<number>, width: number, height = width): { x: number; y: number } | undefined => {
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = grey[y * width + x] as number;
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  return m === 0 ? undefined : { x: mx / m, y: my / m };
};

/**
 * MNIST's normalisation: the drawing's bounding box scaled (area-averaged, aspect kept) so its longer
 * side is `box` px, then shifted so its centre of mass is the centre of an out x out image.
 * A blank drawing gives a blank image.
 */
export const centreLikeMnist = (grey: ArrayLike<number>, size: number, out = 32, box = 20): Uint8Array => {
  const bb = boundingBox(grey, size, 8);
  if (bb === undefined) return new Uint8Array(out * out);
  const bw = bb.x1 - bb.x0;
  const bh = bb.y1 - bb.y0;
  const scale = box / Math.max(bw, bh);
  const ow = Math.max(1, Math.round(bw * scale));
  const oh = Math.max(1, Math.round(bh * scale));
  // Each output pixel averages a grid of samples over the source rectangle it covers.
  const samples = 6;
  const scaled = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      let sum = 0;
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++) {
          const srcX = Math.min(bb.x1 - 1, Math.floor(bb.x0 + ((x + (sx + 0.5) / samples) * bw) / ow));
          const srcY = Math.min(bb.y1 - 1, Math.floor(bb.y0 + ((y + (sy + 0.5) / samples) * bh) / oh));
          sum += grey[srcY * size + srcX] as number;
        }
      scaled[y * ow + x] = sum / (samples * samples);
    }
  const com = centreOfMass(scaled, ow, oh) ?? { x: ow / 2, y: oh / 2 };
  const left = Math.max(0, Math.min(out - ow, Math.round(out / 2 - com.x)));
  const top = Math.max(0, Math.min(out - oh, Math.round(out / 2 - com.y)));
  const result = new Uint8Array(out * out);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) result[(top + y) * out + left + x] = Math.round(Math.min(255, scaled[y * ow + x] as number));
  return result;
};
