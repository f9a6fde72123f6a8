import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
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

// The service worker (src/sw/sw.ts) is an entry of its own, emitted as /sw.js (a worker's scope
// is its directory: the root serves the whole app). Once the bundle is written, its file list and
// a version hashed from the file names (which carry content hashes; index.html's bytes too) are
// put into it: a new build is a new worker, which fills a new shell cache and deletes the old.
const SW_ENTRY = 'sw'

function serviceWorkerManifest(): Plugin {
  return {
    name: 'herald:service-worker-manifest',
    apply: 'build',
    writeBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((name) => name !== 'sw.js')
        .sort()
      const hash = createHash('sha256')
      for (const name of files) hash.update(`${name}\n`)
      hash.update(readFileSync(`${outDir}/index.html`))
      const version = hash.digest('hex').slice(0, 16)
      const path = `${outDir}/sw.js`
      const code = readFileSync(path, 'utf8')
      if (!code.includes('__HERALD_BUILD_FILES__') || !code.includes('__HERALD_BUILD_VERSION__')) {
        throw new Error('sw.js lacks the placeholders for its file list and version')
      }
      // A classic worker script cannot import: a module the page imports too was split out.
      if (/(^|[;}\s])import(\s*[{*"']|\s+\w)/.test(code)) {
        throw new Error('sw.js imports a chunk: the page and the worker must not share a module (see src/sw/register.ts)')
      }
      writeFileSync(
        path,
        code
          .replaceAll('__HERALD_BUILD_FILES__', JSON.stringify(files))
          .replaceAll('__HERALD_BUILD_VERSION__', JSON.stringify(version)),
      )
    },
  }
}

export default defineConfig({
  plugins: [react(), keepDistPlaceholder(), serviceWorkerManifest()],
  build: {
    outDir,
    emptyOutDir: true,
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        [SW_ENTRY]: fileURLToPath(new URL('./src/sw/sw.ts', import.meta.url)),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === SW_ENTRY ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
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
    // Whole-app tests (App, Workspace) render every page under jsdom; on a loaded 2-core CI run
    // one took over 5 s (vitest's default). A test that hangs still fails, at 20 s; Testing
    // Library's waits (setup.ts) give up at 5 s, inside it.
    testTimeout: 20_000,
  },
})
