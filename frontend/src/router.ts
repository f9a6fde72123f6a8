// Client-side routes on the History API, without a router dependency. herald-server answers
// every non-API path with index.html, so each of these URLs can be loaded, bookmarked and shared.
//
//   /                 the app (chat list; sign-in or first-run setup when signed out)
//   /join/{code}      register with an invite code
//   /chats/{chatId}   one chat; ?message={id} opens it at that message (a shared link, a search
//                     result), &thread={parentId} for a reply, in its thread
//   /settings         notification settings
//   /settings/account profile, status, picture, password, sessions
//   /tasks/{taskId}   a task's results
//   /admin/{section}  admins: people, invites, audit (the audit log), team (team settings) or
//                     monitor (the health dashboard)
//   /reset/{token}    set a new password with an admin's one-time reset link
//
// Any other path shows the app, as / does.

export type Route =
  | { page: 'home' }
  | { page: 'join'; code: string }
  | {
      page: 'chat'
      chatId: string
      /** Open the chat at this message, highlighted (?message=). */
      messageId?: string
      /** The message is a reply: open this thread too (?thread=). */
      threadId?: string
    }
  | { page: 'settings' }
  | { page: 'account' }
  | { page: 'task'; taskId: string }
  | { page: 'admin'; section: AdminSection }
  | { page: 'reset'; token: string }

/** The sections of the admin page, in the order its navigation lists them. */
export const ADMIN_SECTIONS = ['people', 'invites', 'audit', 'team', 'monitor'] as const
export type AdminSection = (typeof ADMIN_SECTIONS)[number]

/** The route of a same-origin path, with or without its query (?message=…&thread=…). */
export function parseRoute(path: string): Route {
  const queryAt = path.indexOf('?')
  const pathname = queryAt < 0 ? path : path.slice(0, queryAt)
  const query = new URLSearchParams(queryAt < 0 ? '' : path.slice(queryAt + 1))
  const join = /^\/join\/([^/]+)\/?$/.exec(pathname)
  if (join?.[1]) return { page: 'join', code: decodeSegment(join[1]) }
  const chat = /^\/chats\/([^/]+)\/?$/.exec(pathname)
  if (chat?.[1]) {
    const route: Route = { page: 'chat', chatId: decodeSegment(chat[1]) }
    const messageId = query.get('message')
    const threadId = query.get('thread')
    if (messageId) route.messageId = messageId
    if (messageId && threadId) route.threadId = threadId
    return route
  }
  if (/^\/settings\/?$/.test(pathname)) return { page: 'settings' }
  if (/^\/settings\/account\/?$/.test(pathname)) return { page: 'account' }
  const task = /^\/tasks\/([^/]+)\/?$/.exec(pathname)
  if (task?.[1]) return { page: 'task', taskId: decodeSegment(task[1]) }
  const admin = /^\/admin(?:\/([^/]+))?\/?$/.exec(pathname)
  if (admin) {
    const section = ADMIN_SECTIONS.find((s) => s === (admin[1] ?? 'people'))
    if (section) return { page: 'admin', section }
  }
  const reset = /^\/reset\/([^/]+)\/?$/.exec(pathname)
  if (reset?.[1]) return { page: 'reset', token: decodeSegment(reset[1]) }
  return { page: 'home' }
}

export function adminPath(section: AdminSection = 'people'): string {
  return `/admin/${section}`
}

export function chatPath(chatId: string): string {
  return `/chats/${encodeURIComponent(chatId)}`
}

/**
 * The link that opens a chat at one of its messages ("Copy link", search results, notifications):
 * /chats/{chatId}?message={id}, with &thread={parentId} for a reply, which opens its thread too.
 */
export function messagePath(chatId: string, messageId: string, threadId?: string): string {
  const query = new URLSearchParams({ message: messageId })
  if (threadId) query.set('thread', threadId)
  return `${chatPath(chatId)}?${query.toString()}`
}

export function taskPath(taskId: string): string {
  return `/tasks/${encodeURIComponent(taskId)}`
}

export const homePath = '/'

export const settingsPath = '/settings'

export const accountPath = '/settings/account'

// A malformed escape (e.g. "/chats/%E0") is taken literally rather than thrown at render time.
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

// pushState and replaceState fire no event; navigate() tells these listeners itself.
const listeners = new Set<() => void>()

/**
 * Goes to path (same origin) without reloading. replace: swap the current history entry instead
 * of adding one (for redirects, so Back does not bounce into them again).
 */
export function navigate(path: string, { replace = false }: { replace?: boolean } = {}): void {
  if (path === currentPath()) return
  if (replace) {
    window.history.replaceState(null, '', path)
  } else {
    window.history.pushState(null, '', path)
  }
  for (const listener of listeners) listener()
}

/** The page's path with its query, as parseRoute and navigate take it. */
export function currentPath(): string {
  return window.location.pathname + window.location.search
}

/** Calls listener whenever the path changes: navigate() or the browser's Back/Forward. */
export function subscribeToLocation(listener: () => void): () => void {
  listeners.add(listener)
  window.addEventListener('popstate', listener)
  return () => {
    listeners.delete(listener)
    window.removeEventListener('popstate', listener)
  }
}
