/** Field checks shared by the base kinds: event shape lists, vector shapes [D], positive counts. */
import * as E from 'fp-ts/lib/Either.js';
import { SpecError, type SpecIssue } from '../../dsl/errors.js';
import { isShape, type Shape } from '../../dsl/shape.js';

/** A non-empty list of event shapes from JSON, or the issues at `path`. */
export const decodeShapes = (u: unknown, path: string): E.Either<SpecIssue[], Shape[]> => {
  if (!Array.isArray(u) || u.length === 0) return E.left([{ path, message: 'expected a non-empty list of event shapes' }]);
  const issues = u.flatMap((s, i): SpecIssue[] => (isShape(s) ? [] : [{ path: `${path}[${i}]`, message: `expected an event shape of positive integers, got ${JSON.stringify(s)}` }]));
  return issues.length > 0 ? E.left(issues) : E.right((u as number[][]).map((s) => [...s]));
};

/** The event shapes of a spec's `shapes` field; a SpecError at `path` when it is not a non-empty list of shapes. */
export const eventShapes = (shapes: readonly Shape[], path: string): readonly Shape[] => {
  if (!Array.isArray(shapes) || shapes.length === 0 || !shapes.every((s) => isShape(s))) {
    throw new SpecError([{ path, message: `expected a non-empty list of event shapes of positive integers, got ${JSON.stringify(shapes)}` }]);
  }
  return shapes;
};

const vectorMessage = (u: unknown): string => `expected a vector event shape [D], got ${JSON.stringify(u)}`;
const isVector = (u: unknown): u is readonly [number] => Array.isArray(u) && u.length === 1 && isShape(u);

/** Issues of a vector event shape field [D]. */
export const vectorIssues = (u: unknown, path: string): SpecIssue[] => (isVector(u) ? [] : [{ path, message: vectorMessage(u) }]);

/** The vector event shape [D] of a spec; a SpecError at `path` when it is not one. */
export const vectorEvent = (shape: readonly number[], path: string): readonly Shape[] => {
  if (!isVector(shape)) throw new SpecError([{ path, message: vectorMessage(shape) }]);
  return [shape];
};

/** Issues of a positive integer field. */
export const positiveIntegerIssues = (u: unknown, path: string): SpecIssue[] =>
  typeof u === 'number' && Number.isInteger(u) && u >= 1 ? [] : [{ path, message: `expected a positive integer, got ${JSON.stringify(u)}` }];
