import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
    // The IVS player's worker and wasm are loaded by URL at run time, never inlined.
    assetsInlineLimit: 0,
    rolldownOptions: {
      // Two pages, each its own entry: viewers never download the control room (or the show schema).
      input: {
        viewer: resolve(import.meta.dirname, 'index.html'),
        control: resolve(import.meta.dirname, 'control/index.html'),
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/live': 'http://127.0.0.1:3000',
      '/config.json': 'http://127.0.0.1:3000',
    },
  },
});
