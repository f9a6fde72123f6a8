// The notification center's state: the user's history as the server keeps it (GET
// /api/notifications), one filtered page after another, with live entries from the event stream
// and the unread count. Framework-free; React reads immutable snapshots through
// useSyncExternalStore.
import type { NotificationPage, NotificationPageParams } from '../api/client'
import type { Event, Notification, NotificationKind } from '../api/types'
import type { EventStream } from '../stream/types'

/** The API calls the center makes (ApiClient has them all). */
export interface CenterApi {
  listNotifications(params?: NotificationPageParams): Promise<NotificationPage>
  markNotificationsRead(ids: string[] | 'all'): Promise<void>
  markNotificationsUnread(ids: string[]): Promise<void>
  clearNotifications(): Promise<void>
}

export interface CenterFilter {
  /** null: every type. */
  type: NotificationKind | null
  /** Search text, matched by the server in title and body. */
  q: string
}

export interface CenterSnapshot {
  /** The entries matching the filter, newest first, without duplicates. */
  items: Notification[]
  filter: CenterFilter
  /** Older entries matching the filter exist on the server ("Load older"). */
  hasMore: boolean
  /** The first page for the current filter is loading. */
  loading: boolean
  loadingOlder: boolean
  /** Why the last load or action failed, shown until the next succeeds. */
  error: string | null
  /** Unread entries of every type (not only the filtered ones). */
  unread: number
  /** unread counts only the first UNREAD_SCAN_LIMIT unread entries: there are more. */
  unreadCapped: boolean
  /** Per thread (parent message id), the unread replies' notification ids: replies that arrived
   * while the thread was closed. */
  unreadReplies: Readonly<Record<string, readonly string[]>>
}

export const PAGE_SIZE = 30
/** How many unread entries the start-up count looks at (the badge says "99+" beyond). */
export const UNREAD_SCAN_LIMIT = 100

export class NotificationCenterStore {
  private readonly api: CenterApi
  private readonly stream: EventStream | null
  private snapshot: CenterSnapshot = {
    items: [],
    filter: { type: null, q: '' },
    hasMore: false,
    loading: false,
    loadingOlder: false,
    error: null,
    unread: 0,
    unreadCapped: false,
    unreadReplies: {},
  }
  private readonly listeners = new Set<() => void>()
  /** Unread ids known to this client, of every type. */
  private unreadIds = new Set<string>()
  private unreadCapped = false
  /** Bumped by every change of filter or reload, so that late answers to old queries are dropped. */
  private generation = 0
  private unsubscribe: (() => void) | null = null
  /** Entries that arrived live since the current first-page request went out: its answer may
   * predate them. */
  private arrived: Notification[] = []
  /** What each entry seen is about, by id, for entries of every type (also unread ones outside
   * the filtered list): its chat, message and thread. */
  private readonly about = new Map<string, Pick<Notification, 'type' | 'chatId' | 'messageId' | 'parentId'>>()
  /** Messages deleted (MESSAGE_DELETED): entries about them are dropped, also when they come
   * again later (a replay). */
  private readonly deletedMessages = new Set<string>()

