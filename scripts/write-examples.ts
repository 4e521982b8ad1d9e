// Writes examples/*.json from src/cli/examples.ts (test/dsl/examples.test.ts checks they stay in sync).
import { writeFileSync } from 'node:fs';
import { encodeSpec } from '../src/dsl/codec.js';
import { examples } from '../src/cli/examples.js';

for (const [name, make] of Object.entries(examples)) {
  writeFileSync(new URL(`../examples/${name}`, import.meta.url), `${encodeSpec(make())}\n`);
  console.log(`wrote examples/${name}`);
}
