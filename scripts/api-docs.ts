/**
 * `npm run docs`: the API reference (TypeDoc, typedoc.json) into docs/api/, and its check. Fails (exit 1) on
 * any TypeDoc warning (a broken or rewritten link, a doc comment TypeDoc cannot read) and on a public
 * export without documentation that is not in the baseline docs/api-undocumented.txt: the exports that
 * had none when the check was introduced. The baseline only shrinks: an entry documented since is
 * reported so that it is removed (`--update-baseline` rewrites it from the current state).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const baselineFile = join(root, 'docs', 'api-undocumented.txt');
const HEADER = '# Public exports without documentation when `npm run docs` began checking (scripts/api-docs.ts). Only remove lines.';

const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--logLevel', 'Warn'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
// eslint-disable-next-line no-control-regex
const lines = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
const warnings = lines.filter((l) => /^\[(warning|error)\]/.test(l.trim()) && !/Found \d+ errors? and \d+ warnings?/.test(l));
/** `io.thing (Variable), defined in typed-flows/src/io/x.ts, does not have any documentation` -> `io.thing (Variable) src/io/x.ts`. */
const undocumented = (l: string): string | undefined => /\] (.+ \([A-Za-z]+\)), defined in [^/]+\/([^,]+), does not have any documentation/.exec(l)?.slice(1, 3).join(' ');
const missing = warnings.map(undocumented).filter((x): x is string => x !== undefined);
const other = warnings.filter((l) => undocumented(l) === undefined);

if (process.argv.includes('--update-baseline')) {
  writeFileSync(baselineFile, `${HEADER}\n${[...new Set(missing)].sort().join('\n')}\n`);
  console.log(`docs: wrote ${missing.length} entries to docs/api-undocumented.txt`);
  process.exit(0);
}
const baseline = new Set(existsSync(baselineFile) ? readFileSync(baselineFile, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')) : []);
const added = missing.filter((m) => !baseline.has(m));
const fixed = [...baseline].filter((b) => !missing.includes(b));
if (r.status !== 0 && other.length === 0 && added.length === 0) other.push(`typedoc exited ${r.status}: ${lines.filter((l) => l.trim() !== '').slice(-3).join(' / ')}`);
for (const w of other) console.error(`docs: ${w.trim()}`);
for (const a of added) console.error(`docs: ${a}: a public export without documentation; add a TSDoc comment`);
if (fixed.length > 0) console.log(`docs: ${fixed.length} baseline entr${fixed.length === 1 ? 'y is' : 'ies are'} documented now; remove ${fixed.length === 1 ? 'it' : 'them'} from docs/api-undocumented.txt: ${fixed.slice(0, 5).join('; ')}`);
console.log(`docs: API reference in docs/api/index.html; ${other.length} warning(s), ${added.length} new undocumented export(s), ${missing.length - added.length} left in the baseline`);
process.exit(other.length > 0 || added.length > 0 ? 1 : 0);
