// Tests run on the cpu backend: it has every kernel (incl. conv gradients) and is exact enough for
// float32 tolerances. Backend selection itself is tested in backend.test.ts.
import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from '../src/backend/quiet.js';

await tf.setBackend('cpu');
await tf.ready();
// Without this, tfjs prints its "install our node backend" banner once per test file.
silenceCpuBanner();
// Child processes running bin/typed-flows.js run the sources under test, not a possibly stale dist/.
process.env['TYPED_FLOWS_FROM_SOURCE'] = '1';
