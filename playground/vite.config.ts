/**
 * Builds the playground (index.html + src/main.ts, and the density studio, studio.html +
 * src/studio/, with its workers; the library's src/ bundled in) into
 * dist/playground, relative paths throughout so it can be hosted under any path.
 * Cross-origin isolation (the two headers) lets tfjs's wasm backend use threads in the browser; a
 * host that cannot send them still works, on single-threaded SIMD wasm.
 */
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

const outDir = fileURLToPath(new URL('../dist/playground', import.meta.url));

/** Copies docs/ into the build, so the page's links to the docs work wherever it is hosted. */
const docs = (): Plugin => ({
  name: 'typed-flows-docs',
  apply: 'build',
  closeBundle: () => cpSync(fileURLToPath(new URL('../docs', import.meta.url)), `${outDir}/docs`, { recursive: true }),
});

export default defineConfig({
  plugins: [docs()],
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: { input: { main: fileURLToPath(new URL('index.html', import.meta.url)), studio: fileURLToPath(new URL('studio.html', import.meta.url)) } },
    // Minifying breaks tfjs-backend-wasm's pthread worker (its source is shipped as a string and
    // refers to names the minifier renames: "e is not defined"), and with it threaded wasm.
    minify: false,
  },
  // The studio's workers import the library as modules (the same chunks as the pages).
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
});
