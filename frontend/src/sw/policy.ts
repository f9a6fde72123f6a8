// What Herald's service worker (sw.ts) does with a request, as plain functions that tests can
// call without a worker. The rules:
//
// - Navigations: network first (a new build's page when online), the build's own index.html
//   (precached) when the network fails, so that a reload while offline shows Herald, not the
//   browser's error page.
// - The build's own files (hashed assets under /assets/, icons): cache first; they never change
//   under one name, and the shell cache is named by the build, so a new build gets a new cache and
//   the old ones are deleted when its worker activates.
// - The API: only GETs that are safe to show stale and that the user viewed are cached: their
//   identity (GET /api/me), the chat list, the directory and the pages of messages of the chats
//   they opened, in a cache of their own (herald-data-v1-<user id>); GET /api/server (public)
//   too, to know the keepalive interval before anyone signs in. Network first: a copy is served
//   only when the network fails (or a proxy answers 502–504), marked with CACHED_AT_HEADER. A
//   request with cache: 'no-store' (the stream's polls, which probe whether the server can be
//   reached) is never answered with a copy. Every other request (the event stream, search, files, anything not a GET) is left to the browser.
// - Sign-out (POST /api/auth/logout answered 2xx), a session that ended (401), or another user
//   signing in deletes the user's cache.

export const SHELL_CACHE_PREFIX = 'herald-shell-'
/** Bump the v1 when what a data cache holds changes shape: activate deletes the other versions. */
export const DATA_CACHE_PREFIX = 'herald-data-v1-'
/** GET /api/server's answer and who is signed in; not per user. */
export const META_CACHE = 'herald-meta-v1'
/** The key under which META_CACHE holds the signed-in user's id. */
export const USER_KEY = '/__herald/signed-in-user'
/** The key of the app shell (index.html) in the shell cache. */
export const SHELL_KEY = '/index.html'
/** A copy served from the cache carries the time it was stored (Unix ms) in this header. */
export const CACHED_AT_HEADER = 'X-Herald-Cached-At'
/** Responses kept per user (the oldest stored is dropped first): the last viewed chats' pages. */
export const MAX_DATA_ENTRIES = 60
/** The message a page receives when something it asked for came from the cache. */
export const SAVED_COPY_MESSAGE = 'herald-saved-copy'

export interface SavedCopyMessage {
  type: typeof SAVED_COPY_MESSAGE
  /** When the oldest copy served so far was stored (Unix ms). */
  cachedAt: number
}

export type Route =
  /** Not the worker's business: no respondWith, the browser does what it always does. */
  | { kind: 'pass' }
  | { kind: 'navigate' }
  | { kind: 'shell-file' }
  | { kind: 'server-info' }
  | { kind: 'me' }
  | { kind: 'user-data' }
  | { kind: 'signed-in' }
  | { kind: 'signed-out' }

export interface RequestLike {
  method: string
  url: string
  mode: string
  /** 'no-store' (ApiClient's fresh requests): from the network only, never a saved copy. */
  cache?: string
}

const MESSAGES_PATH = /^\/api\/chats\/[^/]+\/messages$/

/**
 * What to do with request. origin is the worker's; shellFiles are the build's files as paths
 * ('/assets/index-1a2b.js').
 */
export function routeOf(request: RequestLike, origin: string, shellFiles: ReadonlySet<string>): Route {
  const url = new URL(request.url)
  if (url.origin !== origin) return { kind: 'pass' }
  const path = url.pathname
  if (request.method === 'POST') {
    if (path === '/api/auth/logout') return { kind: 'signed-out' }
    if (path === '/api/auth/login' || path === '/api/auth/register') return { kind: 'signed-in' }
    return { kind: 'pass' }
  }
  if (request.method !== 'GET') return { kind: 'pass' }
  if (path.startsWith('/api/')) {
    if (request.cache === 'no-store') return { kind: 'pass' }
    if (path === '/api/server') return { kind: 'server-info' }
    if (path === '/api/me') return { kind: 'me' }
    if (path === '/api/chats' || path === '/api/users' || MESSAGES_PATH.test(path)) return { kind: 'user-data' }
    return { kind: 'pass' }
  }
  if (request.mode === 'navigate') return { kind: 'navigate' }
  if (shellFiles.has(path)) return { kind: 'shell-file' }
  return { kind: 'pass' }
}

export function shellCacheName(version: string): string {
  return SHELL_CACHE_PREFIX + version
}

export function dataCacheName(userId: string): string {
  return DATA_CACHE_PREFIX + encodeURIComponent(userId)
}

/** The caches a worker of this build deletes when it activates: other builds' shells and data
 * caches of other layouts. */
export function obsoleteCaches(names: readonly string[], version: string): string[] {
  return names.filter(
    (name) =>
      (name.startsWith(SHELL_CACHE_PREFIX) && name !== shellCacheName(version)) ||
      (name.startsWith('herald-data-') && !name.startsWith(DATA_CACHE_PREFIX)) ||
      (name.startsWith('herald-meta-') && name !== META_CACHE),
  )
}

/** Whether an answer means the server could not be reached (a proxy whose upstream is down). */
export function gatewayFailure(status: number): boolean {
  return status === 502 || status === 503 || status === 504
}

/** The user id in an answer of GET /api/me or of a sign-in ({user: {id}}), if there is one. */
export function userIdIn(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('user' in body)) return undefined
  const user = body.user
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined
  return typeof user.id === 'string' && user.id !== '' ? user.id : undefined
}

/** The paths of the build's files that the shell cache holds: everything but the worker itself. */
export function shellPaths(files: readonly string[]): string[] {
  return files.filter((f) => f !== 'sw.js' && !f.startsWith('.')).map((f) => `/${f}`)
}
