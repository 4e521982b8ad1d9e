/** A problem with a spec, located by the path of the offending node (e.g. `$.steps[2].shape`). */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown when a spec is built or decoded with shapes or fields that do not make a valid flow. */
export class SpecError extends Error {
  constructor(readonly issues: readonly SpecIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    this.name = 'SpecError';
  }
}

/** Thrown when tensors handed to a pass do not have the shapes the spec declares. */
export class ShapeMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeMismatchError';
  }
}
