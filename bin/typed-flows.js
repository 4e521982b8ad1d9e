#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build` and by `prepare` on npm ci / npm install):
// no compiler at run time. From a checkout without dist/, or with TYPED_FLOWS_FROM_SOURCE=1 (set by
// the tests, so that they run the sources they test), tsx compiles src/ on the fly instead.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (process.env.TYPED_FLOWS_FROM_SOURCE !== '1' && existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
