// Tests run on the cpu backend: it has every kernel (incl. conv gradients) and is exact enough for
// float32 tolerances. Backend selection itself is tested in backend.test.ts.
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
await tf.ready();
