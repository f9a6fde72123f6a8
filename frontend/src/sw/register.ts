// The page's side of the service worker (sw.ts): registering it where it can run, and hearing
// when something shown came from its saved copies rather than from the server.
import type { SavedCopyMessage } from './policy'

/**
 * policy.ts's SAVED_COPY_MESSAGE. Not imported: a value the page shared with the worker would go
 * to a chunk of its own, which a classic worker script cannot import. The type makes tsc check
 * that both say the same.
 */
const SAVED_COPY_MESSAGE: SavedCopyMessage['type'] = 'herald-saved-copy'

/** The part of navigator.serviceWorker used. */
export interface ServiceWorkerContainerLike {
  register(url: string, options: { scope: string }): Promise<unknown>
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  addEventListener(type: 'controllerchange', listener: () => void): void
  startMessages(): void
  readonly controller: unknown
}

/**
 * What the page asks for as it starts: a worker that takes control of a page already running (the
 * first visit) has seen none of it. Asked once more then, so that the saved copy exists from the
 * first visit on.
 */
export const START_REQUESTS = ['/api/me', '/api/chats', '/api/users']

export interface RegisterOptions {
  /** Default navigator.serviceWorker, when the browser has it. */
  container?: ServiceWorkerContainerLike
  /** The desktop app (Wails' WebKitGTK webview) has its own durable outbox and may lack service
   * workers: never registered there. */
  desktop: boolean
  /** Default: import.meta.env.PROD (Vite's dev server builds no /sw.js). */
  production?: boolean
  /** Default: the page's fetch. */
  fetch?: (url: string) => Promise<{ ok: boolean }>
  /** Where to report a failed registration; default console.warn. */
  warn?: (message: string, err: unknown) => void
}

/**
 * Registers /sw.js (scope: the whole origin) and listens for its saved-copy messages, which set
 * savedCopy. Skipped in the desktop app, in development and where service workers are missing
 * (an insecure origin other than localhost, an old webview). Returns whether it registered.
 */
export function registerServiceWorker(options: RegisterOptions): boolean {
  const container: ServiceWorkerContainerLike | undefined =
    options.container ??
    (typeof navigator !== 'undefined' && 'serviceWorker' in navigator ? navigator.serviceWorker : undefined)
  const production = options.production ?? import.meta.env.PROD
  if (container === undefined || options.desktop || !production) return false
  container.addEventListener('message', (event) => {
    if (isSavedCopyMessage(event.data)) savedCopy.report(event.data.cachedAt)
  })
  container.startMessages() // messages sent before the page listened are delivered now
  if (container.controller === null) {
    const get = options.fetch ?? ((url: string) => fetch(url, { credentials: 'same-origin' }))
    let warmed = false
    container.addEventListener('controllerchange', () => {
      if (warmed) return
      warmed = true
      // Who is signed in first: nobody (401), nothing to save.
      const [me, ...rest] = START_REQUESTS
      if (me === undefined) return
      get(me)
        .then((response) => {
          if (response.ok) for (const url of rest) get(url).catch(() => undefined)
        })
        .catch(() => undefined)
    })
  }
  const warn = options.warn ?? ((message, err) => console.warn(message, err))
  container.register('/sw.js', { scope: '/' }).catch((err: unknown) => warn('herald: no offline shell', err))
  return true
}

function isSavedCopyMessage(data: unknown): data is SavedCopyMessage {
  return (
    typeof data === 'object' &&
    data !== null &&
    'type' in data &&
    data.type === SAVED_COPY_MESSAGE &&
    'cachedAt' in data &&
    typeof data.cachedAt === 'number'
  )
}

/**
 * When the oldest saved copy shown since the last clear() was stored (Unix ms), or null: what the
 * page shows may be out of date. For useSyncExternalStore.
 */
export class SavedCopy {
  private at: number | null = null
  private readonly listeners = new Set<() => void>()

  get = (): number | null => this.at

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  report(cachedAt: number): void {
    const at = Number.isFinite(cachedAt) && cachedAt > 0 ? cachedAt : Date.now()
    if (this.at !== null && this.at <= at) return
    this.at = at
    this.emit()
  }

  /** The server answers again: what it sends replaces the copies. */
  clear(): void {
    if (this.at === null) return
    this.at = null
    this.emit()
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener()
  }
}

export const savedCopy = new SavedCopy()
