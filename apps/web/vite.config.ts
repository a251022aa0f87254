import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `vite` (dev) proxies the API and sockets to a chat server on :8000; `vite build` writes dist/,
// which the chat server serves at `/`.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // @switchboard/client and /protocol from their source (tsconfig.json `paths`), not their dist/.
  resolve: { tsconfigPaths: true },
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: {
      '/api': 'http://localhost:8000',
      '/ws': { target: 'ws://localhost:8000', ws: true },
    },
  },
});
