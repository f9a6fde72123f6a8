// The one place that wires the concrete client classes together for a signed-in user. Components
// see only the contracts (ChatStoreApi, EventStream); tests hand App a fake Connect.
import type { ApiClient, InviteOptions, NewInvite, RegisterParams, Session } from './api/client'
import type { Preferences, Task, User } from './api/types'
import type { AdminApi } from './components/admin/adminApi'
import type { MonitorApi } from './components/admin/MonitorDashboard'
import { avatarSrc } from './components/Avatar'
import { chatTitle } from './components/chatNames'
import { desktopClient, isDesktopApp } from './desktop/desktop'
import { createNotifications, type Notifications } from './notifications/pipeline'
import { IndexedDbOutbox } from './outbox/IndexedDbOutbox'
import { ChatStore } from './state/ChatStore'
import type { ChatStoreApi } from './state/types'
import { createEventStream } from './stream'
import type { EventStream } from './stream/types'

/** What App needs of the API client beyond the store: the session, invites, the admin page and
 * its monitor. */
export interface AppApi extends AdminApi, MonitorApi {
  serverInfo(): Promise<{ needsSetup: boolean; keepaliveMs: number; tlsFingerprint?: string }>
  me(): Promise<User>
  login(username: string, password: string): Promise<Session>
  register(params: RegisterParams): Promise<Session>
  logout(): Promise<void>
  createInvite(options?: InviteOptions): Promise<NewInvite>
  /** The reset link's page (/reset/{token}), signed in or not. */
  resetPassword(token: string, newPassword: string): Promise<void>
  /** See ApiClient.onUnauthorized. */
  onUnauthorized(listener: () => void): () => void
  /** The settings page (/settings). */
  getPreferences(): Promise<Preferences>
  putPreferences(preferences: Preferences): Promise<Preferences>
  /** The task results page (/tasks/{id}). */
  getTask(taskId: string): Promise<Task>
}

/** A signed-in user's store and event stream, started at sign-in and stopped at sign-out. */
export interface Connection {
  store: ChatStoreApi
  stream: EventStream
  /** Toasts, sounds, browser notifications, the notification center and preferences (the
   * workspace starts and stops them). Absent in tests that do not need them. */
  notifications?: Notifications
}

/** Builds, without starting them, the store and stream for me. keepaliveMs comes from
 * GET /api/server: the stream reconnects when nothing arrives for twice that long. */
export type Connect = (me: User, keepaliveMs: number) => Connection

export function connectWith(api: ApiClient): Connect {
  return (me, keepaliveMs) => {
    const stream = createEventStream({ keepaliveMs, api }, me.id)
    // One outbox per user: what alice queued must never be sent as bob after a sign-in switch.
    const store = new ChatStore({
      api,
      stream,
      outbox: new IndexedDbOutbox(undefined, `herald-outbox-${me.id}`),
      me,
      relayedOutbox: isDesktopApp() ? () => desktopClient.outbox() : undefined,
    })
    const notifications = createNotifications({
      api,
      stream,
      chatTitle: (chatId) => {
        const { chats, users } = store.getSnapshot()
        const chat = chats.find((c) => c.id === chatId)
        return chat && { title: chatTitle(chat, users, me.id), dm: chat.kind === 'dm' }
      },
      iconOf: (userId) => {
        const user = store.getSnapshot().users[userId]
        return (user && avatarSrc(user, 64)) ?? undefined
      },
    })
    return { store, stream, notifications }
  }
}
