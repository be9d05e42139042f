// Builds the console into dist/ (committed: onewindowd embeds it at build
// time). Relative asset URLs would break on client-side routes such as
// /case/ID, so assets are served from /assets/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2020',
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
