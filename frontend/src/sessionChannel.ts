// Tabs of one origin share the session cookie: when one signs in or out, the others are signed in
// as someone else, or not at all, without knowing it. The tab that did it announces it; the
// others then ask the server who is signed in (GET /api/me).

/** The BroadcastChannel sign-ins and sign-outs are announced on. */
export const SESSION_CHANNEL_NAME = 'herald-session'

export interface SessionChannel {
  /** Tells the origin's other tabs that this tab signed in or out. */
  announce(): void
  /** listener runs when another tab announced (never for this tab's own); returns the
   * unsubscribe. */
  subscribe(listener: () => void): () => void
}

/** The part of BroadcastChannel used. */
export interface SessionChannelPort {
  onmessage: ((event: MessageEvent) => void) | null
  postMessage(message: unknown): void
}

/**
 * A SessionChannel over BroadcastChannel('herald-session'), open as long as the page. Where the
 * browser has no BroadcastChannel, announcements reach no other tab: those find out at their next
 * request, whose 401 (ApiClient.onUnauthorized) ends their session.
 */
export function broadcastSessionChannel(
  open: (name: string) => SessionChannelPort | null = defaultOpen,
): SessionChannel {
  const port = open(SESSION_CHANNEL_NAME)
  const listeners = new Set<() => void>()
  if (port) {
    port.onmessage = () => {
      for (const listener of [...listeners]) listener()
    }
  }
  return {
    announce: () => port?.postMessage('changed'),
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}

function defaultOpen(name: string): SessionChannelPort | null {
  return typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(name)
}
