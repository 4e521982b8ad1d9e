/**
 * The playground end to end in a real headless Chromium (Debian's, driven by playwright-core; no
 * browser download): build the page with Vite, serve it, choose a task, draw, sample, and check that k
 * images with k log-likelihoods appear best first, with a plot of their costs by rank drawn by Vega
 * from the library's spec; the page explains its words (a glossary linking the
 * docs), what Sample will do, its limits and its NLL convention. A wrong or corrupt model file gets a clear message
 * and the loaded model survives. The screenshot is kept in test-artifacts/playground.png.
 *
 * Chromium must be installed (`.ci/run` installs it and sets TYPED_FLOWS_E2E=required, so CI fails
 * rather than skips without it); elsewhere the suite is skipped when /usr/bin/chromium is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST_TITLE, RANK_TITLE } from '../../src/plots/ranked-samples.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const required = process.env['TYPED_FLOWS_E2E'] === 'required';
const available = existsSync(CHROMIUM);
const CONFIG = 'playground/vite.config.ts';
const ARTIFACTS = 'test-artifacts';
// Without the networking flags Chromium keeps dialling out, and this machine refuses every connection.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!available && !required)('playground in headless Chromium', () => {
  let server: PreviewServer;
  let context: BrowserContext;
  let page: Page;
  let url: string;
  let userDataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!available) throw new Error(`TYPED_FLOWS_E2E=required but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    await build({ configFile: CONFIG, logLevel: 'warn' });
    server = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1' } });
    url = server.resolvedUrls?.local[0] ?? '';
    userDataDir = mkdtempSync(join(tmpdir(), 'typed-flows-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1200, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"][data-model="sr"]', { timeout: 60_000 });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

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
    expect(pageErrors).toEqual([]);
  });
});
