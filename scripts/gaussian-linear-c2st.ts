/**
 * sbibm's Gaussian linear task end to end, with the CLI as a user runs it (docs/density.md and
 * docs/continuous.md, "Conditional: sbibm's Gaussian linear task"):
 *
 *   npm run -s build && npx tsx scripts/gaussian-linear-c2st.ts <folder> [seed] [draws per observation] [fits] [first-last observation]
 *
 * `fits` is a comma-separated list of `nsf` (the nsf preset, maximum likelihood) and `cnf` (the cnf
 * preset trained by flow matching); default both. For each: the data of scripts/gaussian-linear.ts
 * (10,000 pairs, 10 observations, 2,000 closed-form posterior draws each), `fit --context` of
 * p(theta | x), then at each observation `sample --model --context` (`draws` draws) and `c2st` against
 * the closed-form draws (the first `draws` of them). Writes <folder>/c2st-<fit>-<draws>.json ({ perObservation, mean, standardError,
 * seconds }) and prints a line per observation. Everything is seeded by `seed`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [folder, seedArg, drawsArg, fitsArg, onlyArg] = process.argv.slice(2);
if (folder === undefined) {
  console.error('usage: npx tsx scripts/gaussian-linear-c2st.ts <folder> [seed] [draws per observation] [nsf,cnf]');
  process.exit(2);
}
const seed = Number(seedArg ?? 0);
const draws = Number(drawsArg ?? 2000);
const fits = (fitsArg ?? 'nsf,cnf').split(',');
const OBSERVATIONS = 10;
/** The observations this process works on: all, or `first-last` (processes may share the work; the summary needs them all). */
const [first, last] = onlyArg === undefined ? [0, OBSERVATIONS - 1] : onlyArg.split('-').map(Number);
/** Closed-form draws written per observation (sbibm has 10,000; a C2ST on 2 x 2,000 rows is what this machine affords). */
const REFERENCE_DRAWS = 2000;
if (!(Number.isInteger(draws) && draws >= 5 && draws <= REFERENCE_DRAWS)) throw new Error(`draws per observation: an integer from 5 to ${REFERENCE_DRAWS}, got ${drawsArg}`);

/**
 * The fit options of each fit: the preset and its objective. Flow matching's validation is an exact
 * likelihood through the solve (64 field evaluations, each with the field's [N, 10, H] Jacobian), so it
 * runs on 5% of the rows (500) every 1,000 steps, for a budget of 3,000 steps.
 */
const FIT_OPTIONS: Record<string, readonly string[]> = {
  nsf: ['--flow', 'nsf'],
  cnf: ['--flow', 'cnf', '--objective', 'flow-matching', '--steps', '3000', '--eval-every', '1000', '--validation', '0.05'],
};

/** The closed-form draws at observation i, cut to `draws` rows (a C2ST compares samples of equal size). */
const referenceFile = (i: number): string => {
  const full = join(data, `reference-${i}.csv`);
  const lines = readFileSync(full, 'utf8').trim().split('\n');
  if (lines.length - 1 < draws) throw new Error(`${full} has ${lines.length - 1} draws, fewer than ${draws}: write the data with as many (scripts/gaussian-linear.ts)`);
  if (lines.length - 1 === draws) return full;
  const cut = join(data, `reference-${i}-${draws}.csv`);
  writeFileSync(cut, `${lines.slice(0, draws + 1).join('\n')}\n`);
  return cut;
};

const cli = (args: readonly string[]): string => execFileSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'typed-flows.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const data = join(folder, 'data');
if (!existsSync(join(data, 'observations.csv'))) {
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'gaussian-linear.ts'), data, String(seed), String(REFERENCE_DRAWS)], { stdio: 'inherit' });
}
const observationLines = readFileSync(join(data, 'observations.csv'), 'utf8').trim().split('\n');
const header = observationLines[0] as string;
const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
const observationFile = (i: number): string => join(data, `observation-${i}.csv`);
for (let i = 0; i < OBSERVATIONS; i += 1) writeFileSync(observationFile(i), `${header}\n${observationLines[i + 1]}\n`);

for (const name of fits) {
  const options = FIT_OPTIONS[name];
  if (options === undefined) throw new Error(`unknown fit '${name}' (expected nsf or cnf)`);
  const model = join(folder, `fit-${name}`);
  const started = Date.now();
  const fitsNow = !existsSync(join(model, 'model.safetensors'));
  if (fitsNow) {
    console.log(cli(['fit', ...options, '--data', join(data, 'theta.csv'), '--context', join(data, 'x.csv'), '--seed', String(seed), '--output', model, '--quiet']).trim());
  }
  // The fit's own time is in its report.md ("time:") when an earlier run made it.
  const fitSeconds = fitsNow ? (Date.now() - started) / 1000 : null;
  const perObservation: number[] = [];
  for (let i = first as number; i <= (last as number); i += 1) {
    const context = observationFile(i);
    const samples = join(folder, `samples-${name}-${draws}-${i}.csv`);
    // One result file per observation, so a rerun after an interruption goes on where it stopped.
    const done = join(folder, `c2st-${name}-${draws}-${i}.json`);
    if (!existsSync(done)) {
      cli(['sample', '--model', join(model, 'model.safetensors'), '--context', context, '--count', String(draws), '--seed', String(seed + i), '--output', samples, '--force']);
      writeFileSync(done, cli(['c2st', referenceFile(i), samples, '--seed', String(seed + 1), '--json']));
    }
    const r = JSON.parse(readFileSync(done, 'utf8')) as { accuracy: number };
    perObservation.push(r.accuracy);
    console.log(`${name}: observation ${i}: C2ST ${r.accuracy.toFixed(4)}`);
  }
  if (perObservation.length < OBSERVATIONS) continue;
  const m = mean(perObservation);
  const standardError = Math.sqrt(mean(perObservation.map((v) => (v - m) ** 2)) * (OBSERVATIONS / (OBSERVATIONS - 1)) / OBSERVATIONS);
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(join(folder, `c2st-${name}-${draws}.json`), `${JSON.stringify({ fit: name, seed, draws, perObservation, mean: m, standardError, fitSeconds, seconds }, null, 2)}\n`);
  console.log(`${name}: mean C2ST ${m.toFixed(4)} ± ${standardError.toFixed(4)} over ${OBSERVATIONS} observations (${draws} draws each, seed ${seed}; fit ${fitSeconds === null ? 'from an earlier run' : `${fitSeconds.toFixed(0)} s`}, total ${seconds.toFixed(0)} s)`);
}
