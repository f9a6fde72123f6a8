import type {
  ApiClient,
  DirectoryUser,
  MessagePage,
  NewChatOptions,
  PostOptions,
  SearchPage,
  SearchParams,
} from '../api/client'
import { ApiRequestError, errorMessage } from '../api/client'
import type { AgentStatus, ChannelInfo, Chat, ChatChange, Event, Message, Silence, User } from '../api/types'
import type { Outbox, OutboxItem } from '../outbox/types'
import type { ConnectionInfo, ConnectionState, EventStream } from '../stream/types'
import {
  maxId,
  mergeChatList,
  mergeMessages,
  replaceMessage,
  sortChats,
  takeIncoming,
  tombstone,
  upsertChat,
  withReaction,
} from './merge'
import { withTeam } from './admin'
import { OutboxSender } from './OutboxSender'
import { addPending, findPending, type PendingByChat, removePending, setSendState } from './pending'
import { ReadMarkers } from './ReadMarkers'
import type {
  ChatStoreApi,
  ChatView,
  Departure,
  LoadOlderOptions,
  Member,
  MessagesView,
  PendingMessage,
  SendOptions,
  SendState,
  Snapshot,
  ThreadView,
} from './types'
import { TypingTracker } from './typing'
import {
  loadingView,
  NO_PENDING,
  refetchedView,
  withMessage,
  withNewerPage,
  withNewMessages,
  withOlderPage,
  withPage,
} from './views'

/** Messages per history page. */
export const PAGE_SIZE = 50
/** A failed refetch after RESYNC is tried again this long later (ms). */
export const RESYNC_RETRY_MS = 5_000
/** After a failed load of older history, automatic loads (LoadOlderOptions) of the chat are held
 * back this long (ms), doubling with each failure in a row up to OLDER_RETRY_MAX_MS. */
export const OLDER_RETRY_MIN_MS = 2_000
export const OLDER_RETRY_MAX_MS = 60_000
/** findReply pages back through a thread at most this many pages. */
export const FIND_REPLY_MAX_PAGES = 20
/** Live messages kept per chat while its view ends before the newest message (hasMoreAfter), to
 * join them when the view reaches the end; beyond this the oldest are dropped (later pages bring
 * them). */
const MAX_ARRIVED = 500
/** MENTION events remembered so that a repeat is not counted again. */
const MAX_MENTION_EVENTS = 1_000

/** The part of ApiClient the store uses (a real ApiClient fits; tests pass a fake). */
export type ChatApi = Pick<
  ApiClient,
  | 'listChats'
  | 'listUsers'
  | 'createChat'
  | 'addMember'
  | 'listMessages'
  | 'postMessage'
  | 'getQuiet'
  | 'markRead'
  | 'typing'
  | 'editMessage'
  | 'deleteMessage'
  | 'listReplies'
  | 'addReaction'
  | 'removeReaction'
  | 'pinMessage'
  | 'unpinMessage'
  | 'listPins'
  | 'search'
  | 'browseChannels'
  | 'joinChat'
  | 'leaveChat'
  | 'removeMember'
  | 'updateChat'
  | 'createDM'
