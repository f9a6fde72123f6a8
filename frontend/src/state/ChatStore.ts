import type { ApiClient, DirectoryUser } from '../api/client'
import { errorMessage } from '../api/client'
import type { AgentStatus, Chat, Event, Message, User } from '../api/types'
import type { Outbox, OutboxItem } from '../outbox/types'
import type { ConnectionInfo, ConnectionState, EventStream } from '../stream/types'
import { mergeChatList, sortChats, upsertChat } from './merge'
import { OutboxSender } from './OutboxSender'
import { addPending, findPending, type PendingByChat, removePending, setSendState } from './pending'
import { ReadMarkers } from './ReadMarkers'
import type { ChatStoreApi, ChatView, LoadOlderOptions, Member, SendState, Snapshot } from './types'
import { TypingTracker } from './typing'
import { loadingView, NO_PENDING, withNewestPage, withNewMessages, withOlderPage } from './views'

/** Messages per history page. */
export const PAGE_SIZE = 50
/** A failed refetch after RESYNC is tried again this long later (ms). */
export const RESYNC_RETRY_MS = 5_000
/** After a failed load of older history, automatic loads (LoadOlderOptions) of the chat are held
 * back this long (ms), doubling with each failure in a row up to OLDER_RETRY_MAX_MS. */
export const OLDER_RETRY_MIN_MS = 2_000
export const OLDER_RETRY_MAX_MS = 60_000

/** The part of ApiClient the store uses (a real ApiClient fits; tests pass a fake). */
export type ChatApi = Pick<
  ApiClient,
  | 'listChats'
  | 'listUsers'
  | 'createChat'
  | 'addMember'
  | 'listMessages'
  | 'postMessage'
  | 'markRead'
  | 'typing'
>

export interface ChatStoreDeps {
  api: ChatApi
  /** Owned by the caller, who starts and stops it; the store only listens. */
  stream: EventStream
  outbox: Outbox
  me: User
  /** Unix ms; defaults to Date.now. */
  now?: () => number
  /** Defaults to randomClientId. */
  newClientId?: () => string
  /** In the desktop app: the messages its own outbox holds (handed over while the server was
   * unreachable), shown as queued until they arrive — also after a reload. */
  relayedOutbox?: () => Promise<OutboxItem[]>
}

/** The states in which the server is reachable again: time to send the outbox. */
const REACHABLE: ConnectionState[] = ['live', 'polling']

/**
 * The web client's state: chats, directory, opened chat views, pending messages and typers, as
 * one immutable Snapshot (a new object on every change; unchanged parts keep their identity) for
 * useSyncExternalStore. It follows the event stream, talks to the REST API, and sends messages
 * through the outbox (see OutboxSender): each message is stored before its first POST, shown as
 * pending until confirmed, and sent in order, exactly once thanks to its clientId.
 */
export class ChatStore implements ChatStoreApi {
  private readonly api: ChatApi
  private readonly stream: EventStream
  private readonly outbox: Outbox
  private readonly now: () => number
  private readonly newClientId: () => string
  private readonly relayedOutbox: (() => Promise<OutboxItem[]>) | undefined
  private readonly sender: OutboxSender
  private readonly typing: TypingTracker
  private readonly reads: ReadMarkers
  private snapshot: Snapshot
  private readonly listeners = new Set<() => void>()
  /** Pending messages per chat, also for chats without a view yet. */
  private pending: PendingByChat = {}
  /** First-page loads per chat, settled or in flight; a failed one is removed to be retried. */
  private readonly loads = new Map<string, Promise<void>>()
  private openChatId: string | null = null
  /** Per chat id, since a load of older history failed (cleared by one that succeeds): when the
   * last one failed (Unix ms) and how long automatic loads wait after it. */
  private readonly olderFailures = new Map<string, { at: number; waitMs: number }>()
  /** Events that arrived before start() had loaded the chat list, applied after it; null once
   * loaded. */
  private buffered: Event[] | null = null
  private lastState: ConnectionState | null = null
  private resyncTimer: ReturnType<typeof setTimeout> | null = null
  private readonly cleanups: (() => void)[] = []
  private started = false
  private stopped = false

