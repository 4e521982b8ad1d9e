/** The image-to-image tasks (how the condition Y is made from the target W) and bicubic resizing. */
import { colorize } from './colorize.js';
import { inpaintCenter, inpaintRight } from './inpaint.js';
import { sketch } from './sketch.js';
import { superResolution } from './sr.js';
import type { Task } from './task.js';

export type { Task } from './task.js';
export { bicubicResize, resampleMatrix, cubic, to8bit, KEYS_A } from './resize.js';
export { centerMask, centerSide, rightHalfMask } from './inpaint.js';
export { luma, LUMA } from './colorize.js';
export { sobelMagnitude, EDGE_THRESHOLD } from './sketch.js';
export { SR_FACTOR } from './sr.js';

export type TaskName = 'sr' | 'colorize' | 'inpaint-center' | 'inpaint-right' | 'sketch';

export const tasks: Readonly<Record<TaskName, Task>> = {
  sr: superResolution,
  colorize,
  'inpaint-center': inpaintCenter,
  'inpaint-right': inpaintRight,
  sketch,
};

export const taskNames: readonly TaskName[] = ['sr', 'colorize', 'inpaint-center', 'inpaint-right', 'sketch'];

export const isTaskName = (name: string): name is TaskName => (taskNames as readonly string[]).includes(name);

/** The task called `name`; throws a RangeError listing the valid names otherwise. */
export const getTask = (name: string): Task => {
  if (!isTaskName(name)) throw new RangeError(`Unknown task '${name}'. Valid tasks: ${taskNames.join(', ')}.`);
  return tasks[name];
};
