import { caflowConfig, type CaflowConfig } from '../caflow/config.js';
import type { RunConfig } from '../experiments/config.js';
import { getTask } from '../tasks/index.js';

/** Channels of the bundled or folder data for a task: colorization targets are RGB. */
export const targetChannels = (config: RunConfig): number => (config.task === 'colorize' || config.data.source === 'folder' ? 3 : 1);

/** The CAFLOW model a run config describes. */
export const modelConfigOf = (config: RunConfig): CaflowConfig => {
  const c = targetChannels(config);
  const s = config.size;
  return caflowConfig({
    ...config.model,
    target: [c, s, s],
    condition: [getTask(config.task).conditionChannels(c), s, s],
    dequantize: true,
  });
};
