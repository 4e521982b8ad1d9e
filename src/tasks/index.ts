import { colorize } from './colorize.js';
import { inpaintCenter, inpaintRight } from './inpaint.js';
import { sketch } from './sketch.js';
import { superResolution } from './sr.js';
import type { Task } from './task.js';

export type { Task } from './task.js';
export { bicubicResize, resampleMatrix, cubic, to8bit } from './resize.js';

export const tasks = {
  sr: superResolution,
  colorize,
  'inpaint-center': inpaintCenter,
  'inpaint-right': inpaintRight,
  sketch,
} as const satisfies Record<string, Task>;

export type TaskName = keyof typeof tasks;
export const taskNames = Object.keys(tasks) as TaskName[];

export const getTask = (name: string): Task => {
  const task = (tasks as Record<string, Task>)[name];
  if (task === undefined) throw new RangeError(`Unknown task '${name}'. Tasks: ${taskNames.join(', ')}.`);
  return task;
};
