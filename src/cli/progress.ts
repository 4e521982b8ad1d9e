/** Progress of a command that takes more than a couple of seconds: one line per stage on stderr, with the time since it started; `--quiet` silences it. */

/** Reports a stage of the work. */
export type Progress = (stage: string) => void;

/** Says nothing (--quiet, and library callers). */
export const silent: Progress = () => undefined;

/** `eval [3.2 s]: sampling 4 conditions x 8` on stderr (stdout keeps the result alone). */
export const progressOf = (command: string, quiet: boolean): Progress => {
  if (quiet) return silent;
  const started = performance.now();
  return (stage) => process.stderr.write(`${command} [${((performance.now() - started) / 1000).toFixed(1)} s]: ${stage}\n`);
};
