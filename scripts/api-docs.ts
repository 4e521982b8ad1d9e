/**
 * `npm run docs`: the API reference (TypeDoc, typedoc.json) into docs/api/, and its check. Fails (exit 1) on
 * any TypeDoc warning (a broken or rewritten link, a doc comment TypeDoc cannot read) and on any public
 * export without documentation.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--logLevel', 'Warn'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
// eslint-disable-next-line no-control-regex
const lines = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
const warnings = lines.filter((l) => /^\[(warning|error)\]/.test(l.trim()) && !/Found \d+ errors? and \d+ warnings?/.test(l));
/** `io.thing (Variable), defined in typed-flows/src/io/x.ts, does not have any documentation` -> `io.thing (Variable) src/io/x.ts`. */
const undocumented = (l: string): string | undefined => /\] (.+ \([A-Za-z]+\)), defined in [^/]+\/([^,]+), does not have any documentation/.exec(l)?.slice(1, 3).join(' ');
const missing = warnings.map(undocumented).filter((x): x is string => x !== undefined);
const other = warnings.filter((l) => undocumented(l) === undefined);

if (r.status !== 0 && other.length === 0 && missing.length === 0) other.push(`typedoc exited ${r.status}: ${lines.filter((l) => l.trim() !== '').slice(-3).join(' / ')}`);
for (const w of other) console.error(`docs: ${w.trim()}`);
for (const m of missing) console.error(`docs: ${m}: a public export without documentation; add a TSDoc comment`);
console.log(`docs: API reference in docs/api/index.html; ${other.length} warning(s), ${missing.length} undocumented export(s)`);
process.exit(other.length > 0 || missing.length > 0 ? 1 : 0);
