import { defineConfig } from 'vite'

// Preact through oxc's automatic JSX runtime: no preset plugin needed.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true
  },
  server: {
    // `pnpm --filter @diststream/web dev` against a node on :8080
    proxy: { '/api': 'http://127.0.0.1:8080', '/live': 'http://127.0.0.1:8080', '/metrics': 'http://127.0.0.1:8080' }
  }
})
