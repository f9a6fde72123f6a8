// Herald's service worker, built by Vite to /sw.js (vite.config.ts fills in the build's file list
// and version). It keeps the app shell and the signed-in user's last viewed chats so that a
// reload while offline shows Herald with what it showed before; policy.ts says what is cached,
// for whom and for how long. Hand-written (no Workbox): a few routes, one cache per build and one
// per user, and nothing to configure.
/// <reference lib="webworker" />
import {
  CACHED_AT_HEADER,
  dataCacheName,
  gatewayFailure,
  MAX_DATA_ENTRIES,
  META_CACHE,
  obsoleteCaches,
  routeOf,
  SAVED_COPY_MESSAGE,
  shellCacheName,
  SHELL_KEY,
  shellPaths,
  USER_KEY,
  userIdIn,
  type SavedCopyMessage,
} from './policy'

declare const self: ServiceWorkerGlobalScope
/** The build's files, relative to dist/ (set by vite.config.ts). */
declare const __HERALD_BUILD_FILES__: string[]
/** A hash of the build's file names (set by vite.config.ts). */
declare const __HERALD_BUILD_VERSION__: string

const SHELL_CACHE = shellCacheName(__HERALD_BUILD_VERSION__)
const SHELL_FILES = new Set(shellPaths(__HERALD_BUILD_FILES__))

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE)
      await cache.addAll([...SHELL_FILES])
      await self.skipWaiting()
    })(),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys()
      await Promise.all(obsoleteCaches(names, __HERALD_BUILD_VERSION__).map((name) => caches.delete(name)))
      await self.clients.claim()
    })(),
  )
})

self.addEventListener('fetch', (event) => {
  const { request } = event
  const route = routeOf(request, self.location.origin, SHELL_FILES)
  switch (route.kind) {
    case 'pass':
      return
    case 'navigate':
      event.respondWith(navigate(request))
      return
    case 'shell-file':
      event.respondWith(shellFile(request))
      return
    case 'server-info':
      event.respondWith(networkFirst(request, META_CACHE, event.clientId))
      return
    case 'me':
      event.respondWith(me(request, event.clientId))
      return
    case 'user-data':
      event.respondWith(userData(request, event.clientId))
      return
    case 'signed-in':
      event.respondWith(signedIn(request))
      return
    case 'signed-out':
      event.respondWith(signedOut(request))
      return
  }
})

/**
 * The page from the network, or this build's index.html when that fails (the server answers every
 * route with it). The network's page is not stored: after a server update it names the new
 * build's assets, which only the new worker's shell cache holds.
 */
async function navigate(request: Request): Promise<Response> {
  try {
    return await fetch(request)
  } catch (err) {
    const shell = await caches.match(SHELL_KEY, { cacheName: SHELL_CACHE })
    if (shell) return shell
    throw err
  }
}

async function shellFile(request: Request): Promise<Response> {
  const cache = await caches.open(SHELL_CACHE)
  const cached = await cache.match(request)
  if (cached) return cached
  const response = await fetch(request)
  if (response.ok) await cache.put(request, response.clone())
  return response
}

/**
 * The network's answer, stored in cacheName when it is a success; the stored copy when the network
 * fails or a gateway says the server is down (telling the page it got a saved copy).
 */
async function networkFirst(request: Request, cacheName: string | undefined, clientId: string): Promise<Response> {
  let response: Response
  try {
    response = await fetch(request)
  } catch (err) {
    const saved = await savedCopy(request, cacheName, clientId)
    if (saved) return saved
    throw err
  }
  if (response.ok && cacheName !== undefined) {
    await store(cacheName, request, response.clone())
  } else if (gatewayFailure(response.status)) {
    return (await savedCopy(request, cacheName, clientId)) ?? response
  }
  return response
}

async function savedCopy(request: Request, cacheName: string | undefined, clientId: string): Promise<Response | undefined> {
  if (cacheName === undefined) return undefined
  const cache = await caches.open(cacheName)
  const saved = await cache.match(request)
  if (!saved) return undefined
  const cachedAt = Number(saved.headers.get(CACHED_AT_HEADER))
  const client = clientId ? await self.clients.get(clientId) : undefined
  const message: SavedCopyMessage = { type: SAVED_COPY_MESSAGE, cachedAt }
  client?.postMessage(message)
  return saved
}

/** Stores a copy stamped with the time; a user's cache keeps the MAX_DATA_ENTRIES newest. */
async function store(cacheName: string, request: Request, response: Response): Promise<void> {
  const headers = new Headers(response.headers)
  headers.set(CACHED_AT_HEADER, String(Date.now()))
  const body = await response.blob()
  const cache = await caches.open(cacheName)
  await cache.put(request, new Response(body, { status: response.status, statusText: response.statusText, headers }))
  if (cacheName === META_CACHE) return
  const keys = await cache.keys()
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_DATA_ENTRIES)).map((key) => cache.delete(key)))
}

/** GET /api/me says who is signed in: their cache is the one used from now on. */
async function me(request: Request, clientId: string): Promise<Response> {
  let response: Response
  try {
    response = await fetch(request)
  } catch (err) {
    const user = await signedInUser()
    const saved = user === undefined ? undefined : await savedCopy(request, dataCacheName(user), clientId)
    if (saved) return saved
    throw err
  }
  if (response.status === 401) {
    await forgetUser()
  } else if (response.ok) {
    const user = userIdIn(await response.clone().json().catch(() => undefined))
    if (user !== undefined) {
      await rememberUser(user)
      await store(dataCacheName(user), request, response.clone())
    }
  }
  return response
}

async function userData(request: Request, clientId: string): Promise<Response> {
  const user = await signedInUser()
  const response = await networkFirst(request, user === undefined ? undefined : dataCacheName(user), clientId)
  if (response.status === 401) await forgetUser()
  return response
}

/** A sign-in answers {user, token}: the user is who GET /api/me would say, which the page does not
 * ask again, so that answer is saved as /api/me's (without the token). */
async function signedIn(request: Request): Promise<Response> {
  const response = await fetch(request)
  if (response.ok) {
    const body: unknown = await response.clone().json().catch(() => undefined)
    const user = userIdIn(body)
    if (user !== undefined && typeof body === 'object' && body !== null && 'user' in body) {
      await rememberUser(user)
      const me = new Response(JSON.stringify({ user: body.user }), {
        headers: { 'Content-Type': 'application/json' },
      })
      await store(dataCacheName(user), new Request(new URL('/api/me', self.location.origin)), me)
    }
  }
  return response
}

async function signedOut(request: Request): Promise<Response> {
  const response = await fetch(request)
  if (response.ok) await forgetUser()
  return response
}

// Who is signed in, kept in META_CACHE: the worker may be stopped and started between requests.
let knownUser: string | null | undefined

async function signedInUser(): Promise<string | undefined> {
  if (knownUser === undefined) {
    const saved = await caches.match(USER_KEY, { cacheName: META_CACHE })
    knownUser = saved ? await saved.text() : null
  }
  return knownUser ?? undefined
}

/** Another user signing in ends the previous one's session here: their copies go. */
async function rememberUser(user: string): Promise<void> {
  const previous = await signedInUser()
  if (previous === user) return
  if (previous !== undefined) await caches.delete(dataCacheName(previous))
  knownUser = user
  const meta = await caches.open(META_CACHE)
  await meta.put(USER_KEY, new Response(user))
}

async function forgetUser(): Promise<void> {
  const previous = await signedInUser()
  knownUser = null
  if (previous !== undefined) await caches.delete(dataCacheName(previous))
  const meta = await caches.open(META_CACHE)
  await meta.delete(USER_KEY)
}
