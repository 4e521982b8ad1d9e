/**
 * tfjs 4.22 registers no gradient for `Diag` (tf.diag), so any loss through it fails with "Cannot
 * compute gradient: gradient function not found for Diag" and `trainStep` reports it as a parameter
 * that does not influence the loss. `inv1x1LU` builds W's diagonal with tf.diag, so it could not be
 * trained. The gradient of x -> diag(x) ([c] -> [c,c], or [..., c] -> [..., c, c]) takes the diagonal
 * of the incoming gradient. Registered once, only when tfjs has none.
 */
import * as tf from '@tensorflow/tfjs';

export const registerDiagGradient = (): void => {
  if (tf.getGradient('Diag') !== undefined) return;
  tf.registerGradient({
    kernelName: 'Diag',
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const g = dy as tf.Tensor;
      const c = g.shape[g.rank - 1] as number;
      return { x: () => tf.sum(tf.mul(g, tf.eye(c)), -1) };
    },
  });
};

registerDiagGradient();
