/**
 * The playground end to end in a real headless Chromium (Debian's, driven by playwright-core; no
 * browser download): build the page with Vite, serve it, choose a task, draw, sample, and check that k
 * images with k log-likelihoods appear best first, with a plot of their costs by rank drawn by Vega
 * from the library's spec; the page explains its words (a glossary linking the
 * docs), what Sample will do, its limits and its NLL convention. A wrong or corrupt model file gets a clear message
 * and the loaded model survives. The screenshot is kept in test-artifacts/playground.png.
 *
 * The density studio (studio.html): a bad spec shows the codec's message at its path, verify reports,
 * moons are fitted live in a worker (paused and resumed, the page responsive meanwhile) to a
 * validation NLL below the Gaussian's, the heatmap is drawn, and the downloaded model and ONNX graph
 * give the page's log-densities in Node; the model loads again. Its screenshot, mid-fit, is
 * test-artifacts/studio.png.
 *
 * Chromium must be installed (`.ci/run` installs it and sets TYPED_FLOWS_E2E=required, so CI fails
 * rather than skips without it); elsewhere the suite is skipped when /usr/bin/chromium is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { disposeParams } from '../../src/dsl/params.js';
import { runOnnx } from '../support/onnx-helpers.js';
import { COST_TITLE, RANK_TITLE } from '../../src/plots/ranked-samples.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const required = process.env['TYPED_FLOWS_E2E'] === 'required';
const available = existsSync(CHROMIUM);
const CONFIG = 'playground/vite.config.ts';
const ARTIFACTS = 'test-artifacts';
// Without the networking flags Chromium keeps dialling out, and this machine refuses every connection.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A preview server of the build and a headless Chromium on one of its pages; `close` ends both. */
interface Session {
  readonly url: string;
  readonly page: Page;
  readonly pageErrors: string[];
  readonly close: () => Promise<void>;
}

