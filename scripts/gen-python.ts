// Writes the TypeScript module holding the text of each folder's .py files (scripts/python-files.ts).
import { writeFileSync } from 'node:fs';
import { generatedModulePath, PYTHON_FOLDERS, pythonFilesIn, pythonFilesModule } from './python-files.js';

for (const { dir, exportName } of PYTHON_FOLDERS) {
  writeFileSync(generatedModulePath(dir), pythonFilesModule(dir, exportName, pythonFilesIn(dir)));
  console.log(`wrote ${generatedModulePath(dir)}`);
}
