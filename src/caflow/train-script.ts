/**
 * The training script that `typed-flows export --format pytorch` writes beside the model (py/train.py):
 * trains the run's config with DistributedDataParallel under torchrun (gloo on CPUs, nccl on GPUs), with
 * the optimiser, schedule, clipping and NaN skipping of `typed-flows train`, and writes typed-flows
 * checkpoints (params, Adam moments, step, loss history) that `typed-flows import` takes back.
 */
import { caflowFiles } from './py/files.js';

/** The text of train.py. */
export const trainScript: string = caflowFiles['train.py'] as string;