const openPage = async (path: string, viewport: { width: number; height: number }): Promise<Session> => {
  if (!available) throw new Error(`TYPED_FLOWS_E2E=required but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const server: PreviewServer = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1' } });
  const url = server.resolvedUrls?.local[0] ?? '';
  const userDataDir = mkdtempSync(join(tmpdir(), 'typed-flows-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, acceptDownloads: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${url}${path}`);
  const close = async (): Promise<void> => {
    await context.close();
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { url, page, pageErrors, close };
};

// One build for both pages (the CAFLOW playground and the density studio).
beforeAll(async () => {
  if (available) await build({ configFile: CONFIG, logLevel: 'warn' });
}, 180_000);

describe.skipIf(!available && !required)('playground in headless Chromium', () => {
  let session: Session | undefined;
  let page: Page;
  let url: string;

  beforeAll(async () => {
    session = await openPage('', { width: 1200, height: 1000 });
    ({ page, url } = session);
    await page.waitForSelector('body[data-ready="true"][data-model="sr"]', { timeout: 60_000 });
  }, 180_000);

  afterAll(() => session?.close());

  it('explains itself: a glossary with links to the docs, a placeholder where samples will appear, the NLL convention', async () => {
    const glossary = page.locator('[data-testid="glossary"]');
    const terms = await glossary.locator('dt').allTextContents();
    for (const term of ['Y', 'W', 'log p(W | Y)', 'nats', 'bits/dim', 'temperature']) expect(terms).toContain(term);
    const links = await glossary.locator('a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
    expect(links).toEqual(expect.arrayContaining(['docs/playground.md', 'docs/caflow.md', 'docs/experiments.md']));
    // The build copies docs/ beside the page, so the links resolve.
    const doc = await page.request.get(new URL('docs/caflow.md', url).href);
    expect(doc.ok()).toBe(true);
    expect(await page.textContent('[data-testid="results-placeholder"]')).toContain('Press Sample');
    // The bundled SR model's held-out NLL says which convention it is.
    expect(await page.textContent('[data-testid="model-nll"]')).toMatch(/bits\/dim \((bound|mid-bin)/);
    // The renderer string is in a closed details line, not under the title.
    expect(await page.getAttribute('[data-testid="backend-details"]', 'open')).toBeNull();
  });

  it('says which backend it uses', async () => {
    const shown = await page.textContent('[data-testid="backend"]');
    expect(['webgl', 'wasm', 'cpu']).toContain(shown);
    expect(await page.getAttribute('body', 'data-backend')).toBe(shown);
  });

  it('draws a sketch, samples k digits and ranks them by log-likelihood', async () => {
    await page.selectOption('[data-testid="task"]', 'sketch');
    await page.waitForSelector('body[data-model="sketch"]', { timeout: 60_000 });
    await page.click('#clear');
    // A "7": a bar and a diagonal, drawn with the mouse on the pad.
    const box = (await page.locator('[data-testid="pad"]').boundingBox())!;
    const at = (x: number, y: number): [number, number] => [box.x + (x / 256) * box.width, box.y + (y / 256) * box.height];
    await page.mouse.move(...at(80, 70));
    await page.mouse.down();
    await page.mouse.move(...at(180, 70), { steps: 10 });
    await page.mouse.move(...at(110, 200), { steps: 12 });
    await page.mouse.up();
    // k above the page's limit is brought to 32 in the field itself, with a note.
    await page.fill('[data-testid="k"]', '100');
    await page.locator('[data-testid="k"]').dispatchEvent('change');
    expect(await page.inputValue('[data-testid="k"]')).toBe('32');
    expect(await page.textContent('[data-testid="k-note"]')).toContain('k = 100 is outside 1–32: 32 are drawn');
    const k = 6;
    await page.fill('[data-testid="k"]', String(k));
    await page.locator('[data-testid="k"]').dispatchEvent('change');
    expect(await page.isHidden('[data-testid="k-note"]')).toBe(true);
    await page.locator('[data-testid="temperature"]').fill('0.6');
    await page.click('[data-testid="sample-button"]');
    await page.waitForSelector('[data-testid="results"][data-state="done"]', { timeout: 120_000 });

    const samples = page.locator('[data-testid="result"]');
    expect(await samples.count()).toBe(k);
    expect(await page.locator('[data-testid="results-placeholder"]').count()).toBe(0);
    expect(await page.locator('[data-testid="result"] canvas').count()).toBe(k);
    const shown = await page.locator('[data-testid="log-likelihood"]').allTextContents();
    expect(shown).toHaveLength(k);
    const values = await samples.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset['logLikelihood'])));
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values[0]).toBe(Math.max(...values));
    for (let i = 1; i < k; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
    // The numbers printed are the ones ranked on.
    expect(shown.map(Number)).toEqual(values.map((v) => Number(v.toFixed(1))));
    // The samples differ from one another (a flow that collapsed would draw one digit k times).
    const pixels = await page.locator('[data-testid="result"] canvas').evaluateAll((cs) =>
      cs.map((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 32, 32).data).join(',')),
    );
    expect(new Set(pixels).size).toBeGreaterThan(1);
    // Under the samples, their costs against their rank, drawn by Vega from the library's spec (src/plots/ranked-samples.ts).
    await page.waitForSelector('[data-testid="cost-plot"][data-state="drawn"] svg', { timeout: 60_000 });
    const plotTexts = await page.locator('[data-testid="cost-plot"] svg text').allTextContents();
    for (const want of [RANK_TITLE, COST_TITLE]) expect(plotTexts).toContain(want);
    expect(plotTexts.filter((t) => /^\d+$/.test(t))).toEqual(Array.from({ length: k }, (_, i) => String(i + 1)));

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'playground.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'playground.png'))).toBe(true);
  }, 180_000);

  it('refuses a model for another task with a clear message and keeps the loaded one', async () => {
    const bytes = readFileSync('playground/public/checkpoints/sr.safetensors');
    await page.setInputFiles('[data-testid="model-file"]', { name: 'sr-model.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
    const status = page.locator('[data-testid="status"]');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/trained for the task 'sr', and the page is set to 'sketch'/);
    expect(await page.getAttribute('body', 'data-model')).toBe('sketch');
    expect(await page.isEnabled('[data-testid="sample-button"]')).toBe(true);
  });

  it('says a corrupt file is not a model file', async () => {
    await page.setInputFiles('[data-testid="model-file"]', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
    await expect
      .poll(() => page.locator('[data-testid="status"]').textContent(), { timeout: 30_000 })
      .toMatch(/broken\.safetensors is not a typed-flows CAFLOW model file/);
    expect(await page.getAttribute('body', 'data-model')).toBe('sketch');
  });

  it('says so when a bundled model cannot be fetched', async () => {
    await page.route('**/checkpoints/inpaint-right.safetensors', (route) => route.fulfill({ status: 404, body: 'not here' }));
    await page.selectOption('[data-testid="task"]', 'inpaint-right');
    await expect
      .poll(() => page.locator('[data-testid="status"]').textContent(), { timeout: 30_000 })
      .toMatch(/could not load checkpoints\/inpaint-right\.safetensors: HTTP 404/);
    expect(await page.isEnabled('[data-testid="sample-button"]')).toBe(false);
    await page.unroute('**/checkpoints/inpaint-right.safetensors');
  });

  it('honours ?backend=cpu and samples there too', async () => {
    await page.goto(`${url}?backend=cpu`);
    await page.waitForSelector('body[data-ready="true"][data-model="sr"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="backend"]')).toBe('cpu');
    await page.fill('[data-testid="k"]', '2');
    await page.click('[data-testid="sample-button"]');
    await page.waitForSelector('[data-testid="results"][data-state="done"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="result"]').count()).toBe(2);
  }, 180_000);

  it('honours ?engine=onnx: samples come from the exported graph on ONNX Runtime Web', async () => {
    await page.goto(`${url}?engine=onnx`);
    await page.waitForSelector('body[data-ready="true"][data-model="sr"]', { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-engine')).toBe('onnx');
    expect(await page.textContent('[data-testid="backend"]')).toContain('samples on ONNX Runtime Web');
    expect(await page.textContent('[data-testid="engine-note"]')).toContain('checks that the exported file is faithful');
    await page.fill('[data-testid="k"]', '3');
    await page.click('[data-testid="sample-button"]');
    await page.waitForSelector('[data-testid="results"][data-state="done"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="result"]').count()).toBe(3);
    expect(await page.textContent('#progress-text')).toMatch(/3 samples in [\d.]+ s on ONNX Runtime Web/);
    const values = await page.locator('[data-testid="result"]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset['logLikelihood'])));
    expect(values.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThanOrEqual(values[i - 1]!);
  }, 180_000);

  it('raised no uncaught errors in the page', () => {
    expect(session?.pageErrors).toEqual([]);
  });
});

describe.skipIf(!available && !required)('density studio in headless Chromium', () => {
  let session: Session | undefined;
  let page: Page;
  const STEPS = 120;
  /** Points the page computed log p at (pointing at the heatmap), with its values. */
  const probes: Array<{ x: number; y: number; logDensity: number }> = [];
  let modelBytes: Buffer;

  beforeAll(async () => {
    session = await openPage('studio.html', { width: 1240, height: 1400 });
    page = session.page;
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  }, 180_000);

  afterAll(() => session?.close());

  it("shows the data with fit's split, and the preset's spec checked, with its layer table", async () => {
    expect(['webgl', 'wasm', 'cpu']).toContain(await page.textContent('[data-testid="backend"]'));
    // 1,000 moons: fit's default split holds out 20%.
    expect(await page.textContent('[data-testid="split"]')).toMatch(/1000 points: ■ 800 to train on, ■ 200 to validate on/);
    expect(await page.textContent('[data-testid="spec-ok"]')).toMatch(/a valid distribution: [\d,]+ trainable parameters/);
    const kinds = await page.locator('[data-testid="summary"] td:nth-child(2)').allTextContents();
    expect(kinds.filter((k) => k.trim() === 'splineCoupling')).toHaveLength(5);
  });

  it('shows a bad spec\'s message with the path of its node as it is typed', async () => {
    const good = await page.inputValue('[data-testid="spec"]');
    await page.fill('[data-testid="spec"]', good.replace('"bins": 8', '"bins": -1'));
    const issue = page.locator('[data-testid="spec-issue"]');
    expect(await issue.getAttribute('data-path')).toBe('$.base.flow.steps[0].bins');
    expect(await issue.textContent()).toContain('$.base.flow.steps[0].bins: expected a positive integer, got -1');
    expect(await page.isDisabled('[data-testid="start"]')).toBe(true);
    // A shape that does not chain: the step after it is named.
    await page.fill('[data-testid="spec"]', good.replace(/"shape": \[2\]/, '"shape": [3]'));
    expect(await issue.textContent()).toContain('$.base.flow.steps[1]: expects input [2] but the previous step gives [3]');
    await page.fill('[data-testid="spec"]', good.slice(0, 100));
    expect(await issue.getAttribute('data-path')).toBe('$');
    expect(await issue.textContent()).toContain('invalid JSON');
    await page.fill('[data-testid="spec"]', good);
    expect(await page.locator('[data-testid="spec-issue"]').count()).toBe(0);
    expect(await page.isEnabled('[data-testid="start"]')).toBe(true);
  });

  it('runs verify in the page and shows its verdict per law', async () => {
    await page.click('[data-testid="verify-button"]');
    const verdict = page.locator('[data-testid="verify-verdict"]');
    await verdict.waitFor({ timeout: 120_000 });
    expect(await verdict.getAttribute('data-passed')).toBe('true');
    const laws = await page.locator('[data-testid="verdict"] td:nth-child(2)').allTextContents();
    expect(laws).toEqual(expect.arrayContaining(['round trip', 'log-det inverse', 'tensor leak']));
  }, 180_000);

  it('fits moons live in a worker: pauses, stays responsive, and beats the Gaussian on validation', async () => {
    await page.fill('[data-testid="steps"]', String(STEPS));
    await page.click('[data-testid="start"]');
    await page.waitForFunction(() => Number(document.body.dataset['step'] ?? 0) >= 30, undefined, { timeout: 120_000 });
    // The page's own thread stays free while the worker trains: no timer waits long.
    const longestGap = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let last = performance.now();
          let worst = 0;
          const end = last + 1000;
          const tick = (): void => {
            const now = performance.now();
            worst = Math.max(worst, now - last);
            last = now;
            if (now < end) setTimeout(tick, 0);
            else resolve(worst);
          };
          setTimeout(tick, 0);
        }),
    );
    expect(longestGap).toBeLessThan(250);
    await page.click('[data-testid="pause"]');
    await expect.poll(() => page.textContent('[data-testid="fit-status"]'), { timeout: 60_000 }).toMatch(/paused at step \d+/);
    const pausedAt = await page.getAttribute('body', 'data-step');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'studio.png'), fullPage: true });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.getAttribute('body', 'data-step')).toBe(pausedAt);
    expect(Number(pausedAt)).toBeLessThan(STEPS);
    await page.click('[data-testid="start"]'); // resume
    await page.waitForSelector('body[data-fit="done"]', { timeout: 300_000 });

    const value = async (id: string): Promise<number> => Number(await page.getAttribute(`[data-testid="${id}"]`, 'data-value'));
    const [validation, gaussian] = [await value('val-nll'), await value('gaussian-nll')];
    expect(Number.isFinite(validation) && Number.isFinite(gaussian)).toBe(true);
    // On moons the full-covariance Gaussian scores about 2.75 nats; 120 steps of the nsf preset get well below it.
    expect(validation).toBeLessThan(gaussian);
    expect(Number.isFinite(await value('gmm-nll'))).toBe(true);
    expect(await value('step-time')).toBeGreaterThan(0);
    // The heatmap is drawn: many distinct colours, not a blank canvas.
    const colours = await page.locator('[data-testid="heatmap"]').evaluate((c) => {
      const { data } = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height);
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(50);
  }, 420_000);

  it("gives the page's log-densities in Node from the downloaded model and ONNX graph", async () => {
    await page.locator('[data-testid="heatmap"]').scrollIntoViewIfNeeded();
    const box = (await page.locator('[data-testid="heatmap"]').boundingBox())!;
    for (const [fx, fy] of [
      [0.3, 0.3],
      [0.5, 0.5],
      [0.72, 0.62],
      [0.45, 0.85],
    ] as const) {
      const before = await page.getAttribute('[data-testid="probe"]', 'data-x');
      await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height);
      await page.waitForFunction((b) => document.querySelector('[data-testid="probe"]')?.getAttribute('data-x') !== b, before, { timeout: 30_000 });
      const at = async (name: string): Promise<number> => Number(await page.getAttribute('[data-testid="probe"]', name));
      probes.push({ x: await at('data-x'), y: await at('data-y'), logDensity: await at('data-log-density') });
    }
    const download = async (id: string): Promise<Buffer> => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${id}"]`)]);
      return readFileSync((await file.path())!);
    };
    modelBytes = await download('download-model');
    const onnxBytes = await download('download-logprob');
    const samplingBytes = await download('download-sample');
    expect(JSON.parse((await download('download-spec')).toString('utf8'))).toMatchObject({ format: 'typed-flows/distribution@1', kind: 'standardized' });

    const model = distributions.decodeDistributionModel(new Uint8Array(modelBytes));
    const x = tf.tensor2d(probes.flatMap((p) => [p.x, p.y]), [probes.length, 2]);
    try {
      const node = Array.from(distributions.logProbRows(model.dist, model.params, [x]));
      const onnx = Array.from((await runOnnx(new Uint8Array(onnxBytes), { x }))['logp']!.data);
      // float32 through five spline layers on three engines (the page's tfjs backend, Node's cpu backend,
      // ONNX Runtime): they differ by rounding, measured up to 6e-6 at |log p| = 3.6 (about ten ulps);
      // 1e-5 relative to max(1, |log p|) holds that with room, and a wrong parameter or layer misses it by far.
      probes.forEach((p, i) => {
        expect(Math.abs(p.logDensity - node[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(node[i]!)));
        expect(Math.abs(p.logDensity - onnx[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(node[i]!)));
      });
      // The sampling graph's draws carry their own log p: the library's log p at those points. The
      // draw goes through the flow's inverse and back, so rounding of both passes: 1e-4 relative.
      const noise = tf.randomNormal([16, 2], 0, 1, 'float32', 7);
      const drawn = await runOnnx(new Uint8Array(samplingBytes), { noise });
      const xs = tf.tensor2d(drawn['x']!.data as Float32Array, [16, 2]);
      const again = Array.from(distributions.logProbRows(model.dist, model.params, [xs]));
      Array.from(drawn['logp']!.data).forEach((lp, i) => expect(Math.abs(lp - again[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(again[i]!))));
      tf.dispose([noise, xs]);
    } finally {
      x.dispose();
      disposeParams(model.params);
    }
  }, 180_000);

  it('loads the downloaded model again, and refuses a file that is not one', async () => {
    await page.click('[data-testid="reset"]');
    await page.setInputFiles('[data-testid="model-file"]', { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: modelBytes });
    await page.waitForSelector('body[data-fit="loaded"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="model-status"]')).toContain('model.safetensors: loaded');
    // The loaded model gives the same log p where the page computed it before.
    await page.locator('[data-testid="heatmap"]').scrollIntoViewIfNeeded();
    const box = (await page.locator('[data-testid="heatmap"]').boundingBox())!;
    await page.mouse.move(box.x + 0.5 * box.width, box.y + 0.5 * box.height);
    await page.mouse.move(box.x + 0.3 * box.width, box.y + 0.3 * box.height);
    await expect.poll(async () => Number(await page.getAttribute('[data-testid="probe"]', 'data-log-density')), { timeout: 30_000 }).toBeCloseTo(probes[0]!.logDensity, 5);
    // Dropped on the page, it loads too.
    await page.click('[data-testid="reset"]');
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.safetensors'));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, modelBytes.toString('base64'));
    await expect.poll(() => page.textContent('[data-testid="model-status"]'), { timeout: 30_000 }).toContain('dropped.safetensors: loaded');
    expect(await page.getAttribute('body', 'data-fit')).toBe('loaded');
    await page.setInputFiles('[data-testid="model-file"]', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
    await expect.poll(() => page.textContent('[data-testid="model-status"]'), { timeout: 30_000 }).toMatch(/broken\.safetensors is not a typed-flows distribution model/);
  }, 120_000);

  it('takes points drawn with the mouse and pasted CSV', async () => {
    await page.selectOption('[data-testid="source"]', 'draw your own');
    expect(await page.getAttribute('body', 'data-rows')).toBe('0');
    expect(await page.isDisabled('[data-testid="start"]')).toBe(true); // nothing to fit yet
    await page.locator('[data-testid="data-canvas"]').scrollIntoViewIfNeeded();
    const box = (await page.locator('[data-testid="data-canvas"]').boundingBox())!;
    await page.mouse.move(box.x + 0.2 * box.width, box.y + 0.5 * box.height);
    await page.mouse.down();
    await page.mouse.move(box.x + 0.8 * box.width, box.y + 0.5 * box.height, { steps: 10 });
    await page.mouse.up();
    expect(Number(await page.getAttribute('body', 'data-rows'))).toBeGreaterThan(30);
    expect(await page.textContent('[data-testid="split"]')).toMatch(/to train on/);
    await page.locator('[data-testid="csv"]').evaluate((el) => ((el as HTMLTextAreaElement).closest('details')!.open = true));
    await page.fill('[data-testid="csv"]', `x,y\n${Array.from({ length: 40 }, (_, i) => `${Math.cos(i)},${Math.sin(i)}`).join('\n')}`);
    await page.click('[data-testid="use-csv"]');
    expect(await page.getAttribute('body', 'data-rows')).toBe('40');
    // An uploaded file too.
    const uploaded = `x,y\n${Array.from({ length: 25 }, (_, i) => `${i},${i % 7}`).join('\n')}\n`;
    await page.setInputFiles('[data-testid="csv-file"]', { name: 'points.csv', mimeType: 'text/csv', buffer: Buffer.from(uploaded) });
    await page.waitForSelector('body[data-rows="25"]', { timeout: 10_000 });
    await page.fill('[data-testid="csv"]', 'x,y\n1,2\n3,oops');
    await page.click('[data-testid="use-csv"]');
    expect(await page.textContent('[data-testid="data-error"]')).toContain('line 3 is not two numbers');
  });

  it('raised no uncaught errors in the page', () => {
    expect(session?.pageErrors).toEqual([]);
  });
});