> &
  Partial<Pick<ApiClient, 'getTeam'>>

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
 * The web client's state: chats, directory, opened chat views and threads, pinned messages,
 * pending messages and typers, as one immutable Snapshot (a new object on every change; unchanged
 * parts keep their identity) for useSyncExternalStore. It follows the event stream, talks to the
 * REST API, and sends messages through the outbox (see OutboxSender): each message is stored
 * as its first POST starts (a POST that fails leaves it stored), shown as pending until confirmed, and sent in order, exactly once thanks
 * to its clientId.
 *
 * Messages change after they are posted (MESSAGE_UPDATED: an edit, a reaction, a pin, new thread
 * counts; MESSAGE_DELETED: a tombstone). Every copy held — in a chat's history, a thread, the
 * pins — takes the new state. Deletion is final: no older state that arrives later (a replayed
 * NEW_MESSAGE, a page read before the delete) brings the content back. A page read over REST
 * loses to the stream for any message the stream changed while the page was in flight, so a
 * late answer never undoes a newer event. Applying the same events twice leaves the same state.
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
  /** Typers in threads, by parent id. */
  private readonly threadTyping: TypingTracker
  private readonly reads: ReadMarkers
  private snapshot: Snapshot
  private readonly listeners = new Set<() => void>()
  /** Pending messages per chat, also for chats without a view yet. */
  private pending: PendingByChat = {}
  /** First loads per chat (the newest page, or around the first unread), settled or in flight;
   * a failed one is removed to be retried. RESYNC refetches these chats. */
  private readonly loads = new Map<string, Promise<void>>()
  /** Per chat, the last of the loads that set where its view lies (first load, around a message,
   * the newest page, a refetch): they run one after the other, so the last asked for wins. */
  private readonly placing = new Map<string, Promise<unknown>>()
  /** Thread loads per parent id, as loads. */
  private readonly threadLoads = new Map<string, Promise<void>>()
  /** Chats whose pins were loaded (refetched on RESYNC). */
  private readonly pinsLoaded = new Set<string>()
  /** Per chat whose view ends before the newest message: live messages beyond its end. */
  private readonly arrived = new Map<string, Message[]>()
  private openChatId: string | null = null
  /** The MENTION events counted, newest last (at most MAX_MENTION_EVENTS). */
  private readonly mentionEvents = new Set<string>()
  /** Per key (a chat id; 'newer:' or 'replies:' and an id), since an automatic page load failed
   * (cleared by one that succeeds): when the last one failed (Unix ms) and how long automatic
   * loads wait after it. */
  private readonly olderFailures = new Map<string, { at: number; waitMs: number }>()
  /** Counts the stream's changes to messages; touched holds, per message id, the count at its
   * latest change, and latest that change. A REST answer read while the count was n loses to
   * every message touched above n (see read). Both are cleared when no read is in flight. */
  private changes = 0
  private readonly touched = new Map<string, number>()
  private readonly latest = new Map<string, Message | typeof DELETED>()
  /** REST reads of messages in flight. */
  private reading = 0
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
    this.threadTyping = new TypingTracker({
      now: this.now,
      onChange: (parentId) => this.threadTypersChanged(parentId),
    })
    this.reads = new ReadMarkers((chatId, messageId) => this.api.markRead(chatId, messageId))
    this.sender = new OutboxSender({
      outbox: this.outbox,
      post: (item) =>
        this.api.postMessage(item.chatId, item.content, item.clientId, postOptions(item)),
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
    this.snapshot = {
      me: deps.me,
      chats: [],
      users: {},
      views: {},
      typing: {},
      threads: {},
      threadTyping: {},
      pins: {},
      departed: {},
    }
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
    void this.refreshTeam()
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
    this.threadTyping.clear()
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer)
    this.resyncTimer = null
  }

  async openChat(chatId: string): Promise<void> {
    this.openChatId = chatId
    if (this.gone(chatId)) return // the server would answer 403
    const chat = this.findChat(chatId)
    const unread = chat?.unread ?? 0
    const lastReadId = chat?.lastReadId
    // Reading the chat marks its mentions read on the server too (those in threads aside: the
    // next chat list counts them again).
    this.patchChat(chatId, (c) => (c.unread || c.mentions ? { ...c, unread: 0, mentions: 0 } : c))
    if (unread > 0 && lastReadId) {
      await this.openAtUnread(chatId, lastReadId)
    } else {
      await this.load(chatId)
      if (unread > 0) {
        // Never read: the divider goes above the unread-th newest message by others.
        this.patchView(chatId, (v) => withUnreadFrom(v, lastUnreadOf(v, this.snapshot.me.id, unread)))
      }
    }
    if (this.openChatId === chatId) this.markNewest(chatId)
  }

  /** The user left the chat's view: new messages there count as unread again, and its "New
   * messages" divider is gone when it is opened again. */
  closeChat(chatId: string): void {
    if (this.openChatId === chatId) this.openChatId = null
    this.patchView(chatId, (v) => withUnreadFrom(v, undefined))
  }

  showMessage(chatId: string, messageId: string): Promise<boolean> {
    return this.place(chatId, async () => {
      if (this.holds(chatId, messageId)) return true
      try {
        await this.loadAround(chatId, messageId)
      } catch (err) {
        if (err instanceof ApiRequestError && err.status === 404) return false
        throw err
      }
      if (!this.loads.has(chatId)) this.loads.set(chatId, Promise.resolve())
      if (this.openChatId === chatId) this.markNewest(chatId)
      return this.holds(chatId, messageId)
    })
  }

  /** A no-op while the view loads, when there is nothing older, or for an automatic load while
   * it is held back after a failed one. Rejects if the page cannot be loaded. */
  async loadOlder(chatId: string, options: LoadOlderOptions = {}): Promise<void> {
    await this.pageOlder(
      chatId,
      () => this.snapshot.views[chatId],
      (patch) => this.patchView(chatId, patch),
      (before, limit) => this.api.listMessages(chatId, { before, limit }),
      options,
    )
  }

  /** As loadOlder, towards the newest message. */
  async loadNewer(chatId: string, { automatic = false }: LoadOlderOptions = {}): Promise<void> {
    const view = this.snapshot.views[chatId]
    const newest = view?.messages.at(-1)
    if (!view || view.loading || !view.hasMoreAfter || !newest) return
    const key = `newer:${chatId}`
    if (automatic && this.heldBack(key)) return
    this.patchView(chatId, (v) => ({ ...v, loading: true }))
    try {
      await this.read(
        () => this.api.listMessages(chatId, { after: newest.id, limit: PAGE_SIZE }),
        (page, fresh) => {
          this.olderFailures.delete(key)
          // The view was placed elsewhere meanwhile: the page would not join.
          if (this.snapshot.views[chatId]?.messages.at(-1)?.id !== newest.id) return
          this.settle(page.messages)
          this.patchView(chatId, (v) => withNewerPage(v, freshPage(page, fresh), takeIncoming))
          this.joinArrived(chatId)
          if (this.openChatId === chatId) this.markNewest(chatId)
        },
      )
    } catch (err) {
      this.failed(key)
      throw err
    } finally {
      this.patchView(chatId, (v) => ({ ...v, loading: false }))
    }
  }

  jumpToLatest(chatId: string): Promise<void> {
    return this.place(chatId, async () => {
      const view = this.snapshot.views[chatId]
      if (!view?.hasMoreAfter) return
      this.patchView(chatId, (v) => ({ ...v, loading: true }))
      try {
        await this.read(
          () => this.api.listMessages(chatId, { limit: PAGE_SIZE }),
          (page, fresh) => {
            this.settle(page.messages)
            this.patchView(chatId, (v) => withPage(v, freshPage(page, fresh), takeIncoming))
            this.joinArrived(chatId)
            if (this.openChatId === chatId) this.markNewest(chatId)
          },
        )
      } finally {
        this.patchView(chatId, (v) => ({ ...v, loading: false }))
      }
    })
  }

  /** Trailing white space is dropped; the first line's indentation is kept (e.g. code). */
  send(chatId: string, content: string, { notifyAnyway = false }: SendOptions = {}): void {
    this.enqueueNew(chatId, content, undefined, false, notifyAnyway)
  }

  /** Who of userIds (in a DM by default its other members) is in do not disturb or quiet hours
   * now (GET /api/chats/{chatId}/quiet). */
  quiet(chatId: string, userIds?: readonly string[]): Promise<Silence[]> {
    return this.api.getQuiet(chatId, userIds)
  }

  sendReply(chatId: string, parentId: string, content: string, alsoToChat: boolean, { notifyAnyway = false }: SendOptions = {}): void {
    this.enqueueNew(chatId, content, parentId, alsoToChat, notifyAnyway)
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
    if (message.parentId !== undefined) item.parentId = message.parentId
    if (message.alsoToChat) item.alsoToChat = true
    if (message.notifyAnyway) item.notifyAnyway = true
    this.setSendState(clientId, 'sending')
    void this.sender.send(item, this.outbox.add(item)) // add replaces the stored item and its error
  }

  /** Drops a pending message. Meant for failed and queued ones: one whose POST is in flight may
   * still arrive. */
  discard(clientId: string): void {
    if (!findPending(this.pending, clientId)) return
    this.setPending(removePending(this.pending, clientId))
    // Should the delete fail, the message comes back after a reload, to be discarded again.
    void this.outbox.remove(clientId).catch(() => undefined)
  }

  async createChat(name: string, memberIds: string[], options?: NewChatOptions): Promise<Chat> {
    const chat = await (options ? this.api.createChat(name, memberIds, options) : this.api.createChat(name, memberIds))
    this.chatUpdated(chat)
    return chat
  }

  async addMember(chatId: string, userId: string): Promise<void> {
    const chat = await this.api.addMember(chatId, userId)
    this.chatUpdated(chat)
  }

  browseChannels(): Promise<ChannelInfo[]> {
    return this.api.browseChannels()
  }

  async joinChat(chatId: string): Promise<Chat> {
    const chat = await this.api.joinChat(chatId)
    this.chatUpdated(chat)
    return chat
  }

  async leaveChat(chatId: string): Promise<void> {
    await this.api.leaveChat(chatId)
    this.depart(chatId, 'left')
  }

  async removeMember(chatId: string, userId: string): Promise<void> {
    const chat = await this.api.removeMember(chatId, userId)
    if (userId === this.snapshot.me.id) this.depart(chatId, 'removed')
    else this.chatUpdated(chat)
  }

  async updateChat(chatId: string, change: ChatChange): Promise<Chat> {
    const chat = await this.api.updateChat(chatId, change)
    this.chatUpdated(chat)
    return chat
  }

  async createDM(userIds: string[]): Promise<Chat> {
    const chat = await this.api.createDM(userIds)
    this.chatUpdated(chat)
    // A DM the user had hidden comes back with its history: its unread count is the server's.
    if (chat.lastMessageId !== undefined) this.refreshLater(this.refreshChats)
    return chat
  }

  typed(chatId: string, parentId?: string): void {
    // Typing is ephemeral: a lost announcement is not worth an error.
    if (parentId === undefined) {
      if (this.typing.shouldSend(chatId)) void this.api.typing(chatId).catch(() => undefined)
    } else if (this.threadTyping.shouldSend(parentId)) {
      void this.api.typing(chatId, parentId).catch(() => undefined)
    }
  }

  async editMessage(chatId: string, messageId: string, content: string): Promise<void> {
    // Its MESSAGE_UPDATED may have come first, and a later change after it.
    await this.read(
      () => this.api.editMessage(chatId, messageId, content),
      (message, fresh) => this.apply(fresh(message)),
    )
  }

  async deleteMessage(chatId: string, messageId: string): Promise<void> {
    await this.api.deleteMessage(chatId, messageId)
    if (!this.stopped) this.bury(chatId, messageId, this.findMessage(chatId, messageId)?.parentId)
  }

  react(chatId: string, messageId: string, emoji: string, on: boolean): Promise<void> {
    return this.optimistically(
      chatId,
      messageId,
      (m) => withReaction(m, this.snapshot.me.id, emoji, on),
      () =>
        on
          ? this.api.addReaction(chatId, messageId, emoji)
          : this.api.removeReaction(chatId, messageId, emoji),
    )
  }

  pin(chatId: string, messageId: string, on: boolean): Promise<void> {
    return this.optimistically(
      chatId,
      messageId,
      (m) => {
        if (Boolean(m.pinned) === on) return m
        const changed: Message = { ...m, pinned: on }
        if (!on) delete changed.pinned
        return changed
      },
      () => (on ? this.api.pinMessage(chatId, messageId) : this.api.unpinMessage(chatId, messageId)),
    )
  }

  async loadPins(chatId: string): Promise<void> {
    if (this.gone(chatId)) return
    await this.read(
      () => this.api.listPins(chatId),
      (messages, fresh) => {
        const pins = messages.map(fresh).filter((m) => m.pinned && !m.deleted)
        this.pinsLoaded.add(chatId)
        this.update({ pins: { ...this.snapshot.pins, [chatId]: pins } })
      },
    )
  }

  openThread(chatId: string, parentId: string): Promise<void> {
    let load = this.threadLoads.get(parentId)
    if (!load) {
      load = this.loadThread(chatId, parentId)
      this.threadLoads.set(parentId, load)
      load.catch(() => this.threadLoads.delete(parentId))
    }
    return load
  }

  async loadOlderReplies(parentId: string, options: LoadOlderOptions = {}): Promise<void> {
    const thread = this.snapshot.threads[parentId]
    if (!thread) return
    await this.pageOlder(
      `replies:${parentId}`,
      () => this.snapshot.threads[parentId],
      (patch) => this.patchThread(parentId, patch),
      (before, limit) => this.api.listReplies(thread.chatId, parentId, { before, limit }),
      options,
    )
  }

  async findReply(parentId: string, replyId: string): Promise<boolean> {
    for (let pages = 0; ; pages++) {
      const thread = this.snapshot.threads[parentId]
      if (!thread) return false
      if (thread.messages.some((m) => m.id === replyId)) return true
      const oldest = thread.messages[0]
      if (!thread.hasMoreBefore || (oldest && oldest.id < replyId) || pages >= FIND_REPLY_MAX_PAGES) return false
      await this.loadOlderReplies(parentId)
    }
  }

  search(params: SearchParams): Promise<SearchPage> {
    return this.api.search(params)
  }

  private handle(event: Event): void {
    if (this.stopped) return
    switch (event.type) {
      case 'NEW_MESSAGE':
        if (event.message) this.receive(event.message)
        break
      case 'MESSAGE_UPDATED':
        if (event.message) {
          this.touch(event.message.id, event.message)
          this.apply(event.message)
        }
        break
      case 'MESSAGE_DELETED':
        if (event.chatId && event.messageId) {
          this.touch(event.messageId, DELETED)
          this.bury(event.chatId, event.messageId, event.parentId)
        }
        break
      case 'READ_MARKER':
        if (event.chatId && event.messageId) this.readElsewhere(event.chatId, event.messageId)
        break
      case 'CHAT_UPDATED':
        if (event.chat) this.chatUpdated(event.chat)
        break
      case 'CHAT_MEMBER_ADDED':
        if (event.chatId && event.userId) this.memberAdded(event.chatId, event.userId)
        break
      case 'CHAT_MEMBER_REMOVED':
        if (event.chatId && event.userId) this.memberRemoved(event.chatId, event.userId)
        break
      case 'CHAT_HIDDEN':
        // The user hid a DM (here or on another device): it leaves the list until its next
        // message, which refreshChats brings back (see receive).
        if (event.chatId && this.findChat(event.chatId)?.kind === 'dm') this.depart(event.chatId, 'left')
        break
      case 'MENTION':
        if (event.chatId && event.message) this.mentioned(event.chatId, event.message, event.id ?? event.notification?.id)
        break
      case 'TYPING':
        if (event.chatId && event.userId && event.userId !== this.snapshot.me.id) {
          if (event.parentId) this.threadTyping.seen(event.parentId, event.userId)
          else this.typing.seen(event.chatId, event.userId)
        }
        break
      case 'RESYNC':
        void this.resync()
        void this.refreshTeam()
        break
      case 'TEAM_UPDATED':
        if (event.team) this.patch(withTeam(this.snapshot, event.team))
        break
      case 'USER_UPDATED':
        if (event.user) this.applyUserUpdated(event.user)
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

  /** USER_UPDATED: a person's new public state (name, status line, avatar, role) replaces theirs
   * in the directory, and the user's own (me) when it is them. Presence stays as it is: it
   * travels in AGENT_STATUS_CHANGED, and the event's user may not carry it. */
  applyUserUpdated(user: User): void {
    const known = this.snapshot.users[user.id]
    const patch: Partial<Snapshot> = {}
    if (known) {
      const member = { ...user, status: known.status, online: known.online }
      // A replayed event changes nothing, and publishes nothing.
      if (!sameJSON(member, known)) patch.users = { ...this.snapshot.users, [user.id]: member }
    } else {
      this.refreshLater(this.refreshUsers)
    }
    if (user.id === this.snapshot.me.id) {
      const me = { ...user, status: this.snapshot.me.status }
      if (!sameJSON(me, this.snapshot.me)) patch.me = me
    }
    if (patch.users || patch.me) this.update(patch)
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

  /** A confirmed message, from the stream or from the answer to its POST (in any order). A
   * reply goes to its thread, and into the chat's history only when sent there too
   * (alsoToChat); only the history counts as unread. */
  private receive(message: Message): void {
    const { chatId, authorId, parentId } = message
    const mine = authorId === this.snapshot.me.id
    const inHistory = parentId === undefined || message.alsoToChat === true
    this.settle([message])
    if (parentId !== undefined) {
      this.patchThread(parentId, (thread) => withNewMessages(thread, [message]))
      this.threadTyping.stopped(parentId, authorId)
    } else {
      this.typing.stopped(chatId, authorId)
    }
    if (inHistory) this.addToHistory(chatId, [message])
    if (!this.snapshot.users[authorId]) this.refreshLater(this.refreshUsers)
    const chat = this.findChat(chatId)
    if (!chat) {
      this.refreshLater(this.refreshChats) // a chat this store has not heard of: the server has it
      return
    }
    if (!inHistory || message.id <= (chat.lastMessageId ?? '')) return // counted already
    const open = chatId === this.openChatId
    const unread = mine || open ? (chat.unread ?? 0) : (chat.unread ?? 0) + 1
    const updated = { ...chat, lastMessageId: message.id, unread }
    this.update({ chats: sortChats(this.snapshot.chats.map((c) => (c === chat ? updated : c))) })
    // Read only once shown: not while the view ends before it.
    if (open && !mine && this.snapshot.views[chatId]?.hasMoreAfter === false) this.markRead(chatId, message.id)
  }

  /** A message's new state (MESSAGE_UPDATED, or the server's answer to the user's change), in
   * every copy held: the chat's history, its thread, the thread it is the parent of, the pins. */
  private apply(message: Message): void {
    const { chatId, id, parentId } = message
    this.patchView(chatId, (view) => withMessage(view, message))
    const arrived = this.arrived.get(chatId)
    if (arrived) this.arrived.set(chatId, replaceMessage(arrived, message))
    if (parentId !== undefined) this.patchThread(parentId, (thread) => withMessage(thread, message))
    this.patchThread(id, (thread) => {
      if (!thread.parent) return thread
      const parent = takeIncoming(thread.parent, message)
      return parent === thread.parent ? thread : { ...thread, parent }
    })
    this.pinsChanged(message)
  }

  /** The message is a tombstone now (MESSAGE_DELETED, or the user's delete), wherever held. */
  private bury(chatId: string, messageId: string, parentId: string | undefined): void {
    const toTombstone = (messages: Message[]): Message[] => {
      const at = messages.findIndex((m) => m.id === messageId)
      const held = messages[at]
      if (!held || held.deleted) return messages
      return messages.map((m) => (m === held ? tombstone(held) : m))
    }
    const inView = <V extends MessagesView>(view: V): V => {
      const messages = toTombstone(view.messages)
      return messages === view.messages ? view : { ...view, messages }
    }
    this.patchView(chatId, inView)
    const arrived = this.arrived.get(chatId)
    if (arrived) this.arrived.set(chatId, toTombstone(arrived))
    for (const thread of Object.values(this.snapshot.threads)) {
      if (thread.chatId !== chatId || (parentId !== undefined && thread.parentId !== parentId)) continue
      this.patchThread(thread.parentId, inView)
    }
    this.patchThread(messageId, (thread) =>
      thread.parent && !thread.parent.deleted ? { ...thread, parent: tombstone(thread.parent) } : thread,
    )
    const pins = this.snapshot.pins[chatId]
    if (pins?.some((m) => m.id === messageId)) {
      this.update({ pins: { ...this.snapshot.pins, [chatId]: pins.filter((m) => m.id !== messageId) } })
    }
  }

  /** The pins follow a message's pinned flag: newly pinned first, unpinned or deleted out. */
  private pinsChanged(message: Message): void {
    const pins = this.snapshot.pins[message.chatId]
    if (!pins) return
    const at = pins.findIndex((m) => m.id === message.id)
    let next = pins
    if (message.pinned && !message.deleted) {
      next = at < 0 ? [message, ...pins] : replaceMessage(pins, message)
    } else if (at >= 0) {
      next = pins.filter((m) => m.id !== message.id)
    }
    if (next !== pins) this.update({ pins: { ...this.snapshot.pins, [message.chatId]: next } })
  }

  /** READ_MARKER: the user read the chat up to messageId on another device (or this one). The
   * server marked the mentions it passed read in the same commit. */
  private readElsewhere(chatId: string, messageId: string): void {
    const chat = this.findChat(chatId)
    if (!chat) return
    const caughtUp = messageId >= (chat.lastMessageId ?? '')
    const lastReadId = maxId(chat.lastReadId, messageId)
    const unread = caughtUp ? 0 : chat.unread
    const mentions = caughtUp ? 0 : chat.mentions
    if (lastReadId !== chat.lastReadId || unread !== chat.unread || (mentions ?? 0) !== (chat.mentions ?? 0)) {
      this.patchChat(chatId, (c) => ({ ...c, lastReadId, unread, mentions: mentions ?? 0 }))
    }
    // Read part of the way, or mentions in threads that reading the chat leaves unread: only the
    // server knows how many are left.
    if ((!caughtUp && (chat.unread ?? 0) > 0) || (chat.mentions ?? 0) > 0) this.refreshLater(this.refreshChats)
  }

  /** MENTION: one more unread mention of the user in the chat — unless it is in the history of
   * the chat the user is reading, which marks it read at once. */
  private mentioned(chatId: string, message: Message, eventId: string | undefined): void {
    const chat = this.findChat(chatId)
    if (!chat) return
    // The same event twice counts once.
    if (eventId !== undefined) {
      if (this.mentionEvents.has(eventId)) return
      this.mentionEvents.add(eventId)
      if (this.mentionEvents.size > MAX_MENTION_EVENTS) this.mentionEvents.delete(this.mentionEvents.values().next().value ?? '')
    }
    const inHistory = message.parentId === undefined || message.alsoToChat === true
    const reading = chatId === this.openChatId && inHistory && this.snapshot.views[chatId]?.hasMoreAfter === false
    if (reading) return
    this.patchChat(chatId, (c) => ({ ...c, mentions: (c.mentions ?? 0) + 1 }))
  }

  /**
   * Makes an optimistic change (change(m) for the message held): shown at once, reconciled by
   * the MESSAGE_UPDATED that follows, undone if the server refuses — unless the stream changed
   * the message meanwhile, whose state is then the server's.
   */
  private async optimistically(
    chatId: string,
    messageId: string,
    change: (m: Message) => Message,
    request: () => Promise<void>,
  ): Promise<void> {
    const before = this.findMessage(chatId, messageId)
    const after = before && change(before)
    if (before && after && after !== before) this.apply(after)
    try {
      await request()
    } catch (err) {
      if (before && after && after !== before && this.findMessage(chatId, messageId) === after) {
        this.apply(before)
      }
      throw err
    }
  }

  /** A chat's new state (CHAT_UPDATED, or the answer to the user's own change). One the user is
   * not a member of any more (a late answer, a replay) does not come back into the list. */
  private chatUpdated(chat: Chat): void {
    if (!chat.memberIds.includes(this.snapshot.me.id)) {
      if (this.findChat(chat.id)) this.depart(chat.id, 'removed')
      return
    }
    const known = this.snapshot.chats.some((c) => c.id === chat.id)
    if (this.snapshot.departed[chat.id]) {
      const departed = { ...this.snapshot.departed }
      delete departed[chat.id]
      this.update({ departed })
    }
    const before = this.coMembers()
    this.update({ chats: upsertChat(this.snapshot.chats, chat) })
    // Someone new, or met for the first time: their presence reached this store only while
    // they shared a chat with the user, so what it has of them may be stale.
    if (chat.memberIds.some((id) => !before.has(id))) this.refreshLater(this.refreshUsers)
    // Added to a chat with history: its unread count comes from the server.
    if (!known && chat.lastMessageId !== undefined) this.refreshLater(this.refreshChats)
  }

  private memberAdded(chatId: string, userId: string): void {
    if (!this.findChat(chatId)) {
      // Its CHAT_UPDATED comes first; without it (a chat this store has not heard of) ask.
      if (userId === this.snapshot.me.id) this.refreshLater(this.refreshChats)
      return
    }
    const before = this.coMembers()
    this.patchChat(chatId, (c) => (c.memberIds.includes(userId) ? c : { ...c, memberIds: [...c.memberIds, userId] }))
    if (!before.has(userId)) this.refreshLater(this.refreshUsers)
  }

  /** The user and everyone known to share a chat with them, with a record in users: the people
   * whose presence and profile changes reach this store live. */
  private coMembers(): Set<string> {
    const ids = new Set<string>([this.snapshot.me.id])
    for (const c of this.snapshot.chats) for (const id of c.memberIds) if (this.snapshot.users[id]) ids.add(id)
    return ids
  }

  /** Someone left or was removed; the user themself: the chat leaves the list at once. */
  private memberRemoved(chatId: string, userId: string): void {
    if (userId === this.snapshot.me.id) {
      this.depart(chatId, 'removed')
      return
    }
    this.patchChat(chatId, (c) =>
      c.memberIds.includes(userId) || c.ownerIds.includes(userId)
        ? {
            ...c,
            memberIds: c.memberIds.filter((id) => id !== userId),
            ownerIds: c.ownerIds.filter((id) => id !== userId),
          }
        : c,
    )
    this.typing.stopped(chatId, userId)
  }

  /**
   * The chat leaves the user's list, with everything loaded of it: its view, threads and pins
   * (nothing more is asked of the server about it: that would be 403). departed remembers it,
   * so that a view still open says what happened.
   */
  private depart(chatId: string, reason: Departure['reason']): void {
    const chat = this.findChat(chatId)
    this.loads.delete(chatId)
    this.placing.delete(chatId)
    this.pinsLoaded.delete(chatId)
    this.arrived.delete(chatId)
    this.olderFailures.delete(chatId)
    for (const [parentId, thread] of Object.entries(this.snapshot.threads)) {
      if (thread.chatId === chatId) this.threadLoads.delete(parentId)
    }
    const views = { ...this.snapshot.views }
    delete views[chatId]
    const pins = { ...this.snapshot.pins }
    delete pins[chatId]
    const typing = { ...this.snapshot.typing }
    delete typing[chatId]
    const threads = Object.fromEntries(Object.entries(this.snapshot.threads).filter(([, t]) => t.chatId !== chatId))
    const departed = chat ? { ...this.snapshot.departed, [chatId]: { chat, reason } } : this.snapshot.departed
    this.update({ chats: this.snapshot.chats.filter((c) => c.id !== chatId), views, pins, typing, threads, departed })
  }

  /** Best effort: if it fails, the next RESYNC or reload brings the same data. */
  private refreshLater(refresh: () => Promise<void>): void {
    refresh().catch(() => undefined)
  }

  /** Live messages into the chat's view; those beyond a view that ends before the newest
   * message wait in arrived until it reaches the end. */
  private addToHistory(chatId: string, messages: Message[]): void {
    const view = this.snapshot.views[chatId]
    if (!view) return
    const newest = view.messages.at(-1)
    if (view.hasMoreAfter && newest) {
      const beyond = messages.filter((m) => m.id > newest.id)
      if (beyond.length > 0) {
        this.arrived.set(chatId, mergeMessages(this.arrived.get(chatId) ?? [], beyond).slice(-MAX_ARRIVED))
      }
    }
    this.patchView(chatId, (v) => withNewMessages(v, messages))
  }

  /** Once the view reaches the newest message, the live messages that waited join it. */
  private joinArrived(chatId: string): void {
    const arrived = this.arrived.get(chatId)
    const view = this.snapshot.views[chatId]
    if (!arrived || !view || view.hasMoreAfter) return
    this.arrived.delete(chatId)
    this.patchView(chatId, (v) => withNewMessages(v, arrived))
  }

  /** Settles the user's pending messages among newly confirmed ones, wherever they were sent
   * from. */
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

  private enqueueNew(
    chatId: string,
    content: string,
    parentId?: string,
    alsoToChat = false,
    notifyAnyway = false,
  ): void {
    if (content.trim() === '') return
    const item: OutboxItem = {
      clientId: this.newClientId(),
      chatId,
      content: content.trimEnd(),
      createdAt: this.now(),
    }
    if (parentId !== undefined) item.parentId = parentId
    if (parentId !== undefined && alsoToChat) item.alsoToChat = true
    if (notifyAnyway) item.notifyAnyway = true
    this.setPending(addPending(this.pending, item, 'sending'))
    // The POST starts here, beside the outbox write rather than behind it (see OutboxSender.send).
    void this.sender.send(item, this.outbox.add(item))
    if (parentId === undefined) this.typing.sent(chatId)
    else this.threadTyping.sent(parentId)
  }

  /** Loads the chat's newest page once (again after a failure). */
  private load(chatId: string): Promise<void> {
    let load = this.loads.get(chatId)
    if (!load) {
      load = this.place(chatId, () => this.loadNewest(chatId))
      this.loads.set(chatId, load)
      load.catch(() => this.loads.delete(chatId))
    }
    return load
  }

  /** The first unread message's place: the view around the read marker, unless the view held
   * already reaches from the marker to the newest message. */
  private async openAtUnread(chatId: string, lastReadId: string): Promise<void> {
    const load = this.place(chatId, async () => {
      const view = this.snapshot.views[chatId]
      const held = view && !view.hasMoreAfter && view.messages.some((m) => m.id === lastReadId)
      if (held) return
      try {
        await this.loadAround(chatId, lastReadId)
      } catch (err) {
        // The marker's message is not there (any more): the newest page, without a divider.
        if (!(err instanceof ApiRequestError && err.status === 404)) throw err
        await this.loadNewest(chatId)
      }
    })
    if (!this.loads.has(chatId)) {
      this.loads.set(chatId, load)
      load.catch(() => this.loads.delete(chatId))
    }
    await load
    this.patchView(chatId, (v) => withUnreadFrom(v, firstUnreadOf(v, lastReadId, this.snapshot.me.id)))
  }

  /** Runs a load that places the chat's view after those asked for before it (see placing). */
  private place<T>(chatId: string, load: () => Promise<T>): Promise<T> {
    const previous = this.placing.get(chatId) ?? Promise.resolve()
    const next = previous.then(load, load)
    this.placing.set(
      chatId,
      next.catch(() => undefined),
    )
    return next
  }

  private async loadNewest(chatId: string): Promise<void> {
    this.viewLoading(chatId)
    try {
      await this.read(
        () => this.api.listMessages(chatId, { limit: PAGE_SIZE }),
        (page, fresh) => {
          this.settle(page.messages)
          this.patchView(chatId, (v) => withPage(v, freshPage(page, fresh), takeIncoming))
          this.joinArrived(chatId)
        },
      )
    } finally {
      this.patchView(chatId, (v) => ({ ...v, loading: false }))
    }
  }

  /** Loads the history around messageId into the view (in place of what it held, unless the two
   * overlap). Rejects if the page cannot be loaded (404: no such message). */
  private async loadAround(chatId: string, messageId: string): Promise<void> {
    this.viewLoading(chatId)
    try {
      await this.read(
        () => this.api.listMessages(chatId, { around: messageId, limit: PAGE_SIZE }),
        (page, fresh) => {
          this.settle(page.messages)
          this.patchView(chatId, (v) => withPage(v, freshPage(page, fresh), takeIncoming))
          this.joinArrived(chatId)
        },
      )
    } finally {
      this.patchView(chatId, (v) => ({ ...v, loading: false }))
    }
  }

  private viewLoading(chatId: string): void {
    if (!this.snapshot.views[chatId]) {
      const pending = topLevel(this.pending[chatId] ?? NO_PENDING)
      this.update({ views: { ...this.snapshot.views, [chatId]: loadingView(pending) } })
    } else {
      this.patchView(chatId, (v) => ({ ...v, loading: true }))
    }
  }

  /** One older page into a chat's view or a thread (key names it for the hold-back after a
   * failure). A no-op while loading, at the start, or for an automatic load held back. */
  private async pageOlder<V extends MessagesView>(
    key: string,
    current: () => V | undefined,
    patch: (change: (view: V) => V) => void,
    fetch: (before: string, limit: number) => Promise<MessagePage>,
    { automatic = false }: LoadOlderOptions,
  ): Promise<void> {
    const view = current()
    const oldest = view?.messages[0]
    if (!view || view.loading || !view.hasMoreBefore || !oldest) return
    if (automatic && this.heldBack(key)) return
    patch((v) => ({ ...v, loading: true }))
    try {
      await this.read(
        () => fetch(oldest.id, PAGE_SIZE),
        (page, fresh) => {
          this.olderFailures.delete(key)
          // A RESYNC started the view over meanwhile (a new oldest message): the page would not
          // join.
          if (current()?.messages[0]?.id !== oldest.id) return
          this.settle(page.messages)
          patch((v) => withOlderPage(v, freshPage(page, fresh), takeIncoming))
        },
      )
    } catch (err) {
      this.failed(key)
      throw err
    } finally {
      patch((v) => ({ ...v, loading: false }))
    }
  }

  private heldBack(key: string): boolean {
    const failure = this.olderFailures.get(key)
    return failure !== undefined && this.now() < failure.at + failure.waitMs
  }

  private failed(key: string): void {
    const failure = this.olderFailures.get(key)
    const waitMs = failure ? Math.min(failure.waitMs * 2, OLDER_RETRY_MAX_MS) : OLDER_RETRY_MIN_MS
    this.olderFailures.set(key, { at: this.now(), waitMs })
  }

  private async loadThread(chatId: string, parentId: string): Promise<void> {
    const known = this.findMessage(chatId, parentId)
    if (!this.snapshot.threads[parentId]) {
      const thread: ThreadView = {
        chatId,
        parentId,
        messages: [],
        pending: inThread(this.pending[chatId] ?? NO_PENDING, parentId),
        hasMoreBefore: false,
        hasMoreAfter: false,
        loading: true,
      }
      if (known) thread.parent = known
      this.update({ threads: { ...this.snapshot.threads, [parentId]: thread } })
    } else {
      this.patchThread(parentId, (t) => {
        const next = { ...t, loading: true }
        delete next.error
        return next
      })
    }
    try {
      await this.read(
        () =>
          Promise.all([
            this.api.listReplies(chatId, parentId, { limit: PAGE_SIZE }),
            known ? Promise.resolve(undefined) : this.fetchMessage(chatId, parentId),
          ]),
        ([page, parent], fresh) => {
          this.settle(page.messages)
          this.patchThread(parentId, (t) => withParent(withPage(t, freshPage(page, fresh), takeIncoming), parent, fresh))
        },
      )
    } catch (err) {
      this.patchThread(parentId, (t) => ({ ...t, error: errorMessage(err) }))
      throw err
    } finally {
      this.patchThread(parentId, (t) => ({ ...t, loading: false }))
    }
  }

  /** One message of the chat's history: the page of one around it. */
  private async fetchMessage(chatId: string, messageId: string): Promise<Message | undefined> {
    const page = await this.api.listMessages(chatId, { around: messageId, limit: 1 })
    return page.messages.find((m) => m.id === messageId)
  }

  /**
   * After RESYNC (the stream could not resume): refetches the chat list, the directory, every
   * loaded view (its newest page, or the page around its middle when it ends before the newest
   * message; see refetchedView), every opened thread and the pins. A failure is retried after
   * RESYNC_RETRY_MS.
   */
  private async resync(): Promise<void> {
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer)
    this.resyncTimer = null
    try {
      const views = [...this.loads.keys()].map((chatId) => this.refetchView(chatId))
      const threads = [...this.threadLoads.keys()].map((parentId) => this.refetchThread(parentId))
      const pins = [...this.pinsLoaded].map((chatId) => this.loadPins(chatId))
      await Promise.all([this.refreshChats(), this.refreshUsers(), ...views, ...threads, ...pins])
    } catch {
      if (this.stopped) return
      this.resyncTimer = setTimeout(() => void this.resync(), RESYNC_RETRY_MS)
    }
  }

  private refetchView(chatId: string): Promise<void> {
    return this.place(chatId, async () => {
      const view = this.snapshot.views[chatId]
      const middle = view?.hasMoreAfter ? view.messages[Math.floor(view.messages.length / 2)] : undefined
      await this.read(
        () => this.api.listMessages(chatId, middle ? { around: middle.id, limit: PAGE_SIZE } : { limit: PAGE_SIZE }),
        (page, fresh) => {
          this.settle(page.messages)
          this.patchView(chatId, (v) => refetchedView(v, freshPage(page, fresh), takeIncoming))
          this.joinArrived(chatId)
          if (chatId === this.openChatId) this.markNewest(chatId)
        },
      )
    })
  }

  private async refetchThread(parentId: string): Promise<void> {
    const thread = this.snapshot.threads[parentId]
    if (!thread) return
    const { chatId } = thread
    await this.read(
      () =>
        Promise.all([
          this.api.listReplies(chatId, parentId, { limit: PAGE_SIZE }),
          this.fetchMessage(chatId, parentId),
        ]),
      ([page, parent], fresh) => {
        this.settle(page.messages)
        this.patchThread(parentId, (t) => withParent(refetchedView(t, freshPage(page, fresh), takeIncoming), parent, fresh))
      },
    )
  }

  /** Refetches the chat list and merges it with what the stream added meanwhile. Rejects if the
   * request fails. */
  private readonly refreshChats = shared(async () => {
    const before = new Set(this.snapshot.chats.map((c) => c.id))
    const chats = await this.api.listChats()
    if (this.stopped) return
    const open = this.openChatId
    const departed = this.snapshot.departed
    const merged = mergeChatList(this.snapshot.chats, chats, before).map((c) =>
      c.id === open && c.unread ? { ...c, unread: 0 } : c,
    )
    // A hidden DM whose next message brought it back, or a chat joined elsewhere.
    const back = merged.filter((c) => departed[c.id])
    if (back.length > 0) {
      const rest = { ...departed }
      for (const c of back) delete rest[c.id]
      this.update({ departed: rest })
    }
    this.update({ chats: merged })
  })

  private readonly refreshUsers = shared(async () => {
    const users = await this.api.listUsers()
    if (!this.stopped) this.update({ users: directory(users) })
  })

  /** Marks the chat read up to the newest message its view holds. */
  private markNewest(chatId: string): void {
    const newest = this.snapshot.views[chatId]?.messages.at(-1)
    if (newest) this.markRead(chatId, newest.id)
  }

  private markRead(chatId: string, messageId: string): void {
    if (this.stopped) return
    this.reads.mark(chatId, messageId, this.findChat(chatId)?.lastReadId)
  }

  /**
   * A REST read of messages: take(answer, fresh) takes in the answer, which may predate changes
   * the stream made while the request was in flight; fresh(m) brings one of its messages up to
   * them (the stream's newer state, or its tombstone), so a late answer never undoes an event.
   */
  private async read<T>(
    fetch: () => Promise<T>,
    take: (answer: T, fresh: (m: Message) => Message) => void,
  ): Promise<void> {
    // With no read in flight, no one needs what changed before now.
    if (this.reading === 0) {
      this.touched.clear()
      this.latest.clear()
    }
    this.reading++
    const since = this.changes
    try {
      const answer = await fetch()
      if (this.stopped) return
      take(answer, (m) => this.freshen(m, since))
    } finally {
      this.reading--
    }
  }

  private freshen(m: Message, since: number): Message {
    if ((this.touched.get(m.id) ?? 0) <= since) return m
    const latest = this.latest.get(m.id)
    if (latest === undefined) return m
    return takeIncoming(m, latest === DELETED ? tombstone(m) : latest)
  }

  /** The stream changed a message: to message, or to a tombstone (DELETED). */
  private touch(messageId: string, state: Message | typeof DELETED): void {
    this.touched.set(messageId, ++this.changes)
    const held = this.latest.get(messageId)
    // Deletion is final (see takeIncoming).
    if (held === DELETED || (held?.deleted && state !== DELETED && !state.deleted)) return
    this.latest.set(messageId, state)
  }

  /** Whether the chat's view holds the message. */
  private holds(chatId: string, messageId: string): boolean {
    return this.snapshot.views[chatId]?.messages.some((m) => m.id === messageId) ?? false
  }

  /** The copy of a message held anywhere: the chat's history, a thread, the pins. */
  private findMessage(chatId: string, messageId: string): Message | undefined {
    const inView = this.snapshot.views[chatId]?.messages.find((m) => m.id === messageId)
    if (inView) return inView
    for (const thread of Object.values(this.snapshot.threads)) {
      if (thread.chatId !== chatId) continue
      if (thread.parent?.id === messageId) return thread.parent
      const reply = thread.messages.find((m) => m.id === messageId)
      if (reply) return reply
    }
    return this.snapshot.pins[chatId]?.find((m) => m.id === messageId)
  }

  /** The user left or lost the chat while the store ran, and is not back in it. */
  private gone(chatId: string): boolean {
    return this.snapshot.departed[chatId] !== undefined && !this.findChat(chatId)
  }

  private findChat(chatId: string): Chat | undefined {
    return this.snapshot.chats.find((c) => c.id === chatId)
  }

  private typersChanged(chatId: string): void {
    const typing = { ...this.snapshot.typing }
    const typers = this.typing.typers(chatId)
    if (typers.length > 0) typing[chatId] = typers
    else delete typing[chatId]
    this.update({ typing })
  }

  private threadTypersChanged(parentId: string): void {
    const threadTyping = { ...this.snapshot.threadTyping }
    const typers = this.threadTyping.typers(parentId)
    if (typers.length > 0) threadTyping[parentId] = typers
    else delete threadTyping[parentId]
    this.update({ threadTyping })
  }

  /** Sets a pending message's state; a no-op if it is not pending here (sent from another tab,
   * or settled already). */
  private setSendState(clientId: string, state: SendState, error?: string): void {
    this.setPending(setSendState(this.pending, clientId, state, error))
  }

  /** Takes the new pending lists, and shows those that changed in their chats' views (top-level
   * messages) and threads (replies). */
  private setPending(pending: PendingByChat): void {
    if (pending === this.pending) return
    const previous = this.pending
    this.pending = pending
    const changed = (chatId: string) => previous[chatId] !== pending[chatId]
    const views = { ...this.snapshot.views }
    let viewsChanged = false
    for (const [chatId, view] of Object.entries(views)) {
      if (!changed(chatId)) continue
      const list = topLevel(pending[chatId] ?? NO_PENDING)
      if (sameItems(list, view.pending)) continue
      views[chatId] = { ...view, pending: list }
      viewsChanged = true
    }
    const threads = { ...this.snapshot.threads }
    let threadsChanged = false
    for (const [parentId, thread] of Object.entries(threads)) {
      if (!changed(thread.chatId)) continue
      const list = inThread(pending[thread.chatId] ?? NO_PENDING, parentId)
      if (sameItems(list, thread.pending)) continue
      threads[parentId] = { ...thread, pending: list }
      threadsChanged = true
    }
    if (viewsChanged || threadsChanged) {
      this.update({
        ...(viewsChanged ? { views } : {}),
        ...(threadsChanged ? { threads } : {}),
      })
    }
  }

  private patchView(chatId: string, patch: (view: ChatView) => ChatView): void {
    const view = this.snapshot.views[chatId]
    if (!view) return
    const next = patch(view)
    if (next !== view) this.update({ views: { ...this.snapshot.views, [chatId]: next } })
  }

  private patchThread(parentId: string, patch: (thread: ThreadView) => ThreadView): void {
    const thread = this.snapshot.threads[parentId]
    if (!thread) return
    const next = patch(thread)
    if (next !== thread) this.update({ threads: { ...this.snapshot.threads, [parentId]: next } })
  }

  private patchChat(chatId: string, patch: (chat: Chat) => Chat): void {
    const chat = this.findChat(chatId)
    if (!chat) return
    const next = patch(chat)
    if (next !== chat) this.update({ chats: this.snapshot.chats.map((c) => (c === chat ? next : c)) })
  }

  /** The team's settings; failing to read them only leaves the previous ones shown. */
  private async refreshTeam(): Promise<void> {
    if (!this.api.getTeam) return
    try {
      const team = await this.api.getTeam()
      if (!this.stopped) this.patch(withTeam(this.snapshot, team))
    } catch {
      // The next RESYNC or TEAM_UPDATED brings them.
    }
  }

  private patch(patch: Partial<Snapshot> | null): void {
    if (patch) this.update(patch)
  }

  private update(patch: Partial<Snapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch }
    for (const listener of this.listeners) listener()
  }
}