  constructor(api: CenterApi, stream: EventStream | null = null) {
    this.api = api
    this.stream = stream
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  getSnapshot(): CenterSnapshot {
    return this.snapshot
  }

  /** Follows the stream and loads the first page and the unread count. Restartable. */
  start(): Promise<void> {
    if (this.stream && this.unsubscribe === null) {
      this.unsubscribe = this.stream.onEvent((event) => this.handleEvent(event))
    }
    return this.reload()
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.generation++
  }

  /** An event from the stream: entries it carries are added; RESYNC reloads; a deleted message
   * takes the entries about it along; the user's read marker marks those read that reading the
   * chat marks read on the server. */
  handleEvent(event: Event): void {
    if (event.type === 'RESYNC') {
      void this.reload()
      return
    }
    if (event.type === 'MESSAGE_DELETED' && event.messageId) {
      this.messageDeleted(event.messageId)
      return
    }
    if (event.type === 'READ_MARKER' && event.chatId && event.messageId) {
      this.chatRead(event.chatId, event.messageId)
      return
    }
    if (event.notification) this.add(event.notification)
  }

  /** Adds a live entry (once per id), counting it unread unless it is read. */
  add(notification: Notification): void {
    if (this.isAboutDeleted(notification)) return
    this.remember([notification])
    const known = this.snapshot.items.some((n) => n.id === notification.id)
    if (!notification.read) this.unreadIds.add(notification.id)
    if (this.snapshot.loading) this.arrived.push(notification)
    if (known || !this.matches(notification)) {
      this.publish({})
      return
    }
    const items = [notification, ...this.snapshot.items].sort(newestFirst)
    this.publish({ items })
  }

  /** Loads the first page for the current filter and recounts the unread entries. */
  async reload(): Promise<void> {
    const generation = ++this.generation
    this.arrived = []
    this.publish({ loading: true, error: null })
    const { type, q } = this.snapshot.filter
    try {
      const [page, unread, replies] = await Promise.all([
        this.api.listNotifications(this.params({ type, q })),
        this.api.listNotifications({ unread: true, limit: UNREAD_SCAN_LIMIT }),
        // The threads' unread replies, also beyond the count's scan.
        this.api.listNotifications({ unread: true, type: 'reply', limit: UNREAD_SCAN_LIMIT }),
      ])
      if (generation !== this.generation) return
      this.remember([...unread.notifications, ...replies.notifications])
      this.unreadIds = new Set([...unread.notifications, ...replies.notifications].map((n) => n.id))
      // Entries that arrived live while the request was out.
      for (const n of this.arrived) if (!n.read) this.unreadIds.add(n.id)
      this.unreadCapped = unread.hasMore
      this.absorb(page.notifications)
      this.publish({
        items: this.withArrived(page.notifications),
        hasMore: page.hasMore,
        loading: false,
      })
    } catch (err) {
      if (generation !== this.generation) return
      this.publish({ loading: false, error: messageOf(err) })
    }
  }

  /** Shows only entries of this type and matching the search (server-side), from the newest. */
  setFilter(change: Partial<CenterFilter>): Promise<void> {
    const filter = { ...this.snapshot.filter, ...change }
    if (filter.type === this.snapshot.filter.type && filter.q === this.snapshot.filter.q) {
      return Promise.resolve()
    }
    this.publish({ filter, items: [], hasMore: false })
    return this.reloadPage()
  }

  /** Appends the next older page. */
  async loadOlder(): Promise<void> {
    const { items, hasMore, loadingOlder, filter } = this.snapshot
    const oldest = items.at(-1)
    if (!hasMore || loadingOlder || oldest === undefined) return
    const generation = this.generation
    this.publish({ loadingOlder: true, error: null })
    try {
      const page = await this.api.listNotifications(this.params({ ...filter, before: oldest.id }))
      if (generation !== this.generation) return
      this.absorb(page.notifications)
      this.publish({
        items: dedupe([...this.snapshot.items, ...page.notifications]).sort(newestFirst),
        hasMore: page.hasMore,
        loadingOlder: false,
      })
    } catch (err) {
      if (generation !== this.generation) return
      this.publish({ loadingOlder: false, error: messageOf(err) })
    }
  }

  markRead(ids: string[]): Promise<void> {
    const unread = ids.filter((id) => this.isUnread(id))
    if (unread.length === 0) return Promise.resolve()
    return this.change(
      () => this.setRead(unread, true),
      () => this.setRead(unread, false),
      () => this.api.markNotificationsRead(unread),
    )
  }

  markUnread(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve()
    const read = ids.filter((id) => !this.isUnread(id))
    return this.change(
      () => this.setRead(read, false),
      () => this.setRead(read, true),
      () => this.api.markNotificationsUnread(ids),
    )
  }

  markAllRead(): Promise<void> {
    const before = { items: this.snapshot.items, unreadIds: this.unreadIds, capped: this.unreadCapped }
    return this.change(
      () => {
        this.unreadIds = new Set()
        this.unreadCapped = false
        this.publish({ items: this.snapshot.items.map((n) => (n.read ? n : { ...n, read: true })) })
      },
      () => {
        this.unreadIds = before.unreadIds
        this.unreadCapped = before.capped
        this.publish({ items: before.items })
      },
      () => this.api.markNotificationsRead('all'),
    )
  }

  /** Deletes the whole history on the server. */
  async clear(): Promise<void> {
    this.publish({ error: null })
    try {
      await this.api.clearNotifications()
    } catch (err) {
      this.publish({ error: messageOf(err) })
      throw err
    }
    this.generation++
    this.unreadIds = new Set()
    this.unreadCapped = false
    this.publish({ items: [], hasMore: false, loading: false, loadingOlder: false })
  }

  isUnread(id: string): boolean {
    return this.unreadIds.has(id)
  }

  /** Applies a change at once, undoing it if the server refuses. */
  private async change(apply: () => void, undo: () => void, request: () => Promise<void>): Promise<void> {
    apply()
    this.publish({ error: null })
    try {
      await request()
    } catch (err) {
      undo()
      this.publish({ error: messageOf(err) })
      throw err
    }
  }

  /** Notes what entries are about (see about). */
  private remember(notifications: Notification[]): void {
    for (const { id, type, chatId, messageId, parentId } of notifications) {
      this.about.set(id, { type, chatId, messageId, parentId })
    }
  }

  private isAboutDeleted(n: Notification): boolean {
    return n.messageId !== undefined && this.deletedMessages.has(n.messageId)
  }

  /** The entries about a deleted message leave the history (the server erased them too). */
  private messageDeleted(messageId: string): void {
    this.deletedMessages.add(messageId)
    const gone = new Set<string>()
    for (const [id, about] of this.about) if (about.messageId === messageId) gone.add(id)
    for (const n of this.snapshot.items) if (n.messageId === messageId) gone.add(n.id)
    if (gone.size === 0) return
    for (const id of gone) {
      this.unreadIds.delete(id)
      this.about.delete(id)
    }
    this.arrived = this.arrived.filter((n) => !gone.has(n.id))
    this.publish({ items: this.snapshot.items.filter((n) => !gone.has(n.id)) })
  }

  /**
   * The user read the chat up to messageId (READ_MARKER, from any of their devices): the server
   * has marked read their notifications about the chat's messages up to it. Replies in threads
   * stay unread until their thread is read (markRead).
   */
  private chatRead(chatId: string, messageId: string): void {
    const read: string[] = []
    for (const id of this.unreadIds) {
      const about = this.about.get(id)
      if (
        about?.chatId === chatId &&
        about.messageId !== undefined &&
        about.messageId <= messageId &&
        (about.type === 'message' || about.type === 'mention')
      ) {
        read.push(id)
      }
    }
    if (read.length > 0) this.setRead(read, true)
  }

  /** Entries fresh from the server say whether they are read. */
  private absorb(notifications: Notification[]): void {
    this.remember(notifications)
    for (const n of notifications) {
      if (n.read) this.unreadIds.delete(n.id)
      else this.unreadIds.add(n.id)
    }
  }

  private setRead(ids: string[], read: boolean): void {
    const set = new Set(ids)
    for (const id of ids) {
      if (read) this.unreadIds.delete(id)
      else this.unreadIds.add(id)
    }
    this.publish({
      items: this.snapshot.items.map((n) => (set.has(n.id) && n.read !== read ? { ...n, read } : n)),
    })
  }

  private async reloadPage(): Promise<void> {
    const generation = ++this.generation
    this.arrived = []
    this.publish({ loading: true, error: null })
    try {
      const page = await this.api.listNotifications(this.params(this.snapshot.filter))
      if (generation !== this.generation) return
      this.absorb(page.notifications)
      this.publish({
        items: this.withArrived(page.notifications),
        hasMore: page.hasMore,
        loading: false,
      })
    } catch (err) {
      if (generation !== this.generation) return
      this.publish({ loading: false, error: messageOf(err) })
    }
  }

  /** A first page with the live entries that arrived while it loaded. */
  private withArrived(page: Notification[]): Notification[] {
    const arrived = this.arrived.filter((n) => this.matches(n))
    this.arrived = []
    return dedupe([...page, ...arrived]).sort(newestFirst)
  }

  private params({ type, q, before }: CenterFilter & { before?: string }): NotificationPageParams {
    const params: NotificationPageParams = { limit: PAGE_SIZE }
    if (type !== null) params.type = type
    if (q.trim() !== '') params.q = q.trim()
    if (before !== undefined) params.before = before
    return params
  }

  /** Whether a live entry belongs in the filtered list (the server's rules: type, substring). */
  private matches(n: Notification): boolean {
    const { type, q } = this.snapshot.filter
    if (type !== null && n.type !== type) return false
    const needle = q.trim().toLowerCase()
    return needle === '' || n.title.toLowerCase().includes(needle) || n.body.toLowerCase().includes(needle)
  }

  /** The unread replies per thread; the same object as before when unchanged. */
  private threadsUnread(): CenterSnapshot['unreadReplies'] {
    const threads: Record<string, string[]> = {}
    for (const id of [...this.unreadIds].sort()) {
      const about = this.about.get(id)
      if (about?.type !== 'reply' || about.parentId === undefined) continue
      ;(threads[about.parentId] ??= []).push(id)
    }
    return sameThreads(threads, this.snapshot.unreadReplies) ? this.snapshot.unreadReplies : threads
  }

  private publish(change: Partial<CenterSnapshot>): void {
    // Items' read flags follow the unread set, whoever changed it.
    const items = (change.items ?? this.snapshot.items).map((n) => {
      const read = !this.unreadIds.has(n.id)
      return n.read === read ? n : { ...n, read }
    })
    this.snapshot = {
      ...this.snapshot,
      ...change,
      items: items.filter((n) => !this.isAboutDeleted(n)),
      unread: this.unreadIds.size,
      unreadCapped: this.unreadCapped,
      unreadReplies: this.threadsUnread(),
    }
    for (const listener of [...this.listeners]) listener()
  }
}

function sameThreads(
  a: Readonly<Record<string, readonly string[]>>,
  b: Readonly<Record<string, readonly string[]>>,
): boolean {
  const keys = Object.keys(a)
  return (
    keys.length === Object.keys(b).length &&
    keys.every((k) => {
      const x = a[k] ?? []
      const y = b[k] ?? []
      return x.length === y.length && x.every((id, i) => id === y[i])
    })
  )
}

function newestFirst(a: Notification, b: Notification): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

function dedupe(items: Notification[]): Notification[] {
  const seen = new Set<string>()
  return items.filter((n) => (seen.has(n.id) ? false : (seen.add(n.id), true)))
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
