import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

const outDir = fileURLToPath(new URL('./dist', import.meta.url))

// emptyOutDir wipes dist/ before every build, including the placeholder that lets
// `//go:embed all:dist` (embed.go) compile in a fresh clone. Put it back afterwards so a build
// leaves `git status` clean.
function keepDistPlaceholder(): Plugin {
  return {
    name: 'herald:keep-dist-placeholder',
    apply: 'build',
    closeBundle() {
      writeFileSync(`${outDir}/.gitkeep`, '')
    },
  }
}

export default defineConfig({
  plugins: [react(), keepDistPlaceholder()],
  build: {
    outDir,
    emptyOutDir: true,
  },
  server: {
    proxy: {
      // The Go server is the backend in development. Vite's proxy pipes each response through
      // as it arrives and does not compress, so the server-sent event stream under /api reaches
      // the browser unbuffered, and closing it in the browser closes it on the server.
      '/api': {
        target: 'http://127.0.0.1:8080',
        ws: false,
      },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})