/** What the stream says of a deleted message it may not hold. */
const DELETED = 'deleted'

function freshPage(page: MessagePage, fresh: (m: Message) => Message): MessagePage {
  return { ...page, messages: page.messages.map(fresh) }
}

/** The thread with its parent as fetched (if it was), brought up to the stream's changes. */
function withParent(thread: ThreadView, parent: Message | undefined, fresh: (m: Message) => Message): ThreadView {
  if (!parent) return thread
  const next = thread.parent ? takeIncoming(thread.parent, fresh(parent)) : fresh(parent)
  return next === thread.parent ? thread : { ...thread, parent: next }
}

/** The pending messages of a chat's history: not replies. */
function topLevel(pending: PendingMessage[]): PendingMessage[] {
  return pending.some((p) => p.parentId !== undefined) ? pending.filter((p) => p.parentId === undefined) : pending
}

/** The pending replies of one thread. */
function inThread(pending: PendingMessage[], parentId: string): PendingMessage[] {
  const replies = pending.filter((p) => p.parentId === parentId)
  return replies.length === 0 ? NO_PENDING : replies
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The view with its divider above messageId (none: undefined). */
function withUnreadFrom(view: ChatView, messageId: string | undefined): ChatView {
  if (view.unreadFrom === messageId) return view
  const next = { ...view }
  if (messageId === undefined) delete next.unreadFrom
  else next.unreadFrom = messageId
  return next
}

/** The first message after the read marker by someone else (the user's own, from another
 * device, are not news), or the first after it at all. */
function firstUnreadOf(view: ChatView, lastReadId: string, meId: string): string | undefined {
  const after = view.messages.filter((m) => m.id > lastReadId)
  return (after.find((m) => m.authorId !== meId) ?? after[0])?.id
}

/** A chat never read: the unread-th newest message by others, if the view reaches back to it. */
function lastUnreadOf(view: ChatView, meId: string, unread: number): string | undefined {
  const others = view.messages.filter((m) => m.authorId !== meId && !m.deleted)
  return (others.length >= unread ? others[others.length - unread] : view.hasMoreBefore ? undefined : others[0])?.id
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

/** Whether two of the server's JSON records say the same (key order aside). */
function sameJSON(a: object, b: object): boolean {
  const canonical = (o: object) => JSON.stringify(Object.entries(o).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : 1)))
  return canonical(a) === canonical(b)
}

/** What an outbox item is posted with besides its content: its thread, and notify anyway. */
function postOptions(item: OutboxItem): PostOptions {
  const options: PostOptions = {}
  if (item.parentId !== undefined) {
    options.parentId = item.parentId
    options.alsoToChat = item.alsoToChat ?? false
  }
  if (item.notifyAnyway) options.notifyAnyway = true
  return options
}
