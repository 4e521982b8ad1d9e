/**
 * Python source text for values: the literals the generated module is written with. Numbers use
 * JavaScript's shortest round-trip form, which Python parses to the same double.
 */

export type PyValue = number | string | boolean | null | readonly PyValue[] | { readonly [key: string]: PyValue };

/** A Python float or int literal with the same value as `n`. */
export const pyNumber = (n: number): string => {
  if (Number.isNaN(n)) return "float('nan')";
  if (n === Infinity) return "float('inf')";
  if (n === -Infinity) return "-float('inf')";
  return String(n);
};

/** A Python string literal (JSON's escapes are valid Python escapes). */
export const pyString = (s: string): string => JSON.stringify(s);

/** A Python literal: lists for arrays, dicts for objects, None/True/False. */
export const py = (v: PyValue): string => {
  if (v === null) return 'None';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'string') return pyString(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${(v as readonly PyValue[]).map(py).join(', ')}]`;
  return `{${Object.entries(v as { readonly [key: string]: PyValue }).map(([k, x]) => `${pyString(k)}: ${py(x)}`).join(', ')}}`;
};

/** A tuple literal (shapes). */
export const pyTuple = (xs: readonly number[]): string => (xs.length === 1 ? `(${pyNumber(xs[0] as number)},)` : `(${xs.map(pyNumber).join(', ')})`);

/** Indents every line but the first by `spaces`. */
const indentRest = (s: string, spaces: number): string => s.split('\n').join(`\n${' '.repeat(spaces)}`);

/**
 * A call `name(args...)` on one line when it is short and flat, else one argument per line (indented
 * by 4), so deep flows print as a readable tree.
 */
export const pyCall = (name: string, args: readonly string[]): string => {
  const flat = `${name}(${args.join(', ')})`;
  if (flat.length <= 100 && !flat.includes('\n')) return flat;
  // A lone list argument opens on the call's line: Chain([ ... ]).
  if (args.length === 1 && (args[0] as string).startsWith('[')) return flat;
  return `${name}(\n    ${args.map((a) => indentRest(a, 4)).join(',\n    ')},\n)`;
};

/** A list literal of expressions, broken over lines like `pyCall`. */
export const pyList = (items: readonly string[]): string => {
  const flat = `[${items.join(', ')}]`;
  if (flat.length <= 100 && !flat.includes('\n')) return flat;
  return `[\n    ${items.map((a) => indentRest(a, 4)).join(',\n    ')},\n]`;
};
