/**
 * The machine-readable lines the exported train.py prints with `--events` (src/caflow/py/train.py):
 * `typed-flows-event {json}`, anywhere in a line (torchrun prefixes its workers' lines with their rank).
 */

/** The marker before each event's JSON. */
export const EVENT_MARKER = 'typed-flows-event ';

/** One event of a PyTorch training run. */
export type TrainEvent =
  | { readonly event: 'start'; readonly step: number; readonly steps: number; readonly processes: number; readonly device: string; readonly torch: string }
  | { readonly event: 'step'; readonly step: number; readonly steps: number; readonly loss: number; readonly skipped: number; readonly rate: number }
  | { readonly event: 'checkpoint'; readonly step: number }
  | { readonly event: 'diverged'; readonly step: number; readonly consecutive: number; readonly loss: number; readonly norm: number }
  | { readonly event: 'done'; readonly step: number; readonly seconds: number; readonly skipped: number; readonly stopped: boolean };

/** A number of an event: JSON numbers as they are, non-finite ones written as text ('nan', 'inf', '-inf'). */
export const eventNumber = (u: unknown): number => (typeof u === 'number' ? u : typeof u === 'string' ? Number(u.replace(/^(-?)inf$/, '$1Infinity')) : NaN);
const int = (u: unknown): number | undefined => (typeof u === 'number' && Number.isInteger(u) ? u : undefined);

/** The event a line carries; undefined for any other line (or a malformed event). */
export const parseEvent = (line: string): TrainEvent | undefined => {
  const at = line.indexOf(EVENT_MARKER);
  if (at < 0) return undefined;
  let o: Record<string, unknown>;
  try {
    const parsed = JSON.parse(line.slice(at + EVENT_MARKER.length)) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    o = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const step = int(o['step']);
  if (step === undefined) return undefined;
  switch (o['event']) {
    case 'start':
      return { event: 'start', step, steps: int(o['steps']) ?? step, processes: int(o['processes']) ?? 1, device: String(o['device']), torch: String(o['torch']) };
    case 'step':
      // A non-finite loss comes as a string ('nan', 'inf'): JSON has no such numbers.
      return { event: 'step', step, steps: int(o['steps']) ?? step, loss: eventNumber(o['loss']), skipped: int(o['skipped']) ?? 0, rate: eventNumber(o['rate']) };
    case 'checkpoint':
      return { event: 'checkpoint', step };
    case 'diverged':
      return { event: 'diverged', step, consecutive: int(o['consecutive']) ?? 0, loss: eventNumber(o['loss']), norm: eventNumber(o['norm']) };
    case 'done':
      return { event: 'done', step, seconds: eventNumber(o['seconds']), skipped: int(o['skipped']) ?? 0, stopped: o['stopped'] === true };
    default:
      return undefined;
  }
};