  constructor(deps: ChatStoreDeps) {
    this.api = deps.api
    this.stream = deps.stream
    this.outbox = deps.outbox
    this.now = deps.now ?? (() => Date.now())
    this.newClientId = deps.newClientId ?? randomClientId
    this.relayedOutbox = deps.relayedOutbox
    this.typing = new TypingTracker({ now: this.now, onChange: (chatId) => this.typersChanged(chatId) })
    this.reads = new ReadMarkers((chatId, messageId) => this.api.markRead(chatId, messageId))
    this.sender = new OutboxSender({
      outbox: this.outbox,
      post: (item) => this.api.postMessage(item.chatId, item.content, item.clientId),
      events: {
        sending: (item) => {
          this.stream.expectEcho(item.clientId, this.now())
          this.setSendState(item.clientId, 'sending')
        },
        sent: (item, message) => {
          this.setPending(removePending(this.pending, item.clientId))
          this.receive(message)
        },
        relayed: (item) => this.setSendState(item.clientId, 'relayed'),
        queued: (items) => {
          for (const item of items) this.setSendState(item.clientId, 'queued')
        },
        failed: (item, error) => this.setSendState(item.clientId, 'failed', error),
      },
    })
    this.snapshot = { me: deps.me, chats: [], users: {}, views: {}, typing: {} }
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  getSnapshot = (): Snapshot => this.snapshot

  /** Rejects if the chat list, the directory or the outbox cannot be read; start() may then be
   * called again. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.buffered = []
    this.lastState = this.stream.info().state
    this.cleanups.push(
      this.stream.onEvent((event) => {
        if (this.buffered) this.buffered.push(event)
        else this.handle(event)
      }),
      this.stream.onInfo((info) => this.connectionChanged(info)),
    )
    if (typeof window !== 'undefined') {
      const online = () => void this.sender.flush()
      window.addEventListener('online', online)
      this.cleanups.push(() => window.removeEventListener('online', online))
    }
    let chats: Chat[], users: DirectoryUser[], items: OutboxItem[], relayed: OutboxItem[]
    try {
      ;[chats, users, items, relayed] = await Promise.all([
        this.api.listChats(),
        this.api.listUsers(),
        this.outbox.list(),
        // The app's outbox is a nicety to show: never a reason not to start.
        this.relayedOutbox ? this.relayedOutbox().catch(() => []) : Promise.resolve([]),
      ])
    } catch (err) {
      for (const cleanup of this.cleanups.splice(0)) cleanup()
      this.started = false
      throw err
    }
    if (this.stopped) return
    let pending = this.pending
    for (const item of items) {
      pending = addPending(pending, item, item.error === undefined ? 'queued' : 'failed', item.error)
    }
    for (const item of relayed) {
      if (!findPending(pending, item.clientId)) pending = addPending(pending, item, 'relayed')
    }
    this.setPending(pending)
    this.update({ chats: sortChats(chats), users: directory(users) })
    const buffered = this.buffered ?? []
    this.buffered = null
    for (const event of buffered) this.handle(event)
    void this.sender.flush()
  }

  stop(): void {
    this.stopped = true
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    this.sender.stop()
    this.typing.clear()
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer)
    this.resyncTimer = null
  }

  /** Rejects if the first page cannot be loaded (a later call tries again). */
  closeChat(chatId: string): void {
    if (this.openChatId === chatId) this.openChatId = null
  }

  async openChat(chatId: string): Promise<void> {
    this.openChatId = chatId
    this.patchChat(chatId, (chat) => (chat.unread ? { ...chat, unread: 0 } : chat))
    await this.load(chatId)
    const newest = this.snapshot.views[chatId]?.messages.at(-1)
    if (newest && this.openChatId === chatId) this.markRead(chatId, newest.id)
  }

  /** A no-op while the view loads, when there is nothing older, or for an automatic load while
   * it is held back after a failed one. Rejects if the page cannot be loaded. */
  async loadOlder(chatId: string, { automatic = false }: LoadOlderOptions = {}): Promise<void> {
    const view = this.snapshot.views[chatId]
    const oldest = view?.messages[0]
    if (!view || view.loading || !view.hasMoreBefore || !oldest) return
    const failure = this.olderFailures.get(chatId)
    if (automatic && failure && this.now() < failure.at + failure.waitMs) return
    this.patchView(chatId, (v) => ({ ...v, loading: true }))
    try {
      const page = await this.api.listMessages(chatId, { before: oldest.id, limit: PAGE_SIZE })
      this.olderFailures.delete(chatId)
      // A RESYNC started the view over meanwhile (a new oldest message): the page would not join.
      if (this.snapshot.views[chatId]?.messages[0]?.id !== oldest.id) return
      this.patchView(chatId, (v) => withOlderPage(v, page))
    } catch (err) {
      const waitMs = failure ? Math.min(failure.waitMs * 2, OLDER_RETRY_MAX_MS) : OLDER_RETRY_MIN_MS
      this.olderFailures.set(chatId, { at: this.now(), waitMs })
      throw err
    } finally {
      this.patchView(chatId, (v) => ({ ...v, loading: false }))
    }
  }

  /** Trailing white space is dropped; the first line's indentation is kept (e.g. code). */
  send(chatId: string, content: string): void {
    if (content.trim() === '') return
    const item: OutboxItem = {
      clientId: this.newClientId(),
      chatId,
      content: content.trimEnd(),
      createdAt: this.now(),
    }
    const stored = this.outbox.add(item)
    this.setPending(addPending(this.pending, item, 'sending'))
    this.typing.sent(chatId)
    void this.enqueue(item, stored)
  }

  /** Sends a failed message again; a no-op for any other. */
  retry(clientId: string): void {
    const message = findPending(this.pending, clientId)
    if (message?.state !== 'failed') return
    const item: OutboxItem = {
      clientId,
      chatId: message.chatId,
      content: message.content,
      createdAt: message.createdAt,
    }
    this.setSendState(clientId, 'sending')
    void this.enqueue(item, this.outbox.add(item)) // add replaces the stored item and its error
  }

  /** Drops a pending message. Meant for failed and queued ones: one whose POST is in flight may
   * still arrive. */
  discard(clientId: string): void {
    if (!findPending(this.pending, clientId)) return
    this.setPending(removePending(this.pending, clientId))
    // Should the delete fail, the message comes back after a reload, to be discarded again.
    void this.outbox.remove(clientId).catch(() => undefined)
  }

  async createChat(name: string, memberIds: string[]): Promise<Chat> {
    const chat = await this.api.createChat(name, memberIds)
    this.update({ chats: upsertChat(this.snapshot.chats, chat) })
    return chat
  }

  async addMember(chatId: string, userId: string): Promise<void> {
    const chat = await this.api.addMember(chatId, userId)
    this.update({ chats: upsertChat(this.snapshot.chats, chat) })
  }

  typed(chatId: string): void {
    // Typing is ephemeral: a lost announcement is not worth an error.
    if (this.typing.shouldSend(chatId)) void this.api.typing(chatId).catch(() => undefined)
  }

  private handle(event: Event): void {
    if (this.stopped) return
    switch (event.type) {
      case 'NEW_MESSAGE':
        if (event.message) this.receive(event.message)
        break
      case 'CHAT_UPDATED':
        if (event.chat) this.chatUpdated(event.chat)
        break
      case 'TYPING':
        if (event.chatId && event.userId && event.userId !== this.snapshot.me.id) {
          this.typing.seen(event.chatId, event.userId)
        }
        break
      case 'RESYNC':
        void this.resync()
        break
      case 'AGENT_STATUS_CHANGED':
        if (event.agent && event.status) this.statusChanged(event.agent.id, event.status)
        break
      case 'TASK_COMPLETED': {
        // The task page names its owner and creator: a bot created since the directory loaded
        // would show as a bare id.
        const task = event.task
        const people = task ? [task.ownerId, task.createdBy ?? task.creatorId] : []
        if (people.some((id) => id !== undefined && id !== '' && !this.snapshot.users[id])) {
          this.refreshLater(this.refreshUsers)
        }
        break
      }
      default:
        break
    }
  }

  /** Presence: a member we know came online or went offline. Unknown agents (a bot not yet in
   * the directory) wait for the next directory load. */
  private statusChanged(userId: string, status: AgentStatus): void {
    const member = this.snapshot.users[userId]
    if (!member) return
    const online = status !== 'offline'
    if (member.online === online && member.status === status) return
    this.update({ users: { ...this.snapshot.users, [userId]: { ...member, online, status } } })
  }

  private connectionChanged(info: ConnectionInfo): void {
    const previous = this.lastState
    this.lastState = info.state
    // Before start() has loaded, its own flush is still to come.
    if (info.state !== previous && REACHABLE.includes(info.state) && this.buffered === null) {
      void this.sender.flush()
    }
  }

  /** A confirmed message, from the stream or from the answer to its POST (in any order). */
  private receive(message: Message): void {
    const { chatId, authorId } = message
    const mine = authorId === this.snapshot.me.id
    this.addMessages(chatId, [message])
    this.typing.stopped(chatId, authorId)
    if (!this.snapshot.users[authorId]) this.refreshLater(this.refreshUsers)
    const chat = this.snapshot.chats.find((c) => c.id === chatId)
    if (!chat) {
      this.refreshLater(this.refreshChats) // a chat this store has not heard of: the server has it
      return
    }
    if (message.id <= (chat.lastMessageId ?? '')) return // counted already
    const open = chatId === this.openChatId
    const unread = mine || open ? (chat.unread ?? 0) : (chat.unread ?? 0) + 1
    const updated = { ...chat, lastMessageId: message.id, unread }
    this.update({ chats: sortChats(this.snapshot.chats.map((c) => (c === chat ? updated : c))) })
    if (open && !mine) this.markRead(chatId, message.id)
  }

  private chatUpdated(chat: Chat): void {
    const known = this.snapshot.chats.some((c) => c.id === chat.id)
    this.update({ chats: upsertChat(this.snapshot.chats, chat) })
    if (chat.memberIds.some((id) => !this.snapshot.users[id])) this.refreshLater(this.refreshUsers)
    // Added to a chat with history: its unread count comes from the server.
    if (!known && chat.lastMessageId !== undefined) this.refreshLater(this.refreshChats)
  }

  /** Best effort: if it fails, the next RESYNC or reload brings the same data. */
  private refreshLater(refresh: () => Promise<void>): void {
    refresh().catch(() => undefined)
  }

  /** Settles the user's pending messages among newly confirmed ones, wherever they were sent
   * from, and shows them in the chat's view (if opened). */
  private addMessages(chatId: string, messages: Message[]): void {
    this.settle(messages)
    this.patchView(chatId, (view) => withNewMessages(view, messages))
  }

  private settle(messages: Message[]): void {
    for (const message of messages) {
      if (message.authorId !== this.snapshot.me.id || message.clientId === undefined) continue
      if (!findPending(this.pending, message.clientId)) continue
      this.setPending(removePending(this.pending, message.clientId))
      // Should the delete fail, a later flush posts it again and the server answers with this
      // same message (same clientId): harmless.
      void this.outbox.remove(message.clientId).catch(() => undefined)
    }
  }

  private async enqueue(item: OutboxItem, stored: Promise<void>): Promise<void> {
    try {
      await stored
    } catch (err) {
      const error = `Could not store the message for sending: ${errorMessage(err)}`
      this.setSendState(item.clientId, 'failed', error)
      return
    }
    await this.sender.flush()
  }

  /** Loads the chat's newest page once (again after a failure). */
  private load(chatId: string): Promise<void> {
    let load = this.loads.get(chatId)
    if (!load) {
      load = this.loadNewest(chatId)
      this.loads.set(chatId, load)
      load.catch(() => this.loads.delete(chatId))
    }
    return load
  }

  private async loadNewest(chatId: string): Promise<void> {
    if (!this.snapshot.views[chatId]) {
      this.update({ views: { ...this.snapshot.views, [chatId]: loadingView(this.pending[chatId]) } })
    } else {
      this.patchView(chatId, (v) => ({ ...v, loading: true }))
    }
    try {
      const page = await this.api.listMessages(chatId, { limit: PAGE_SIZE })
      this.addMessages(chatId, page.messages)
      this.patchView(chatId, (v) => ({ ...v, hasMoreBefore: page.hasMore }))
    } finally {
      this.patchView(chatId, (v) => ({ ...v, loading: false }))
    }
  }

  /**
   * After RESYNC (the stream could not resume): refetches the chat list, the directory and the
   * newest page of every loaded view (see withNewestPage). A failure is retried after
   * RESYNC_RETRY_MS.
   */
  private async resync(): Promise<void> {
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer)
    this.resyncTimer = null
    try {
      const views = [...this.loads.keys()].map((chatId) => this.refetchView(chatId))
      await Promise.all([this.refreshChats(), this.refreshUsers(), ...views])
    } catch {
      if (this.stopped) return
      this.resyncTimer = setTimeout(() => void this.resync(), RESYNC_RETRY_MS)
    }
  }

