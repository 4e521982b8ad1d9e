/**
 * The Python runtime of generated modules: the top-level definitions (classes, functions, constants)
 * of the package's .py files (src/interpreters/pytorch/py, text in the generated files.ts), of which a
 * module includes those its code names, with what they name in turn, each after what it uses. A file's
 * imports stay in the file (they let it compile and lint alone); the module has one import block.
 */
import { runtimeFiles } from './py/files.js';

/** One top-level definition of a .py file. */
export interface PythonDefinition {
  readonly name: string;
  readonly file: string;
  readonly code: string;
}

/** Top-level definitions by name, in file order. */
export type PythonLibrary = ReadonlyMap<string, PythonDefinition>;

const DEFINITION_START = /^(?:class|def)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)/;
const IMPORT = /^(?:import|from)\s/;

/** Splits a file into its top-level definitions (comment lines just above one belong to it). */
const definitionsOf = (file: string, text: string): PythonDefinition[] => {
  const found: Array<{ name: string; lines: string[] }> = [];
  let pendingComments: string[] = [];
  for (const line of text.split('\n')) {
    const start = DEFINITION_START.exec(line);
    if (start !== null) {
      found.push({ name: (start[1] ?? start[2]) as string, lines: [...pendingComments, line] });
      pendingComments = [];
    } else if (line.startsWith('#')) {
      pendingComments.push(line);
    } else if (found.length > 0) {
      if (IMPORT.test(line)) throw new Error(`${file}: imports belong at the top of the file (found '${line}' after a definition)`);
      (found[found.length - 1] as { lines: string[] }).lines.push(...pendingComments, line);
      pendingComments = [];
    } else {
      pendingComments = [];
    }
  }
  return found.map(({ name, lines }) => ({ name, file, code: lines.join('\n').trimEnd() }));
};

/** The definitions of `files` (file name to text), refusing a name defined twice. */
export const pythonLibrary = (...sources: ReadonlyArray<{ readonly [file: string]: string }>): PythonLibrary => {
  const library = new Map<string, PythonDefinition>();
  for (const files of sources) {
    for (const [file, text] of Object.entries(files)) {
      for (const d of definitionsOf(file, text)) {
        const before = library.get(d.name);
        if (before !== undefined) throw new Error(`the Python name '${d.name}' is defined in both ${before.file} and ${d.file}`);
        library.set(d.name, d);
      }
    }
  }
  return library;
};

/** The library of every generated module: the .py files of src/interpreters/pytorch/py. */
export const runtimeLibrary: PythonLibrary = pythonLibrary(runtimeFiles);

const identifiers = (code: string): Set<string> => new Set(code.match(/[A-Za-z_]\w*/g) ?? []);

/**
 * The runtime code that `code` needs: the definitions it names, with what those name, each once, in
 * library order but after the definitions it names (a base class before its subclasses).
 */
export const runtimeFor = (library: PythonLibrary, code: readonly string[]): string => {
  const dependencies = (d: PythonDefinition): string[] => {
    const named = identifiers(d.code);
    return [...library.keys()].filter((other) => other !== d.name && named.has(other));
  };
  /** The definitions of `names` and what they name, each after what it names. */
  const dependenciesFirst = (names: Iterable<string>): PythonDefinition[] => {
    const order: PythonDefinition[] = [];
    const seen = new Set<string>();
    const visit = (name: string): void => {
      const d = library.get(name);
      if (d === undefined || seen.has(name)) return;
      seen.add(name);
      for (const dep of dependencies(d)) visit(dep);
      order.push(d);
    };
    for (const name of names) visit(name);
    return order;
  };
  const named = identifiers(code.join('\n'));
  const needed = new Set(dependenciesFirst([...library.keys()].filter((name) => named.has(name))).map((d) => d.name));
  // Placed again from library order, so that related definitions stay together.
  return dependenciesFirst([...library.keys()].filter((name) => needed.has(name)))
    .map((d) => d.code)
    .join('\n\n\n');
};
