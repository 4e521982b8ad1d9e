/**
 * Builds the playground (index.html + src/main.ts, the library's src/ bundled in) into
 * dist/playground, relative paths throughout so it can be hosted under any path.
 * Cross-origin isolation (the two headers) lets tfjs's wasm backend use threads in the browser; a
 * host that cannot send them still works, on single-threaded SIMD wasm.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../dist/playground', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    // Minifying breaks tfjs-backend-wasm's pthread worker (its source is shipped as a string and
    // refers to names the minifier renames: "e is not defined"), and with it threaded wasm.
    minify: false,
  },
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
});
