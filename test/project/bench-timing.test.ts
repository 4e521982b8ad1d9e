/**
 * The PyTorch benchmark's warm-up (bench/pytorch/timing.py) lasts until the time per call has settled,
 * so a slow start is never measured as the first figure. Checked with a fake clock: no real timing.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['--version']).status === 0);

const run = (body: string): unknown => {
  const r = spawnSync(python as string, ['-c', `import json, sys\nsys.path.insert(0, 'bench/pytorch')\nfrom timing import timed, warm_up\n${body}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

/** A function whose calls cost `costs[i]` seconds of a fake clock (then the last cost forever). */
const fake = (costs: readonly number[]): string => `
costs = ${JSON.stringify(costs)}
now = [0.0]
calls = [0]
def clock():
    return now[0]
def fn():
    now[0] += costs[min(calls[0], len(costs) - 1)]
    calls[0] += 1
`;

describe.skipIf(python === undefined)('bench/pytorch/timing.py', () => {
  it('keeps warming up past the minimum while calls are still getting faster, then times the settled speed', () => {
    // 30 slow calls (22 ms, steady for a while, then speeding up), then 5 ms per call: a fixed warm-up
    // of 3 would time the slow ones, and so would one that only compares neighbouring calls.
    const costs = [...Array.from({ length: 20 }, () => 0.022), 0.02, 0.018, 0.016, 0.014, 0.012, 0.01, 0.009, 0.008, 0.007, 0.006, 0.005];
    const r = run(`${fake(costs)}\nprint(json.dumps(timed(fn, 3, 5, clock=clock)))`) as { median_ms: number; samples_ms: number[]; warmup_runs: number };
    expect(r.warmup_runs).toBeGreaterThan(30);
    expect(r.samples_ms.every((ms) => Math.abs(ms - 5) < 1e-6)).toBe(true);
    expect(r.median_ms).toBeCloseTo(5, 6);
  });

  it('stops once the speed is steady and the minimum time has passed, and at the cap when it never settles', () => {
    // 10 ms per call from the start: settled once the one-second minimum has passed.
    expect(run(`${fake([0.01])}\nprint(warm_up(fn, 3, clock=clock))`)).toBe(100);
    expect(run(`${fake([0.5])}\nprint(warm_up(fn, 3, clock=clock))`)).toBe(6);
    expect(run(`${fake(Array.from({ length: 200 }, (_, i) => 0.001 * (1 + (i % 2) * 3)))}\nprint(warm_up(fn, 3, clock=clock, max_runs=25))`)).toBe(25);
  });
});
