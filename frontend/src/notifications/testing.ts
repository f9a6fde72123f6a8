// Test helpers for the notification pipeline: notifications, a stream the test drives, an API
// kept in memory.
import { vi } from 'vitest'
import type { NotificationPageParams } from '../api/client'
import type { Event, Notification, Preferences } from '../api/types'
import type { ConnectionInfo, ConnectionState, EventListener, EventStream, InfoListener } from '../stream/types'
import { DEFAULT_PREFERENCES } from './preferences'

let sequence = 0

/** A notification (notify true, unread) with a fresh id unless given. */
export function note(partial: Partial<Notification> = {}): Notification {
  sequence++
  return {
    id: `n${String(sequence).padStart(4, '0')}`,
    type: 'message',
    title: 'Bob in #general',
    body: 'hello',
    link: '/chats/c1',
    chatId: 'c1',
    createdAt: 1_700_000_000_000 + sequence,
    read: false,
    notify: true,
    reason: '',
    ...partial,
  }
}

export function prefs(partial: Partial<Preferences> = {}): Preferences {
  return { ...DEFAULT_PREFERENCES, ...partial }
}

/** The event that carries n, as the server sends it. */
export function eventFor(n: Notification, extra: Partial<Event> = {}): Event {
  const type =
    n.type === 'mention'
      ? 'MENTION'
      : n.type === 'task'
        ? 'TASK_COMPLETED'
        : n.type === 'system'
          ? 'SYSTEM_NOTIFICATION'
          : n.type === 'file'
            ? 'FILE_PROCESSED'
            : 'NOTIFICATION'
  return { id: n.id, type, timestamp: n.createdAt, chatId: n.chatId, notification: n, ...extra }
}

/** An EventStream the test drives: emit() events, setState() the connection. */
export class DrivenStream implements EventStream {
  private current: ConnectionInfo = { state: 'connecting', lastEventAt: null, reconnects: 0, latencyMs: null }
  private readonly events = new Set<EventListener>()
  private readonly infos = new Set<InfoListener>()

  emit(event: Event): void {
    for (const listener of [...this.events]) listener(event)
  }

  setState(state: ConnectionState): void {
    this.current = { ...this.current, state }
    for (const listener of [...this.infos]) listener(this.current)
  }

  get listenerCount(): number {
    return this.events.size
  }

  start(): void {}
  stop(): void {}
  onEvent(listener: EventListener): () => void {
    this.events.add(listener)
    return () => this.events.delete(listener)
  }
  onInfo(listener: InfoListener): () => void {
    this.infos.add(listener)
    return () => this.infos.delete(listener)
  }
  info(): ConnectionInfo {
    return this.current
  }
  expectEcho(): void {}
}

/** The notification endpoints over an in-memory history (newest first, as the server answers). */
export class MemoryNotificationApi {
  history: Notification[] = []

  constructor(...entries: Notification[]) {
    this.history = [...entries].sort((a, b) => b.createdAt - a.createdAt)
  }

  readonly listNotifications = vi.fn((params: NotificationPageParams = {}) => {
    let list = this.history
    if (params.unread) list = list.filter((n) => !n.read)
    if (params.type) list = list.filter((n) => n.type === params.type)
    if (params.q) {
      const q = params.q.toLowerCase()
      list = list.filter((n) => n.title.toLowerCase().includes(q) || n.body.toLowerCase().includes(q))
    }
    if (params.before) {
      const at = list.findIndex((n) => n.id === params.before)
      list = at === -1 ? list : list.slice(at + 1)
    }
    const limit = params.limit ?? 50
    return Promise.resolve({ notifications: list.slice(0, limit), hasMore: list.length > limit })
  })

  readonly markNotificationsRead = vi.fn((ids: string[] | 'all') => {
    this.history = this.history.map((n) => (ids === 'all' || ids.includes(n.id) ? { ...n, read: true } : n))
    return Promise.resolve()
  })

  readonly markNotificationsUnread = vi.fn((ids: string[]) => {
    this.history = this.history.map((n) => (ids.includes(n.id) ? { ...n, read: false } : n))
    return Promise.resolve()
  })

  readonly clearNotifications = vi.fn(() => {
    this.history = []
    return Promise.resolve()
  })

  preferences: Preferences = prefs()

  readonly getPreferences = vi.fn(() => Promise.resolve(this.preferences))

  readonly putPreferences = vi.fn((p: Preferences) => {
    this.preferences = p
    return Promise.resolve(p)
  })
}
