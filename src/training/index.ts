export * from './schedule.js';
export * from './adam.js';
export * from './clip.js';
export * from './step.js';
