/**
 * The demo: a small multiscale Glow declared with the DSL, initialised from data, its log-likelihood
 * in bits per dimension, and the property checks of `verify`. (Training CAFLOW on bundled data
 * replaces this once the model and experiments land.)
 */
import * as tf from '@tensorflow/tfjs';
import { encodeSpec } from '../dsl/codec.js';
import { forward, init, inverse, summary, verifyFlow } from '../interpreters/index.js';
import { smallGlow } from './examples.js';

/** Smooth random 8-bit images: low-frequency noise, upsampled, scaled to [0, 255], with u = 0.5. */
const syntheticImages = (n: number): tf.Tensor4D =>
  tf.tidy(() => {
    const coarse = tf.randomUniform([n, 2, 2, 3], 0, 255, 'float32', 1);
    return tf.add(tf.floor(tf.image.resizeBilinear(coarse as tf.Tensor4D, [8, 8])), 0.5) as tf.Tensor4D;
  });

export const runDemo = async (): Promise<void> => {
  const flow = smallGlow();
  console.log('A two-scale Glow for 3x8x8 images, declared in src/cli/examples.ts:\n');
  console.log(summary(flow));
  console.log(`\nIts spec is plain data (${encodeSpec(flow).length} bytes of JSON; see examples/glow.json).`);

  const data = syntheticImages(16);
  const params = init(flow, { seed: 0, data });
  const { ys, logDet } = forward(flow, params)(data);
  const dims = 3 * 8 * 8;
  const logPrior = tf.tidy(() =>
    ys.map((z) => tf.sum(tf.mul(-0.5, tf.add(tf.square(z), Math.log(2 * Math.PI))), [1, 2, 3])).reduce((a, b) => tf.add(a, b)),
  );
  const bitsPerDim = tf.tidy(() => tf.div(tf.neg(tf.mean(tf.add(logPrior, logDet))), dims * Math.LN2).dataSync()[0] as number);
  console.log(`\nAfter data-dependent init on 16 images: ${bitsPerDim.toFixed(3)} bits/dim (untrained; 8 is uniform noise).`);
  const back = inverse(flow, params)(ys);
  const pixelsOff = tf.tidy(() => tf.sum(tf.notEqual(tf.floor(back.x), tf.floor(data))).dataSync()[0] as number);
  console.log(`Integer round trip latents -> image: ${pixelsOff} of ${16 * dims} pixels off.`);

  const report = verifyFlow(flow, { seed: 0, batch: 2, maxReferenceSize: 192 });
  console.log('\nverify (random params and inputs):');
  for (const c of report.checks) console.log(`  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name.padEnd(20)} worst ${c.worst.toExponential(2)} (tolerance ${c.tolerance})`);
  for (const t of [data, logDet, logPrior, back.x, back.logDet, ...ys, ...back.xs]) t.dispose();
  if (!report.passed) process.exitCode = 1;
};
