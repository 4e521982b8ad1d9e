/**
 * The user-supplied networks behind LPIPS and FID (`eval --lpips-weights`, `--fid-model`), read from
 * disk with errors a user can act on (UsageError, exit code 2), and the wording used when they are
 * absent, shared by eval's output, metrics.json and the report.
 */
import { readFile } from 'node:fs/promises';
import { CheckpointError, decodeSafetensors } from '../io/safetensors.js';
import { lpipsWeightsFromTensors, type LpipsWeights } from '../metrics/lpips.js';
import { loadFeatureModel, type LoadedFeatureModel } from '../node/tfjs-model.js';
import { UsageError } from './io.js';

const DOCS = 'docs/experiments.md, section "LPIPS and FID"';

export const LPIPS_NOT_COMPUTED = `LPIPS not computed: it needs pretrained AlexNet + LPIPS weights, which typed-flows does not download; pass --lpips-weights <lpips-alex.safetensors> to typed-flows eval (${DOCS}).`;
export const FID_NOT_COMPUTED = `FID not computed: it needs a pretrained feature network (e.g. InceptionV3), which typed-flows does not download; pass --fid-model <model.json> to typed-flows eval (${DOCS}).`;

/** Reads and validates LPIPS-alex weights (the caller disposes them with disposeLpipsWeights). */
export const readLpipsWeights = async (file: string): Promise<LpipsWeights> => {
  const what =
    `--lpips-weights takes a safetensors file holding the state_dict of lpips.LPIPS(net='alex') in PyTorch layout ` +
    `(net.slice1.0.weight ... net.slice5.10.bias, lin0.model.1.weight ... lin4.model.1.weight); ${DOCS} shows how to make it from the official alex.pth.`;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`LPIPS weights '${file}' ${code === 'ENOENT' ? 'do not exist' : `cannot be read (${(e as Error).message})`}. ${what}`);
  }
  try {
    return lpipsWeightsFromTensors(decodeSafetensors(bytes).tensors);
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    const list = e.problems.length === 0 ? '' : `:\n${e.problems.map((p) => `  ${p}`).join('\n')}\n`;
    throw new UsageError(`'${file}' is not usable as LPIPS weights (${e.summary})${list}${list === '' ? '. ' : ''}${what}`);
  }
};

/** Loads the FID feature network from a TensorFlow.js model.json (the caller disposes it). */
export const readFidModel = async (file: string): Promise<LoadedFeatureModel> => {
  try {
    return await loadFeatureModel(file);
  } catch (e) {
    throw new UsageError(
      `--fid-model '${file}' cannot be used: ${(e as Error).message}. It takes the model.json of a TensorFlow.js 'graph-model' or 'layers-model' ` +
        `(weight shards next to it, as tensorflowjs_converter writes them) with one image input and one feature output, e.g. InceptionV3 pool3; see ${DOCS}.`,
    );
  }
};