  private async refetchView(chatId: string): Promise<void> {
    const page = await this.api.listMessages(chatId, { limit: PAGE_SIZE })
    if (this.stopped) return
    this.settle(page.messages)
    this.patchView(chatId, (view) => withNewestPage(view, page))
    const newest = this.snapshot.views[chatId]?.messages.at(-1)
    if (newest && chatId === this.openChatId) this.markRead(chatId, newest.id)
  }

  /** Refetches the chat list and merges it with what the stream added meanwhile. Rejects if the
   * request fails. */
  private readonly refreshChats = shared(async () => {
    const chats = await this.api.listChats()
    if (this.stopped) return
    const open = this.openChatId
    const merged = mergeChatList(this.snapshot.chats, chats).map((c) =>
      c.id === open && c.unread ? { ...c, unread: 0 } : c,
    )
    this.update({ chats: merged })
  })

  private readonly refreshUsers = shared(async () => {
    const users = await this.api.listUsers()
    if (!this.stopped) this.update({ users: directory(users) })
  })

  private markRead(chatId: string, messageId: string): void {
    if (this.stopped) return
    this.reads.mark(chatId, messageId, this.snapshot.chats.find((c) => c.id === chatId)?.lastReadId)
  }

  private typersChanged(chatId: string): void {
    const typing = { ...this.snapshot.typing }
    const typers = this.typing.typers(chatId)
    if (typers.length > 0) typing[chatId] = typers
    else delete typing[chatId]
    this.update({ typing })
  }

