/**
 * The `typed-flows` command line: summary and verify of a user's spec (JSON), and the demo.
 * Exit codes: 0 ok, 1 a check failed, 2 bad input (message says what to fix).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { selectBackend, type BackendName } from '../backend/index.js';
import { SpecError } from '../dsl/errors.js';
import { summary } from '../interpreters/summary.js';
import { verifyFlow } from '../interpreters/verify.js';
import { runDemo } from './demo.js';
import { readSpecFile, UsageError } from './io.js';
import { renderVerify, verifyJson, type VerifyRun } from './verify-report.js';

const integer = (name: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};
const positive = (value: string): number => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

const program = new Command()
  .name('typed-flows')
  .description('Normalizing flows as typed values on TensorFlow.js: inspect and property-test flow specs.')
  .addOption(
    new Option('--backend <name>', 'tfjs backend: auto picks the best that loads (node-gpu, node, wasm, cpu); env TYPED_FLOWS_BACKEND')
      .choices(['auto', 'node-gpu', 'node', 'wasm', 'cpu'])
      .default('auto'),
  )
  .showHelpAfterError();

const backendOf = async (quiet: boolean): Promise<string> => {
  const { backend } = program.opts<{ backend: BackendName | 'auto' }>();
  const chosen = await selectBackend({ prefer: backend, ...(quiet ? { log: () => undefined } : {}) });
  return chosen.name;
};

program
  .command('summary')
  .description('print the layer table of a spec: kinds, input and output shapes, parameter counts')
  .argument('<spec.json>', 'a flow spec (JSON)')
  .action(async (file: string) => {
    console.log(summary(await readSpecFile(file)));
  });

program
  .command('verify')
  .description(
    'property-test a spec on random inputs at its declared shape: round trips, log-det of the inverse, ' +
      'log-det against the dense autodiff Jacobian (small flows), output shapes and tensor leaks',
  )
  .argument('<spec.json>', 'a flow spec (JSON)')
  .option('--seed <n>', 'first seed', integer('seed', 0), 0)
  .option('--runs <n>', 'number of seeds to try', integer('runs', 1), 3)
  .option('--batch <n>', 'samples per run', integer('batch', 1), 2)
  .option('--perturb <std>', 'noise added to fresh parameters so zero-initialised layers are not the identity', positive, 0.2)
  .option('--max-reference-size <d>', 'skip the dense-Jacobian check above this many dimensions', integer('max-reference-size', 0), 256)
  .option('--json', 'print machine-readable results')
  .action(async (file: string, o: { seed: number; runs: number; batch: number; perturb: number; maxReferenceSize: number; json?: boolean }) => {
    const spec = await readSpecFile(file);
    const backend = await backendOf(o.json === true);
    const runs: VerifyRun[] = Array.from({ length: o.runs }, (_, i) => {
      const seed = o.seed + i;
      return { seed, report: verifyFlow(spec, { seed, batch: o.batch, perturb: o.perturb, maxReferenceSize: o.maxReferenceSize }) };
    });
    console.log(o.json === true ? verifyJson(file, backend, runs) : renderVerify(file, runs));
    if (!runs.every((r) => r.report.passed)) process.exitCode = 1;
  });

program
  .command('demo')
  .description('build a small multiscale Glow, initialise it from data, and show its summary and verification')
  .action(async () => {
    await backendOf(false);
    await runDemo();
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof UsageError || e instanceof SpecError) {
    console.error(`typed-flows: ${e.message}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