  /** Sets a pending message's state; a no-op if it is not pending here (sent from another tab,
   * or settled already). */
  private setSendState(clientId: string, state: SendState, error?: string): void {
    this.setPending(setSendState(this.pending, clientId, state, error))
  }

  /** Takes the new pending lists, and shows those that changed in their chats' views. */
  private setPending(pending: PendingByChat): void {
    if (pending === this.pending) return
    const previous = this.pending
    this.pending = pending
    const changed = Object.keys(this.snapshot.views).filter((chatId) => previous[chatId] !== pending[chatId])
    if (changed.length === 0) return
    const views = { ...this.snapshot.views }
    for (const chatId of changed) {
      const view = views[chatId]
      if (view) views[chatId] = { ...view, pending: pending[chatId] ?? NO_PENDING }
    }
    this.update({ views })
  }

  private patchView(chatId: string, patch: (view: ChatView) => ChatView): void {
    const view = this.snapshot.views[chatId]
    if (!view) return
    const next = patch(view)
    if (next !== view) this.update({ views: { ...this.snapshot.views, [chatId]: next } })
  }

  private patchChat(chatId: string, patch: (chat: Chat) => Chat): void {
    const chat = this.snapshot.chats.find((c) => c.id === chatId)
    if (!chat) return
    const next = patch(chat)
    if (next !== chat) this.update({ chats: this.snapshot.chats.map((c) => (c === chat ? next : c)) })
  }

  private update(patch: Partial<Snapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch }
    for (const listener of this.listeners) listener()
  }
}

/**
 * 32 random hex digits: a clientId the server accepts (printable ASCII, at most 64 bytes). Built
 * on crypto.getRandomValues because crypto.randomUUID exists only in secure contexts, and a team
 * server on the LAN is often reached over plain http.
 */
export function randomClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function directory(users: DirectoryUser[]): Record<string, Member> {
  return Object.fromEntries(users.map((u) => [u.id, u]))
}

/** fn, except that a call while an earlier one is in flight shares its promise. */
function shared(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null
  return () =>
    (running ??= fn().finally(() => {
      running = null
    }))
}
