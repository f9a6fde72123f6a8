import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  ApiRequestError,
  type DirectoryUser,
  type MessagePage,
  type MessagePageParams,
  type PostResult,
  type ReplyOptions,
  type SearchPage,
  type SearchParams,
} from '../api/client'
import type { Chat, ChatChange, Event, Message, Silence, User } from '../api/types'
import { IndexedDbOutbox } from '../outbox/IndexedDbOutbox'
import type {
  ConnectionInfo,
  ConnectionState,
  EventListener,
  EventStream,
  InfoListener,
} from '../stream/types'
import { type ChatApi, ChatStore, OLDER_RETRY_MIN_MS, PAGE_SIZE, randomClientId } from './ChatStore'
import type { Snapshot } from './types'

const me: User = { id: 'u1', username: 'ada', displayName: 'Ada', role: 'admin', createdAt: 1 }
const alice = member('u2', 'alice', 'Alice', true)
const bob = member('u3', 'bob', 'Bob', false)
const carol = member('u4', 'carol', 'Carol', true)

function member(id: string, username: string, displayName: string, online: boolean): DirectoryUser {
  return { id, username, displayName, role: 'member', createdAt: 2, online }
}

/** An event stream driven by the test. */
class FakeStream implements EventStream {
  private readonly eventListeners = new Set<EventListener>()
  private readonly infoListeners = new Set<InfoListener>()
  private current: ConnectionInfo = { state: 'live', lastEventAt: null, reconnects: 0, latencyMs: null }
  readonly echoes: string[] = []
  readonly start = vi.fn()
  readonly stop = vi.fn()

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  onInfo(listener: InfoListener): () => void {
    this.infoListeners.add(listener)
    return () => this.infoListeners.delete(listener)
  }

  info(): ConnectionInfo {
    return this.current
  }

  expectEcho(clientId: string): void {
    this.echoes.push(clientId)
  }

  listeners(): number {
    return this.eventListeners.size + this.infoListeners.size
  }

  emit(event: Event): void {
    for (const listener of this.eventListeners) listener(event)
  }

  message(message: Message): void {
    const { id, chatId, createdAt } = message
    this.emit({ id, type: 'NEW_MESSAGE', chatId, message, timestamp: createdAt })
  }

  setState(state: ConnectionState): void {
    this.current = { ...this.current, state }
    for (const listener of this.infoListeners) listener(this.current)
  }
}

/**
 * The server side of the API in memory, behind vi.fn methods. Ids come from one counter, so
 * they order like the server's ULIDs across chats, messages and events. offline makes every call
 * fail like fetch without a network. Messages are immutable: a change stores a new object, and
 * answers are copies, so the store never shares an object with the server. Every change is
 * logged as the event the server would send (log), with deletion's erasure: once a message is
 * deleted, every logged event that carried it carries its tombstone.
 */
class FakeServer {
  offline = false
  readonly users: DirectoryUser[] = [{ ...me, online: true }, alice, bob]
  readonly chats: Chat[] = []
  /** Per chat, every message (replies too) in id order. */
  readonly messages = new Map<string, Message[]>()
  /** Per chat, pinned message ids, most recently pinned first. */
  readonly pinned = new Map<string, string[]>()
  readonly log: Event[] = []
  /** What GET …/quiet answers, per chat. */
  readonly quiet: Record<string, Silence[]> = {}
  private seq = 0

  readonly api = {
    listChats: vi.fn(() => this.answer(() => this.chats.filter((c) => !c.hidden).map((c) => ({ ...c })))),
    listUsers: vi.fn(() => this.answer(() => [...this.users])),
    createChat: vi.fn((name: string, memberIds: string[]) =>
      this.answer(() => this.addChat(name, [me.id, ...memberIds], 0)),
    ),
    addMember: vi.fn((chatId: string, userId: string) =>
      this.answer(() => {
        const chat = this.chat(chatId)
        chat.memberIds = [...chat.memberIds, userId]
        return withoutSummary(chat)
      }),
    ),
    listMessages: vi.fn((chatId: string, params: MessagePageParams = {}) =>
      this.answer(() => copy(this.page(chatId, params))),
    ),
    listReplies: vi.fn((chatId: string, parentId: string, params: MessagePageParams = {}) =>
      this.answer(() => copy(this.repliesPage(chatId, parentId, params))),
    ),
    postMessage: vi.fn(
      (chatId: string, content: string, clientId: string, reply: ReplyOptions = {}): Promise<PostResult> =>
        this.answer(() => copy(this.post(chatId, me.id, content, clientId, reply))),
    ),
    getQuiet: vi.fn((chatId: string): Promise<Silence[]> => this.answer(() => this.quiet[chatId] ?? [])),
    editMessage: vi.fn((chatId: string, messageId: string, content: string) =>
      this.answer(() => copy(this.edit(chatId, messageId, content))),
    ),
    deleteMessage: vi.fn((chatId: string, messageId: string) =>
      this.answer(() => {
        this.remove(chatId, messageId)
      }),
    ),
    addReaction: vi.fn((chatId: string, messageId: string, emoji: string) =>
      this.answer(() => {
        this.react(chatId, messageId, me.id, emoji, true)
      }),
    ),
    removeReaction: vi.fn((chatId: string, messageId: string, emoji: string) =>
      this.answer(() => {
        this.react(chatId, messageId, me.id, emoji, false)
      }),
    ),
    pinMessage: vi.fn((chatId: string, messageId: string) =>
      this.answer(() => {
        this.pin(chatId, messageId, true)
      }),
    ),
    unpinMessage: vi.fn((chatId: string, messageId: string) =>
      this.answer(() => {
        this.pin(chatId, messageId, false)
      }),
    ),
    listPins: vi.fn((chatId: string) =>
      this.answer(() => copy((this.pinned.get(chatId) ?? []).map((id) => this.message(chatId, id)))),
    ),
    search: vi.fn((params: SearchParams) =>
      this.answer((): SearchPage => {
        const results = [...this.messages.values()]
          .flat()
          .filter((m) => !m.deleted && m.content.includes(params.q))
          .reverse()
          .map((m) => ({ message: copy(m), chatId: m.chatId, snippet: m.content }))
        return { results }
      }),
    ),
    markRead: vi.fn((chatId: string) =>
      this.answer(() => {
        this.chat(chatId).unread = 0
      }),
    ),
    typing: vi.fn(() => this.answer(() => undefined)),
    browseChannels: vi.fn(() =>
      this.answer(() =>
        this.chats
          .filter((c) => c.kind === 'channel' && !c.archived)
          .map((c) => ({
            id: c.id,
            name: c.name,
            ownerIds: c.ownerIds,
            createdAt: c.createdAt,
            memberCount: c.memberIds.length,
            joined: c.memberIds.includes(me.id),
          })),
      ),
    ),
    joinChat: vi.fn((chatId: string) =>
      this.answer(() => {
        const chat = this.chat(chatId)
        if (!chat.memberIds.includes(me.id)) chat.memberIds = [...chat.memberIds, me.id]
        return withoutSummary(chat)
      }),
    ),
    leaveChat: vi.fn((chatId: string) =>
      this.answer(() => {
        const chat = this.chat(chatId)
        if (chat.kind === 'dm') chat.hidden = true
        else chat.memberIds = chat.memberIds.filter((id) => id !== me.id)
      }),
    ),
    removeMember: vi.fn((chatId: string, userId: string) =>
      this.answer(() => {
        const chat = this.chat(chatId)
        chat.memberIds = chat.memberIds.filter((id) => id !== userId)
        chat.ownerIds = chat.ownerIds.filter((id) => id !== userId)
        return withoutSummary(chat)
      }),
    ),
    updateChat: vi.fn((chatId: string, change: ChatChange) =>
      this.answer(() => {
        const chat = this.chat(chatId)
        Object.assign(chat, change)
        return withoutSummary(chat)
      }),
    ),
    createDM: vi.fn((userIds: string[]) =>
      this.answer(() => {
        const chat = this.addChat('', [me.id, ...userIds], 0)
        const held = this.chat(chat.id)
        held.kind = 'dm'
        held.ownerIds = []
        return withoutSummary(held)
      }),
    ),
  } satisfies ChatApi

  newId(kind: string): string {
    return `${String(++this.seq).padStart(6, '0')}${kind}`
  }

  addChat(name: string, memberIds: string[], unread: number): Chat {
    const chat: Chat = {
      id: this.newId('c'),
      kind: 'private',
      name,
      topic: '',
      memberIds,
      ownerIds: [me.id],
      archived: false,
      createdBy: me.id,
      createdAt: this.seq,
      unread,
    }
    this.chats.push(chat)
    this.messages.set(chat.id, [])
    return withoutSummary(chat)
  }

  /** Stores a message; a repeated clientId of the same author returns the stored one. A reply
   * updates its parent's thread counts (MESSAGE_UPDATED). */
  post(chatId: string, authorId: string, content: string, clientId?: string, reply: ReplyOptions = {}): Message {
    const messages = this.messages.get(chatId) ?? []
    const repeat = messages.find(
      (m) => clientId !== undefined && m.clientId === clientId && m.authorId === authorId,
    )
    if (repeat) return repeat
    const message: Message = { id: this.newId('m'), chatId, authorId, content, createdAt: this.seq }
    if (clientId !== undefined) message.clientId = clientId
    if (reply.parentId !== undefined) message.parentId = reply.parentId
    if (reply.parentId !== undefined && reply.alsoToChat) message.alsoToChat = true
    messages.push(message)
    this.log.push({ id: message.id, type: 'NEW_MESSAGE', chatId, message, timestamp: message.createdAt })
    if (reply.parentId !== undefined) {
      const parent = this.message(chatId, reply.parentId)
      this.store({ ...parent, replyCount: (parent.replyCount ?? 0) + 1, lastReplyAt: message.createdAt })
    }
    if (reply.parentId === undefined || reply.alsoToChat) {
      const chat = this.chat(chatId)
      chat.lastMessageId = message.id
      if (authorId !== me.id) chat.unread = (chat.unread ?? 0) + 1
    }
    return message
  }

  edit(chatId: string, messageId: string, content: string): Message {
    const held = this.message(chatId, messageId)
    if (held.deleted) throw new ApiRequestError(409, 'conflict', 'This message was deleted.')
    return this.store({ ...held, content, editedAt: ++this.seq })
  }

  /** Deletes a message: its tombstone replaces it and every logged event that carried it. */
  remove(chatId: string, messageId: string): void {
    const held = this.message(chatId, messageId)
    if (held.deleted) return
    const grave: Message = {
      id: held.id,
      chatId,
      authorId: held.authorId,
      content: '',
      createdAt: held.createdAt,
      deleted: true,
    }
    for (const key of ['parentId', 'alsoToChat', 'replyCount', 'lastReplyAt'] as const) {
      if (held[key] !== undefined) Object.assign(grave, { [key]: held[key] })
    }
    this.replace(grave)
    this.pinned.set(
      chatId,
      (this.pinned.get(chatId) ?? []).filter((id) => id !== messageId),
    )
    for (const [i, event] of this.log.entries()) {
      if (event.message?.id === messageId) this.log[i] = { ...event, message: grave }
    }
    const event: Event = { id: this.newId('e'), type: 'MESSAGE_DELETED', chatId, messageId, timestamp: this.seq }
    if (held.parentId !== undefined) event.parentId = held.parentId
    this.log.push(event)
    if (held.parentId !== undefined) {
      const parent = this.message(chatId, held.parentId)
      this.store({ ...parent, replyCount: Math.max(0, (parent.replyCount ?? 1) - 1) })
    }
  }

  react(chatId: string, messageId: string, userId: string, emoji: string, on: boolean): void {
    const held = this.message(chatId, messageId)
    if (held.deleted) throw new ApiRequestError(409, 'conflict', 'This message was deleted.')
    const reactions = (held.reactions ?? []).map((r) => ({ ...r, userIds: [...r.userIds] }))
    const reaction = reactions.find((r) => r.emoji === emoji)
    if (on && reaction?.userIds.includes(userId)) return
    if (!on && !reaction?.userIds.includes(userId)) return
    if (on && reaction) reaction.userIds.push(userId)
    if (on && !reaction) reactions.push({ emoji, count: 1, userIds: [userId] })
    if (!on && reaction) reaction.userIds = reaction.userIds.filter((id) => id !== userId)
    for (const r of reactions) r.count = r.userIds.length
    const kept = reactions.filter((r) => r.count > 0)
    const changed: Message = { ...held, reactions: kept }
    if (kept.length === 0) delete changed.reactions
    this.store(changed)
  }

  pin(chatId: string, messageId: string, on: boolean): void {
    const held = this.message(chatId, messageId)
    if (Boolean(held.pinned) === on) return
    if (on && held.deleted) throw new ApiRequestError(409, 'conflict', 'This message was deleted.')
    const pins = (this.pinned.get(chatId) ?? []).filter((id) => id !== messageId)
    this.pinned.set(chatId, on ? [messageId, ...pins] : pins)
    const changed: Message = { ...held, pinned: true }
    if (!on) delete changed.pinned
    this.store(changed)
  }

  /** The chat's history, as GET …/messages shows it: no replies but those also sent to it. */
  contents(chatId: string): string[] {
    return this.history(chatId).map((m) => m.content)
  }

  message(chatId: string, messageId: string): Message {
    const found = this.messages.get(chatId)?.find((m) => m.id === messageId)
    if (!found) throw new ApiRequestError(404, 'not_found', 'Message not found.')
    return found
  }

  /** Stores the message's new state and logs its MESSAGE_UPDATED. */
  private store(message: Message): Message {
    this.replace(message)
    this.log.push({ id: this.newId('e'), type: 'MESSAGE_UPDATED', chatId: message.chatId, message, timestamp: this.seq })
    return message
  }

  private replace(message: Message): void {
    const messages = this.messages.get(message.chatId) ?? []
    this.messages.set(
      message.chatId,
      messages.map((m) => (m.id === message.id ? message : m)),
    )
  }

  chat(chatId: string): Chat {
    const chat = this.chats.find((c) => c.id === chatId)
    if (!chat) throw new ApiRequestError(404, 'not_found', 'Chat not found.')
    return chat
  }

  private history(chatId: string): Message[] {
    return (this.messages.get(chatId) ?? []).filter((m) => m.parentId === undefined || m.alsoToChat)
  }

  private page(chatId: string, { before, after, around, limit = 50 }: MessagePageParams): MessagePage {
    this.chat(chatId)
    return pageOf(this.history(chatId), { before, after, around, limit }, (id) => {
      const m = this.message(chatId, id)
      return m.parentId !== undefined && !m.alsoToChat ? m.parentId : id
    })
  }

  private repliesPage(chatId: string, parentId: string, params: MessagePageParams): MessagePage {
    this.message(chatId, parentId)
    return pageOf(
      (this.messages.get(chatId) ?? []).filter((m) => m.parentId === parentId),
      params,
      (id) => id,
    )
  }

  private answer<T>(handle: () => T): Promise<T> {
    if (this.offline) return Promise.reject(new TypeError('Failed to fetch'))
    try {
      return Promise.resolve(handle())
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

/** A page of messages (in id order) as the server cuts it; around centres on centre(id). */
function pageOf(
  messages: Message[],
  { before, after, around, limit = 50 }: MessagePageParams,
  centre: (id: string) => string,
): MessagePage {
  if (around !== undefined) {
    const at = messages.findIndex((m) => m.id === centre(around))
    if (at < 0) throw new ApiRequestError(404, 'not_found', 'Message not found.')
    const start = Math.max(0, at - Math.floor((limit - 1) / 2))
    const page = messages.slice(start, start + limit)
    return { messages: page, hasMore: start > 0, hasMoreAfter: start + page.length < messages.length }
  }
  if (after !== undefined) {
    const newer = messages.filter((m) => m.id > after)
    return { messages: newer.slice(0, limit), hasMore: newer.length > limit }
  }
  const older = before === undefined ? messages : messages.filter((m) => m.id < before)
  return { messages: older.slice(-limit), hasMore: older.length > limit }
}

/** A deep copy: what the wire would give. */
function copy<T>(value: T): T {
  return structuredClone(value)
}

/** The chat as createChat and addMember answer it: without the caller's unread count and marker. */
function withoutSummary(chat: Chat): Chat {
  const copy = { ...chat }
  delete copy.unread
  delete copy.lastReadId
  return copy
}

function postedClientIds(server: FakeServer): string[] {
  return server.api.postMessage.mock.calls.map(([, , clientId]) => clientId)
}

describe('ChatStore', () => {
  let factory: IDBFactory
  let server: FakeServer
  let stream: FakeStream
  let general: Chat
  let random: Chat
  let clientIds: number
  const stores: ChatStore[] = []

  function newStore(now?: () => number): ChatStore {
    const store = new ChatStore({
      api: server.api,
      stream,
      outbox: new IndexedDbOutbox(factory),
      me,
      newClientId: () => `cid-${++clientIds}`,
      now,
    })
    stores.push(store)
    return store
  }

  async function started(): Promise<ChatStore> {
    const store = newStore()
    await store.start()
    return store
  }

  function view(store: ChatStore, chatId: string) {
    const v = store.getSnapshot().views[chatId]
    if (!v) throw new Error(`no view of ${chatId}`)
    return v
  }

  function chat(store: ChatStore, chatId: string): Chat {
    const c = store.getSnapshot().chats.find((c) => c.id === chatId)
    if (!c) throw new Error(`no chat ${chatId}`)
    return c
  }

  const chatIds = (store: ChatStore) => store.getSnapshot().chats.map((c) => c.id)

  const contents = (store: ChatStore, chatId: string) => view(store, chatId).messages.map((m) => m.content)
  const pending = (store: ChatStore, chatId: string) =>
    view(store, chatId).pending.map((p) => `${p.content}:${p.state}${p.error ? `:${p.error}` : ''}`)
  const outboxContents = async () => (await new IndexedDbOutbox(factory).list()).map((i) => i.content)

  beforeEach(() => {
    factory = new IDBFactory()
    server = new FakeServer()
    stream = new FakeStream()
    clientIds = 0
    general = server.addChat('general', [me.id, alice.id], 0)
    random = server.addChat('random', [me.id, alice.id, bob.id], 2)
  })

  afterEach(() => {
    for (const store of stores.splice(0)) store.stop()
    vi.useRealTimers()
  })

  describe('start', () => {
    it('loads chats (latest activity first) and the directory, and only listens to the stream', async () => {
      server.post(general.id, alice.id, 'hi')

      const store = await started()

      const snapshot = store.getSnapshot()
      expect(snapshot.me).toBe(me)
      expect(snapshot.chats.map((c) => c.name)).toEqual(['general', 'random'])
      expect(snapshot.chats.map((c) => c.unread)).toEqual([1, 2])
      expect(Object.keys(snapshot.users).sort()).toEqual([me.id, alice.id, bob.id])
      expect(snapshot.users[alice.id]?.online).toBe(true)
      expect(stream.start).not.toHaveBeenCalled()
      expect(stream.listeners()).toBe(2)
    })

    it('applies events that arrive while it loads, after loading', async () => {
      const store = newStore()
      const starting = store.start()
      stream.message(server.post(random.id, alice.id, 'during start'))
      await starting

      expect(chat(store, random.id).unread).toBe(3) // 2 from the list + 1: counted once
      expect(store.getSnapshot().chats[0]?.id).toBe(random.id)
    })

    it('rejects when the chat list cannot be loaded, and may be started again', async () => {
      server.offline = true
      const store = newStore()
      await expect(store.start()).rejects.toBeInstanceOf(TypeError)
      expect(stream.listeners()).toBe(0)

      server.offline = false
      await store.start()

      expect(store.getSnapshot().chats).toHaveLength(2)
      expect(stream.listeners()).toBe(2)
    })

    it('stop() unsubscribes from the stream', async () => {
      const store = await started()

      store.stop()

      expect(stream.listeners()).toBe(0)
    })
  })

  describe('sending', () => {
    it('shows a message as pending at once, then confirmed once from the answer and the echo', async () => {
      const store = await started()
      await store.openChat(general.id)

      store.send(general.id, 'hello')

      expect(pending(store, general.id)).toEqual(['hello:sending'])
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['hello']))
      expect(view(store, general.id).pending).toEqual([])
      const [confirmed] = server.messages.get(general.id) ?? []
      expect(confirmed?.clientId).toBe('cid-1')
      expect(stream.echoes).toEqual(['cid-1'])

      if (confirmed) stream.message(confirmed)

      expect(contents(store, general.id)).toEqual(['hello'])
      expect(chat(store, general.id)).toMatchObject({ lastMessageId: confirmed?.id, unread: 0 })
      await vi.waitFor(async () => expect(await outboxContents()).toEqual([]))
    })

    it('settles a message whose echo comes before the answer to its POST', async () => {
      const store = await started()
      await store.openChat(general.id)
      let answer: (message: Message) => void = () => undefined
      server.api.postMessage.mockImplementationOnce((chatId, content, clientId) => {
        const message = server.post(chatId, me.id, content, clientId)
        stream.message(message)
        return new Promise((resolve) => (answer = () => resolve(message)))
      })

      store.send(general.id, 'echo first')
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['echo first']))
      expect(view(store, general.id).pending).toEqual([])
      const [message] = server.messages.get(general.id) ?? []
      if (message) answer(message)

      await vi.waitFor(() => expect(server.api.postMessage).toHaveBeenCalledTimes(1))
      expect(contents(store, general.id)).toEqual(['echo first'])
    })

    it('keeps the indentation of the first line and drops trailing white space', async () => {
      const store = await started()
      await store.openChat(general.id)

      store.send(general.id, '    const x = 1\n    return x  \n')

      expect(pending(store, general.id)).toEqual(['    const x = 1\n    return x:sending'])
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['    const x = 1\n    return x']))
      expect(server.contents(general.id)).toEqual(['    const x = 1\n    return x'])
    })

    it('ignores a message that is only whitespace', async () => {
      const store = await started()
      await store.openChat(general.id)

      store.send(general.id, ' \n ')

      expect(view(store, general.id).pending).toEqual([])
      expect(await outboxContents()).toEqual([])
    })

    it('queues messages while offline and sends them in order, exactly once, once live again', async () => {
      const store = await started()
      await store.openChat(general.id)
      server.offline = true
      stream.setState('reconnecting')

      store.send(general.id, 'one')
      store.send(general.id, 'two')
      store.send(general.id, 'three')

      await vi.waitFor(() =>
        expect(pending(store, general.id)).toEqual(['one:queued', 'two:queued', 'three:queued']),
      )
      expect(await outboxContents()).toEqual(['one', 'two', 'three'])
      const triedOffline = server.api.postMessage.mock.calls.length
      expect(postedClientIds(server).every((id) => id === 'cid-1')).toBe(true) // nothing overtook 'one'

      server.offline = false
      stream.setState('live')

      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['one', 'two', 'three']))
      expect(postedClientIds(server).slice(triedOffline)).toEqual(['cid-1', 'cid-2', 'cid-3'])
      expect(server.contents(general.id)).toEqual(['one', 'two', 'three'])
      expect(view(store, general.id).pending).toEqual([])
      expect(await outboxContents()).toEqual([])

      stream.setState('polling') // another reachable state: flushes again, with nothing left to send
      store.send(general.id, 'four')
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['one', 'two', 'three', 'four']))
      expect(postedClientIds(server).slice(triedOffline)).toEqual(['cid-1', 'cid-2', 'cid-3', 'cid-4'])
    })

    it("sends the queue when the browser's online event fires", async () => {
      const store = await started()
      await store.openChat(general.id)
      server.offline = true
      store.send(general.id, 'later')
      await vi.waitFor(() => expect(pending(store, general.id)).toEqual(['later:queued']))

      server.offline = false
      window.dispatchEvent(new window.Event('online'))

      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['later']))
    })

    it('keeps queued messages across a reload and sends each once', async () => {
      const first = await started()
      await first.openChat(general.id)
      server.offline = true
      first.send(general.id, 'survives')
      await vi.waitFor(() => expect(pending(first, general.id)).toEqual(['survives:queued']))
      first.stop() // the page goes away
      const callsBefore = server.api.postMessage.mock.calls.length

      server.offline = false // the server is back when the page reloads
      let answer: () => void = () => undefined
      server.api.postMessage.mockImplementationOnce((chatId, content, clientId) => {
        const message = server.post(chatId, me.id, content, clientId)
        return new Promise((resolve) => (answer = () => resolve(message)))
      })
      const second = await started()
      await second.openChat(general.id)

      await vi.waitFor(() => expect(server.api.postMessage).toHaveBeenCalledTimes(callsBefore + 1))
      expect(pending(second, general.id)).toEqual(['survives:sending'])
      answer()
      await vi.waitFor(() => expect(contents(second, general.id)).toEqual(['survives']))
      expect(view(second, general.id).pending).toEqual([])
      await vi.waitFor(async () => expect(await outboxContents()).toEqual([]))
      stream.setState('reconnecting')
      stream.setState('live')
      second.send(general.id, 'after') // confirmed only after every flush before it is done
      await vi.waitFor(() => expect(contents(second, general.id)).toEqual(['survives', 'after']))
      expect(postedClientIds(server).slice(callsBefore)).toEqual(['cid-1', 'cid-2'])
      expect(server.contents(general.id)).toEqual(['survives', 'after'])
    })

    it('keeps a message the desktop app queued pending until its NEW_MESSAGE arrives', async () => {
      const store = await started()
      await store.openChat(general.id)
      // The team server is down: the app's proxy stores the post in its own outbox (202).
      server.api.postMessage.mockImplementationOnce((chatId, content, clientId) =>
        Promise.resolve({ queued: true, message: { chatId, content, clientId, createdAt: 7 } }),
      )

      store.send(general.id, 'via the app')

      await vi.waitFor(() => expect(pending(store, general.id)).toEqual(['via the app:relayed']))
      expect(contents(store, general.id)).toEqual([])
      await vi.waitFor(async () => expect(await outboxContents()).toEqual([])) // the app has it now

      // The connection comes back (a flush), and the next message is sent after that flush:
      // the queued one is not posted again from here.
      stream.setState('reconnecting')
      stream.setState('live')
      store.send(general.id, 'next')
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['next']))
      expect(postedClientIds(server)).toEqual(['cid-1', 'cid-2'])
      expect(pending(store, general.id)).toEqual(['via the app:relayed'])

      // The app delivers it; the server's event carries the same clientId.
      stream.message(server.post(general.id, me.id, 'via the app', 'cid-1'))

      expect(view(store, general.id).pending).toEqual([])
      expect(contents(store, general.id)).toEqual(['next', 'via the app'])
      expect(postedClientIds(server)).toEqual(['cid-1', 'cid-2'])
    })

    it('after a reload, shows what the desktop app still holds as queued until it arrives', async () => {
      const relayedOutbox = vi.fn(() =>
        Promise.resolve([{ chatId: general.id, clientId: 'app-1', content: 'held by the app', createdAt: 5 }]),
      )
      const store = new ChatStore({ api: server.api, stream, outbox: new IndexedDbOutbox(factory), me, relayedOutbox })
      stores.push(store)
      await store.start()
      await store.openChat(general.id)

      expect(pending(store, general.id)).toEqual(['held by the app:relayed'])
      expect(server.api.postMessage).not.toHaveBeenCalled() // the app sends it, not the page

      stream.message(server.post(general.id, me.id, 'held by the app', 'app-1'))
      expect(view(store, general.id).pending).toEqual([])
      expect(contents(store, general.id)).toEqual(['held by the app'])
    })

    it('starts even when the desktop app cannot list its outbox', async () => {
      const relayedOutbox = vi.fn(() => Promise.reject(new TypeError('Failed to fetch')))
      const store = new ChatStore({ api: server.api, stream, outbox: new IndexedDbOutbox(factory), me, relayedOutbox })
      stores.push(store)
      await store.start()
      expect(store.getSnapshot().chats.map((c) => c.name)).toContain('general')
    })

    it('marks a refused message failed, and sends it again on retry', async () => {
      const store = await started()
      await store.openChat(general.id)
      const refusal = 'content must be at most 8000 characters.'
      server.api.postMessage.mockRejectedValueOnce(new ApiRequestError(400, 'invalid', refusal))

      store.send(general.id, 'too long')

      await vi.waitFor(() =>
        expect(pending(store, general.id)).toEqual([`too long:failed:${refusal}`]),
      )
      expect((await new IndexedDbOutbox(factory).list())[0]?.error).toBe(refusal)

      store.retry('cid-1')

      expect(pending(store, general.id)).toEqual(['too long:sending'])
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['too long']))
      expect(view(store, general.id).pending).toEqual([])
      expect(await outboxContents()).toEqual([])
    })

    it('drops a discarded message without sending it', async () => {
      const store = await started()
      await store.openChat(general.id)
      server.api.postMessage.mockRejectedValueOnce(new ApiRequestError(403, 'forbidden', 'Not a member.'))
      store.send(general.id, 'unwanted')
      await vi.waitFor(() => expect(pending(store, general.id)).toEqual(['unwanted:failed:Not a member.']))

      store.discard('cid-1')

      expect(view(store, general.id).pending).toEqual([])
      await vi.waitFor(async () => expect(await outboxContents()).toEqual([]))
      stream.setState('reconnecting')
      stream.setState('live')
      store.send(general.id, 'next') // confirmed only after every flush before it is done
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['next']))
      expect(postedClientIds(server)).toEqual(['cid-1', 'cid-2'])
    })

    it('retries a failed send of a queued message by itself with a 5xx answer', async () => {
      const store = await started()
      await store.openChat(general.id)
      server.api.postMessage.mockRejectedValueOnce(new ApiRequestError(503, 'unavailable', 'Shutting down.'))

      store.send(general.id, 'eventually')

      await vi.waitFor(() => expect(pending(store, general.id)).toEqual(['eventually:queued']))
      stream.setState('reconnecting')
      stream.setState('live')
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['eventually']))
    })
  })

  describe('unread counts', () => {
    it("counts others' messages in chats that are not open, and moves the chat to the top", async () => {
      const store = await started()
      await store.openChat(general.id)

      stream.message(server.post(random.id, alice.id, 'in random'))
      stream.message(server.post(random.id, me.id, 'mine, from my phone'))
      stream.message(server.post(general.id, alice.id, 'in the open chat'))

      expect(chat(store, random.id).unread).toBe(3)
      expect(chat(store, general.id).unread).toBe(0)
      expect(store.getSnapshot().chats.map((c) => c.id)).toEqual([general.id, random.id])
      const newest = server.messages.get(general.id)?.at(-1)?.id
      await vi.waitFor(() => expect(server.api.markRead).toHaveBeenCalledWith(general.id, newest))
    })

    it('counts a message once even if it is delivered twice', async () => {
      const store = await started()
      const message = server.post(random.id, alice.id, 'twice')

      stream.message(message)
      stream.message(message)

      expect(chat(store, random.id).unread).toBe(3)
    })

    it('resets the count and the read marker when the chat is opened', async () => {
      server.post(random.id, alice.id, 'hello')
      const store = await started()

      await store.openChat(random.id)

      expect(chat(store, random.id).unread).toBe(0)
      const newest = server.messages.get(random.id)?.at(-1)?.id
      await vi.waitFor(() => expect(server.api.markRead).toHaveBeenCalledWith(random.id, newest))
      expect(server.chats.find((c) => c.id === random.id)?.unread).toBe(0)
    })

    it('counts again once the chat is closed', async () => {
      const store = await started()
      await store.openChat(general.id)
      stream.message(server.post(general.id, alice.id, 'while open'))
      expect(chat(store, general.id).unread).toBe(0)

      store.closeChat(general.id)
      stream.message(server.post(general.id, alice.id, 'after closing'))
      expect(chat(store, general.id).unread).toBe(1)
    })
  })

  describe('history', () => {
    it('loads the newest page on open and older pages on loadOlder, without duplicates', async () => {
      for (let i = 0; i < PAGE_SIZE * 2 + 10; i++) server.post(general.id, alice.id, `m${i}`)
      const store = await started()

      await store.openChat(general.id)
      expect(view(store, general.id)).toMatchObject({ hasMoreBefore: true, loading: false })
      expect(contents(store, general.id)).toHaveLength(PAGE_SIZE)
      expect(contents(store, general.id).at(-1)).toBe(`m${PAGE_SIZE * 2 + 9}`)

      const first = store.loadOlder(general.id)
      const ignored = store.loadOlder(general.id) // while loading: a no-op
      expect(view(store, general.id).loading).toBe(true)
      await Promise.all([first, ignored])
      expect(contents(store, general.id)).toHaveLength(PAGE_SIZE * 2)

      await store.loadOlder(general.id)
      expect(contents(store, general.id)).toEqual(server.contents(general.id))
      expect(view(store, general.id).hasMoreBefore).toBe(false)

      await store.loadOlder(general.id) // nothing older: a no-op
      expect(server.api.listMessages).toHaveBeenCalledTimes(3)
      const befores = server.api.listMessages.mock.calls.map(([, params]) => params?.before)
      const ids = server.messages.get(general.id)?.map((m) => m.id) ?? []
      expect(befores).toEqual([undefined, ids[PAGE_SIZE + 10], ids[10]])
    })

    it('leaves out a replayed message older than the loaded pages, so paging leaves no hole', async () => {
      for (let i = 0; i < PAGE_SIZE + 10; i++) server.post(general.id, alice.id, `m${i}`)
      const store = await started()
      await store.openChat(general.id)
      const old = server.messages.get(general.id)?.[3]
      if (!old) throw new Error('no old message')

      stream.message(old)

      expect(contents(store, general.id)).toHaveLength(PAGE_SIZE)
      expect(contents(store, general.id)[0]).toBe('m10')
      await store.loadOlder(general.id)
      expect(contents(store, general.id)).toEqual(server.contents(general.id))
    })

    it('after a failed older page, waits before loading by itself again, not when asked', async () => {
      for (let i = 0; i < PAGE_SIZE * 3; i++) server.post(general.id, alice.id, `m${i}`)
      let clock = 1_000_000
      const store = newStore(() => clock)
      await store.start()
      await store.openChat(general.id)
      const requests = () => server.api.listMessages.mock.calls.length
      server.offline = true

      await expect(store.loadOlder(general.id, { automatic: true })).rejects.toBeInstanceOf(TypeError)
      expect(requests()).toBe(2)
      expect(view(store, general.id).loading).toBe(false)
      // The top of the list is still in view: it asks again at once, and again.
      await store.loadOlder(general.id, { automatic: true })
      clock += OLDER_RETRY_MIN_MS - 1
      await store.loadOlder(general.id, { automatic: true })
      expect(requests()).toBe(2)

      clock += 1
      await expect(store.loadOlder(general.id, { automatic: true })).rejects.toBeInstanceOf(TypeError)
      expect(requests()).toBe(3)
      clock += OLDER_RETRY_MIN_MS // the wait doubles with every failure
      await store.loadOlder(general.id, { automatic: true })
      expect(requests()).toBe(3)

      await expect(store.loadOlder(general.id)).rejects.toBeInstanceOf(TypeError) // a click
      expect(requests()).toBe(4)

      server.offline = false
      await store.loadOlder(general.id)
      expect(contents(store, general.id)).toHaveLength(PAGE_SIZE * 2)
      await store.loadOlder(general.id, { automatic: true }) // a success ends the waiting
      expect(contents(store, general.id)).toEqual(server.contents(general.id))
    })

    it('loads a chat once, however often it is opened', async () => {
      const store = await started()

      await Promise.all([store.openChat(general.id), store.openChat(general.id)])
      await store.openChat(general.id)

      expect(server.api.listMessages).toHaveBeenCalledTimes(1)
    })
  })

  describe('RESYNC', () => {
    it('refetches chats, users and the newest page of loaded views, merging without duplicates', async () => {
      server.post(general.id, alice.id, 'old')
      const store = await started()
      await store.openChat(general.id)
      server.post(general.id, alice.id, 'missed')
      server.post(random.id, alice.id, 'missed elsewhere')
      server.users.push(carol)

      stream.emit({ type: 'RESYNC', timestamp: 0 })

      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['old', 'missed']))
      await vi.waitFor(() => expect(chat(store, random.id).unread).toBe(3))
      expect(store.getSnapshot().users[carol.id]).toEqual(carol)
      expect(server.api.listChats).toHaveBeenCalledTimes(2)
      expect(server.api.listUsers).toHaveBeenCalledTimes(2)
    })

    it('starts a view over from the newest page when more than a page was missed', async () => {
      server.post(general.id, alice.id, 'old')
      const store = await started()
      await store.openChat(general.id)
      for (let i = 0; i < PAGE_SIZE + 5; i++) server.post(general.id, alice.id, `new${i}`)

      stream.emit({ type: 'RESYNC', timestamp: 0 })

      const newest = server.contents(general.id).slice(-PAGE_SIZE)
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(newest))
      expect(view(store, general.id).hasMoreBefore).toBe(true)
      await store.loadOlder(general.id)
      expect(contents(store, general.id)).toEqual(server.contents(general.id))
    })

    it('offers older history after refetching into a view that was empty', async () => {
      const store = await started()
      await store.openChat(general.id) // an empty chat
      expect(view(store, general.id).hasMoreBefore).toBe(false)
      for (let i = 0; i < PAGE_SIZE + 5; i++) server.post(general.id, alice.id, `new${i}`)

      stream.emit({ type: 'RESYNC', timestamp: 0 })

      const newest = server.contents(general.id).slice(-PAGE_SIZE)
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(newest))
      expect(view(store, general.id).hasMoreBefore).toBe(true)
      await store.loadOlder(general.id)
      expect(contents(store, general.id)).toEqual(server.contents(general.id))
    })

    it('drops an older page that was asked for before the view started over', async () => {
      for (let i = 0; i < PAGE_SIZE + 10; i++) server.post(general.id, alice.id, `old${i}`)
      const store = await started()
      await store.openChat(general.id)
      let answerOlder: () => void = () => undefined
      const listMessages = server.api.listMessages.getMockImplementation()
      server.api.listMessages.mockImplementationOnce((chatId, params) => {
        const page = listMessages?.(chatId, params)
        return new Promise((resolve, reject) => (answerOlder = () => void page?.then(resolve, reject)))
      })
      const older = store.loadOlder(general.id)
      for (let i = 0; i < PAGE_SIZE + 5; i++) server.post(general.id, alice.id, `new${i}`)

      stream.emit({ type: 'RESYNC', timestamp: 0 })
      const newest = server.contents(general.id).slice(-PAGE_SIZE)
      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(newest))
      answerOlder()
      await older

      expect(contents(store, general.id)).toEqual(newest)
      expect(view(store, general.id)).toMatchObject({ hasMoreBefore: true, loading: false })
    })

    it('settles pending messages that the refetch shows were stored', async () => {
      const store = await started()
      await store.openChat(general.id)
      server.api.postMessage.mockImplementationOnce((chatId, content, clientId) => {
        server.post(chatId, me.id, content, clientId) // stored, but the answer is lost
        return Promise.reject(new TypeError('Failed to fetch'))
      })
      store.send(general.id, 'lost answer')
      await vi.waitFor(() => expect(pending(store, general.id)).toEqual(['lost answer:queued']))

      stream.emit({ type: 'RESYNC', timestamp: 0 })

      await vi.waitFor(() => expect(contents(store, general.id)).toEqual(['lost answer']))
      expect(view(store, general.id).pending).toEqual([])
      await vi.waitFor(async () => expect(await outboxContents()).toEqual([]))
    })
  })

  describe('chats', () => {
    it('adds a chat I was added to from CHAT_UPDATED, and the directory if a member is new', async () => {
      const store = await started()
      server.users.push(carol)
      const added: Chat = {
        id: server.newId('c'),
        kind: 'private',
        name: 'new',
        topic: '',
        memberIds: [carol.id, me.id],
        ownerIds: [carol.id],
        archived: false,
        createdBy: carol.id,
        createdAt: 9,
      }

      stream.emit({ id: server.newId('e'), type: 'CHAT_UPDATED', chatId: added.id, chat: added, timestamp: 9 })

      expect(store.getSnapshot().chats[0]).toEqual({ ...added, unread: 0 })
      await vi.waitFor(() => expect(store.getSnapshot().users[carol.id]).toEqual(carol))
    })

    it('loads the directory again when someone known but met for the first time joins a chat: their presence was not followed', async () => {
      const dave = member('u5', 'dave', 'Dave', false)
      server.users.push(dave)
      const store = await started()
      expect(store.getSnapshot().users[dave.id]?.online).toBe(false)
      // Dave came online while he shared no chat with the user: nothing told this store.
      server.users[server.users.length - 1] = { ...dave, online: true }

      stream.emit({ id: server.newId('e'), type: 'CHAT_UPDATED', chatId: general.id, chat: { ...withoutSummary(general), memberIds: [me.id, alice.id, dave.id] }, timestamp: 9 })
      stream.emit({ id: server.newId('e'), type: 'CHAT_MEMBER_ADDED', chatId: general.id, userId: dave.id, timestamp: 9 })

      await vi.waitFor(() => expect(store.getSnapshot().users[dave.id]?.online).toBe(true))
      expect(server.api.listUsers).toHaveBeenCalledTimes(2)
      // Bob already shares a chat with the user: nothing to ask.
      stream.emit({ id: server.newId('e'), type: 'CHAT_UPDATED', chatId: general.id, chat: { ...withoutSummary(general), memberIds: [me.id, alice.id, dave.id, bob.id] }, timestamp: 10 })
      stream.emit({ id: server.newId('e'), type: 'CHAT_MEMBER_ADDED', chatId: general.id, userId: bob.id, timestamp: 10 })
      // (refreshLater asks at once, so a call would be counted by now.)
      expect(server.api.listUsers).toHaveBeenCalledTimes(2)
    })

    it('loads the directory again when a completed task names someone it does not know (a new bot)', async () => {
      const store = await started()
      const bot = member('u9', 'build-bot', 'build-bot', true)
      server.users.push(bot)

      stream.emit({
        id: server.newId('e'),
        type: 'TASK_COMPLETED',
        task: { id: 't1', name: 'build', status: 'succeeded', ownerId: me.id, createdBy: bot.id, createdAt: 9 },
        timestamp: 9,
      })

      await vi.waitFor(() => expect(store.getSnapshot().users[bot.id]).toEqual(bot))
      expect(server.api.listUsers).toHaveBeenCalledTimes(2)
      stream.emit({
        id: server.newId('e'),
        type: 'TASK_COMPLETED',
        task: { id: 't2', name: 'lint', status: 'failed', ownerId: me.id, createdBy: bot.id, createdAt: 10 },
        timestamp: 10,
      })
      expect(server.api.listUsers).toHaveBeenCalledTimes(2)
    })

    it('shows a created chat at once and keeps one copy when its CHAT_UPDATED arrives', async () => {
      const store = await started()

      const created = await store.createChat('project', [alice.id])

      expect(store.getSnapshot().chats[0]).toMatchObject({ id: created.id, name: 'project', unread: 0 })
      stream.emit({ type: 'CHAT_UPDATED', chatId: created.id, chat: created, timestamp: 10 })
      expect(store.getSnapshot().chats.filter((c) => c.id === created.id)).toHaveLength(1)
      expect(server.api.createChat).toHaveBeenCalledWith('project', [alice.id])
    })

    it('updates the members after addMember, keeping the unread count', async () => {
      const store = await started()

      await store.addMember(random.id, 'u3')
      await store.addMember(general.id, bob.id)

      expect(chat(store, general.id).memberIds).toEqual([me.id, alice.id, bob.id])
      expect(chat(store, random.id).unread).toBe(2)
    })
  })

  describe('membership', () => {
    const event = (type: Event['type'], fields: Partial<Event>): Event => ({
      id: server.newId('e'),
      type,
      timestamp: 1,
      ...fields,
    })

    it('takes a rename, topic, archive and owners from CHAT_UPDATED, keeping the unread count', async () => {
      const store = await started()
      const changed = { ...withoutSummary(random), name: 'releases', topic: 'Fridays', archived: true, ownerIds: [alice.id] }

      stream.emit(event('CHAT_UPDATED', { chatId: random.id, chat: changed }))

      expect(chat(store, random.id)).toMatchObject({
        name: 'releases',
        topic: 'Fridays',
        archived: true,
        ownerIds: [alice.id],
        unread: 2,
      })
    })

    it('adds and removes others live (CHAT_MEMBER_ADDED, CHAT_MEMBER_REMOVED), an owner no more', async () => {
      const store = await started()
      stream.emit(event('CHAT_MEMBER_ADDED', { chatId: general.id, userId: bob.id }))
      stream.emit(event('CHAT_MEMBER_ADDED', { chatId: general.id, userId: bob.id }))
      expect(chat(store, general.id).memberIds).toEqual([me.id, alice.id, bob.id])

      stream.emit(event('CHAT_UPDATED', { chatId: general.id, chat: { ...withoutSummary(general), memberIds: [me.id, alice.id], ownerIds: [me.id, alice.id] } }))
      stream.emit(event('CHAT_MEMBER_REMOVED', { chatId: general.id, userId: alice.id }))

      expect(chat(store, general.id)).toMatchObject({ memberIds: [me.id], ownerIds: [me.id] })
    })

    it('drops a chat the user is removed from at once, with its view and pins, and asks nothing more of it', async () => {
      const store = await started()
      await store.openChat(random.id)
      await store.loadPins(random.id)
      const asked = server.api.listMessages.mock.calls.length

      stream.emit(event('CHAT_MEMBER_REMOVED', { chatId: random.id, userId: me.id }))

      const snapshot = store.getSnapshot()
      expect(chatIds(store)).not.toContain(random.id)
      expect(snapshot.views[random.id]).toBeUndefined()
      expect(snapshot.pins[random.id]).toBeUndefined()
      expect(snapshot.departed[random.id]).toMatchObject({ reason: 'removed', chat: { name: 'random' } })
      await store.loadOlder(random.id)
      await store.openChat(random.id)
      await store.loadPins(random.id)
      stream.emit({ type: 'RESYNC', timestamp: 2 })
      await vi.waitFor(() => expect(server.api.listChats).toHaveBeenCalledTimes(2))
      expect(server.api.listMessages.mock.calls.length).toBe(asked)
      expect(server.api.listPins.mock.calls.every(([id]) => id === random.id)).toBe(true)
      expect(server.api.listPins).toHaveBeenCalledTimes(1)
    })

    it('does not take back a chat from a CHAT_UPDATED that no longer names the user', async () => {
      const store = await started()
      stream.emit(event('CHAT_MEMBER_REMOVED', { chatId: random.id, userId: me.id }))

      stream.emit(event('CHAT_UPDATED', { chatId: random.id, chat: { ...withoutSummary(random), memberIds: [alice.id] } }))

      expect(chatIds(store)).not.toContain(random.id)
    })

    it('drops a chat the server no longer lists after RESYNC (removed while the stream was down)', async () => {
      const store = await started()
      server.chat(random.id).memberIds = [alice.id]
      server.chats.splice(server.chats.indexOf(server.chat(random.id)), 1)

      stream.emit({ type: 'RESYNC', timestamp: 2 })

      await vi.waitFor(() => expect(chatIds(store)).toEqual([general.id]))
    })

    it('joins a channel and takes it into the list; being added again ends its departure', async () => {
      const store = await started()
      const ops = server.addChat('ops', [alice.id], 0)
      server.chat(ops.id).kind = 'channel'

      expect(await store.browseChannels()).toMatchObject([{ id: ops.id, joined: false, memberCount: 1 }])
      await store.joinChat(ops.id)

      expect(chat(store, ops.id).memberIds).toEqual([alice.id, me.id])
      await store.leaveChat(ops.id)
      expect(chatIds(store)).not.toContain(ops.id)
      expect(store.getSnapshot().departed[ops.id]?.reason).toBe('left')
      await store.joinChat(ops.id)
      expect(chatIds(store)).toContain(ops.id)
      expect(store.getSnapshot().departed[ops.id]).toBeUndefined()
    })

    it('hides a DM the user leaves, and shows it again when a new message arrives in it', async () => {
      const store = await started()
      const dm = await store.createDM([alice.id])
      expect(chat(store, dm.id).kind).toBe('dm')

      await store.leaveChat(dm.id)
      expect(chatIds(store)).not.toContain(dm.id)
      const message = server.post(dm.id, alice.id, 'still there?')
      server.chat(dm.id).hidden = false
      server.chat(dm.id).unread = 1
      stream.message(message)

      await vi.waitFor(() => expect(chatIds(store)[0]).toBe(dm.id))
      expect(chat(store, dm.id).unread).toBe(1)
      expect(store.getSnapshot().departed[dm.id]).toBeUndefined()
    })

    it('drops a DM hidden on another device (CHAT_HIDDEN), and takes it back with its next message', async () => {
      const dm = server.addChat('', [me.id, alice.id], 0)
      server.chat(dm.id).kind = 'dm'
      const store = await started()
      await store.openChat(dm.id)

      server.chat(dm.id).hidden = true
      stream.emit(event('CHAT_HIDDEN', { chatId: dm.id }))
      stream.emit(event('CHAT_HIDDEN', { chatId: dm.id }))

      expect(chatIds(store)).not.toContain(dm.id)
      expect(store.getSnapshot().views[dm.id]).toBeUndefined()
      expect(store.getSnapshot().departed[dm.id]?.reason).toBe('left')
      // Only a DM hides.
      stream.emit(event('CHAT_HIDDEN', { chatId: general.id }))
      expect(chatIds(store)).toContain(general.id)

      const message = server.post(dm.id, alice.id, 'back again')
      server.chat(dm.id).hidden = false
      stream.message(message)
      await vi.waitFor(() => expect(chatIds(store)).toContain(dm.id))
      expect(store.getSnapshot().departed[dm.id]).toBeUndefined()
    })

    it('removes a member and renames through the API, taking the answers', async () => {
      const store = await started()

      await store.removeMember(random.id, bob.id)
      await store.updateChat(random.id, { name: 'later', topic: 'Soon' })

      expect(chat(store, random.id)).toMatchObject({ memberIds: [me.id, alice.id], name: 'later', topic: 'Soon', unread: 2 })
      expect(server.api.updateChat).toHaveBeenCalledWith(random.id, { name: 'later', topic: 'Soon' })
    })
  })

  describe('presence', () => {
    it('follows AGENT_STATUS_CHANGED for members it knows, and keeps snapshots stable otherwise', async () => {
      const store = await started()
      expect(store.getSnapshot().users[alice.id]?.online).toBe(true)
      const agent = { id: alice.id, name: 'Alice', kind: 'user' as const }

      stream.emit({ id: server.newId('e'), type: 'AGENT_STATUS_CHANGED', agent, status: 'offline', timestamp: 11 })
      expect(store.getSnapshot().users[alice.id]).toMatchObject({ online: false, status: 'offline' })

      const before = store.getSnapshot()
      stream.emit({ id: server.newId('e'), type: 'AGENT_STATUS_CHANGED', agent, status: 'offline', timestamp: 12 })
      stream.emit({ id: server.newId('e'), type: 'AGENT_STATUS_CHANGED', agent: { ...agent, id: 'stranger' }, status: 'online', timestamp: 13 })
      expect(store.getSnapshot()).toBe(before)

      stream.emit({ id: server.newId('e'), type: 'AGENT_STATUS_CHANGED', agent, status: 'busy', timestamp: 14 })
      expect(store.getSnapshot().users[alice.id]).toMatchObject({ online: true, status: 'busy' })
    })

    it('applies USER_UPDATED to the directory and to me, keeping presence', async () => {
      const store = await started()
      const known = store.getSnapshot().users[alice.id]
      if (!known) throw new Error('alice not in the directory')
      const { online: _online, status: _status, ...record } = known
      void _online
      void _status
      const renamed = { ...record, displayName: 'Alice R.', statusEmoji: '🌴', avatarUrl: `/api/users/${alice.id}/avatar?v=2`, avatarVersion: 2 }
      stream.emit({ id: server.newId('e'), type: 'USER_UPDATED', user: renamed, timestamp: 20 })
      expect(store.getSnapshot().users[alice.id]).toMatchObject({ displayName: 'Alice R.', statusEmoji: '🌴', avatarVersion: 2, online: true })

      const self = store.getSnapshot().me
      store.applyUserUpdated({ ...self, displayName: 'Me Myself', status: undefined })
      expect(store.getSnapshot().me).toMatchObject({ displayName: 'Me Myself' })
      expect(store.getSnapshot().me.status).toBe(self.status)
    })
  })

  describe('admin changes', () => {
    it('applies USER_UPDATED to the directory and to me, keeping presence, and ignores repeats', async () => {
      const store = await started()
      const renamed: User = { ...alice, displayName: 'Alice Admin', role: 'admin' }
      delete (renamed as Partial<DirectoryUser>).online
      stream.emit({ id: server.newId('e'), type: 'USER_UPDATED', user: renamed, timestamp: 11 })
      expect(store.getSnapshot().users[alice.id]).toMatchObject({
        displayName: 'Alice Admin',
        role: 'admin',
        online: true,
      })

      const before = store.getSnapshot()
      stream.emit({ id: server.newId('e'), type: 'USER_UPDATED', user: renamed, timestamp: 12 })
      expect(store.getSnapshot()).toBe(before)

      stream.emit({ id: server.newId('e'), type: 'USER_UPDATED', user: { ...renamed, deactivated: true }, timestamp: 13 })
      expect(store.getSnapshot().users[alice.id]?.deactivated).toBe(true)
      // JSON leaves a false deactivated out: reactivated.
      stream.emit({ id: server.newId('e'), type: 'USER_UPDATED', user: renamed, timestamp: 14 })
      expect(store.getSnapshot().users[alice.id]?.deactivated).toBeFalsy()

      stream.emit({ id: server.newId('e'), type: 'USER_UPDATED', user: { ...me, role: 'member' }, timestamp: 15 })
      expect(store.getSnapshot().me.role).toBe('member')
    })

    it('loads the team settings and follows TEAM_UPDATED', async () => {
      const getTeam = vi.fn(() => Promise.resolve({ name: 'Acme', channelCreation: 'everyone' as const }))
      const store = new ChatStore({ api: { ...server.api, getTeam }, stream, outbox: new IndexedDbOutbox(factory), me })
      stores.push(store)
      await store.start()
      await vi.waitFor(() => expect(store.getSnapshot().team?.name).toBe('Acme'))
      stream.emit({
        id: server.newId('e'),
        type: 'TEAM_UPDATED',
        team: { name: 'Acme Inc', channelCreation: 'admins' },
        timestamp: 11,
      })
      expect(store.getSnapshot().team).toEqual({ name: 'Acme Inc', channelCreation: 'admins' })
      const before = store.getSnapshot()
      stream.emit({ id: server.newId('e'), type: 'TEAM_UPDATED', team: { name: 'Acme Inc', channelCreation: 'admins' }, timestamp: 12 })
      expect(store.getSnapshot()).toBe(before)
      store.stop()
    })
  })

  describe('typing', () => {
    it('shows typers, expires them after 6 s and clears them when their message arrives', async () => {
      const store = await started()
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
      const typing = (userId: string) =>
        stream.emit({ type: 'TYPING', chatId: general.id, userId, timestamp: Date.now() })

      typing(alice.id)
      typing(me.id) // my own, from another tab: not shown
      expect(store.getSnapshot().typing).toEqual({ [general.id]: [alice.id] })

      vi.advanceTimersByTime(5_999)
      expect(store.getSnapshot().typing[general.id]).toEqual([alice.id])
      vi.advanceTimersByTime(1)
      expect(store.getSnapshot().typing).toEqual({})

      typing(alice.id)
      stream.message(server.post(general.id, alice.id, 'done typing'))
      expect(store.getSnapshot().typing).toEqual({})
    })

    it('announces the own typing at most every 3 s', async () => {
      const store = await started()
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })

      store.typed(general.id)
      vi.advanceTimersByTime(2_000)
      store.typed(general.id)
      vi.advanceTimersByTime(1_000)
      store.typed(general.id)

      expect(server.api.typing).toHaveBeenCalledTimes(2)
      expect(server.api.typing).toHaveBeenCalledWith(general.id)
    })
  })

  describe('message lifecycle', () => {
    /** The events the server logged from index `from` on, delivered to the stream. */
    function deliver(to: FakeStream, from = 0, until = server.log.length): void {
      for (const event of server.log.slice(from, until)) to.emit(event)
    }

    const threadOf = (store: ChatStore, parentId: string) => {
      const t = store.getSnapshot().threads[parentId]
      if (!t) throw new Error(`no thread ${parentId}`)
      return t
    }
    const replies = (store: ChatStore, parentId: string) => threadOf(store, parentId).messages.map((m) => m.content)

    it('applies MESSAGE_UPDATED wherever the message is held, and the same events twice alike', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const reply = server.post(general.id, bob.id, 'reply', undefined, { parentId: parent.id, alsoToChat: true })
      const store = await started()
      await store.openChat(general.id)
      await store.openThread(general.id, parent.id)
      const from = server.log.length

      server.edit(general.id, reply.id, 'reply, edited')
      server.react(general.id, parent.id, alice.id, '👍', true)
      deliver(stream, from)

      const inHistory = view(store, general.id).messages
      expect(inHistory.map((m) => m.content)).toEqual(['parent', 'reply, edited'])
      expect(inHistory[0]?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [alice.id] }])
      expect(inHistory[1]?.editedAt).toBeDefined()
      expect(replies(store, parent.id)).toEqual(['reply, edited'])
      expect(threadOf(store, parent.id).parent?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [alice.id] }])

      const once = store.getSnapshot()
      deliver(stream) // everything again, from the start
      expect(store.getSnapshot().views).toEqual(once.views)
      expect(store.getSnapshot().threads).toEqual(once.threads)
      expect(store.getSnapshot().chats).toEqual(once.chats)
    })

    it('turns a deleted message into a tombstone in place, for good', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const reply = server.post(general.id, alice.id, 'secret reply', undefined, { parentId: parent.id })
      server.post(general.id, alice.id, 'after')
      const store = await started()
      await store.openChat(general.id)
      await store.openThread(general.id, parent.id)
      const original = server.log.find((e) => e.type === 'NEW_MESSAGE' && e.message?.id === parent.id)
      const from = server.log.length

      server.remove(general.id, parent.id)
      server.remove(general.id, reply.id)
      deliver(stream, from)

      const [grave, after] = view(store, general.id).messages
      expect(grave).toMatchObject({ id: parent.id, authorId: alice.id, deleted: true, content: '' })
      expect(after?.content).toBe('after')
      expect(threadOf(store, parent.id).parent).toMatchObject({ id: parent.id, deleted: true })
      expect(threadOf(store, parent.id).messages).toEqual([
        expect.objectContaining({ id: reply.id, deleted: true, content: '', parentId: parent.id }),
      ])
      // An older state arriving late brings nothing back: the NEW_MESSAGE as first sent, an edit.
      if (original) stream.emit({ ...original, message: parent })
      stream.emit({ id: server.newId('e'), type: 'MESSAGE_UPDATED', chatId: general.id, message: parent, timestamp: 1 })
      expect(view(store, general.id).messages[0]).toMatchObject({ deleted: true, content: '' })
      expect(JSON.stringify(store.getSnapshot())).not.toContain('secret reply')
    })

    it('puts replies in their thread, and in the history only when also sent to the chat', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const store = await started()
      await store.openChat(general.id)
      await store.openThread(general.id, parent.id)
      const before = chat(store, general.id)
      store.closeChat(general.id)
      const from = server.log.length

      server.post(general.id, alice.id, 'thread only', undefined, { parentId: parent.id })
      server.post(general.id, alice.id, 'to both', undefined, { parentId: parent.id, alsoToChat: true })
      deliver(stream, from)

      expect(replies(store, parent.id)).toEqual(['thread only', 'to both'])
      expect(contents(store, general.id)).toEqual(['parent', 'to both'])
      expect(view(store, general.id).messages[0]?.replyCount).toBe(2)
      // Only what enters the history counts as unread.
      expect(chat(store, general.id).unread).toBe((before.unread ?? 0) + 1)
    })

    it('follows READ_MARKER: the marker moves and the badge clears when read to the end', async () => {
      const first = server.post(random.id, alice.id, 'one')
      const second = server.post(random.id, alice.id, 'two')
      const store = await started()
      expect(chat(store, random.id).unread).toBe(4)

      stream.emit({ id: server.newId('e'), type: 'READ_MARKER', chatId: random.id, messageId: second.id, timestamp: 1 })
      expect(chat(store, random.id)).toMatchObject({ unread: 0, lastReadId: second.id })
      stream.emit({ id: server.newId('e'), type: 'READ_MARKER', chatId: random.id, messageId: first.id, timestamp: 1 })
      expect(chat(store, random.id)).toMatchObject({ unread: 0, lastReadId: second.id }) // never back

      stream.message(server.post(random.id, alice.id, 'three'))
      stream.message(server.post(random.id, alice.id, 'four'))
      const listed = server.api.listChats.mock.calls.length
      const three = server.messages.get(random.id)?.at(-2)
      stream.emit({ id: server.newId('e'), type: 'READ_MARKER', chatId: random.id, messageId: three?.id, timestamp: 1 })
      // Read part of the way: the server says how many are left.
      expect(chat(store, random.id).lastReadId).toBe(three?.id)
      await vi.waitFor(() => expect(server.api.listChats).toHaveBeenCalledTimes(listed + 1))
    })

    it('counts mentions live (MENTION, once per event) and clears them when the chat is read (READ_MARKER)', async () => {
      server.chat(random.id).mentions = 1
      const store = await started()
      const mentions = (chatId: string) => chat(store, chatId).mentions ?? 0
      expect(mentions(random.id)).toBe(1)

      const mention = (chatId: string, content: string, extra: ReplyOptions = {}) => {
        const message = server.post(chatId, alice.id, content, undefined, extra)
        stream.message(message)
        const e: Event = { id: server.newId('e'), type: 'MENTION', chatId, message, timestamp: 1 }
        stream.emit(e)
        return e
      }
      const again = mention(random.id, '@ada look')
      stream.emit(again) // a repeat counts once
      mention(general.id, '@ada here too')
      expect(mentions(random.id)).toBe(2)
      expect(mentions(general.id)).toBe(1)

      server.chat(random.id).mentions = 0
      stream.emit({ id: server.newId('e'), type: 'READ_MARKER', chatId: random.id, messageId: again.message?.id, timestamp: 1 })
      expect(mentions(random.id)).toBe(0)
      expect(mentions(general.id)).toBe(1)

      // In the chat being read, a mention in its history is read at once: no count.
      await store.openChat(general.id)
      expect(mentions(general.id)).toBe(0)
      mention(general.id, '@ada while you read')
      expect(mentions(general.id)).toBe(0)
      // One in a thread is not read by reading the chat.
      const parent = server.messages.get(general.id)?.at(-1)
      mention(general.id, '@ada in the thread', { parentId: parent?.id ?? '' })
      expect(mentions(general.id)).toBe(1)
    })

    it('resumes across an edit, a delete and a reaction to the same state as staying connected', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const doomed = server.post(general.id, alice.id, 'doomed')
      const edited = server.post(general.id, bob.id, 'first draft', undefined, { parentId: parent.id })
      server.pin(general.id, parent.id, true)

      const connected = new FakeStream()
      const resuming = new FakeStream()
      const make = (s: FakeStream) => {
        const store = new ChatStore({ api: server.api, stream: s, outbox: new IndexedDbOutbox(factory), me })
        stores.push(store)
        return store
      }
      const stayed = make(connected)
      const resumed = make(resuming)
      await Promise.all([stayed.start(), resumed.start()])
      for (const store of [stayed, resumed]) {
        await store.openChat(general.id)
        await store.openThread(general.id, parent.id)
        await store.loadPins(general.id)
      }
      const cut = server.log.length

      // While `resuming` is disconnected:
      server.post(general.id, alice.id, 'new while away')
      deliver(connected, cut)
      const halfway = server.log.length
      server.edit(general.id, edited.id, 'final')
      server.remove(general.id, doomed.id)
      server.react(general.id, parent.id, alice.id, '🎉', true)
      server.pin(general.id, parent.id, false)
      server.post(general.id, alice.id, 'posted then deleted')
      server.remove(general.id, server.messages.get(general.id)?.at(-1)?.id ?? '')
      deliver(connected, halfway)

      // Resume: the log from the cut, as the server replays it (rewritten by the deletes).
      deliver(resuming, cut)

      const state = (store: ChatStore) => {
        const { views, threads, pins, chats } = store.getSnapshot()
        return { views, threads, pins, chats }
      }
      expect(state(resumed)).toEqual(state(stayed))
      expect(view(resumed, general.id).messages.map((m) => m.deleted ?? m.content)).toEqual([
        'parent',
        true,
        'new while away',
        true,
      ])
      expect(replies(resumed, edited.parentId ?? '')).toEqual(['final'])
      expect(resumed.getSnapshot().pins[general.id]).toEqual([])
      // A replay of the replay changes nothing.
      deliver(resuming, cut)
      expect(state(resumed)).toEqual(state(stayed))
    })

    it('after RESYNC shows the server state of every view, thread and pin list', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const doomed = server.post(general.id, alice.id, 'doomed')
      const reply = server.post(general.id, bob.id, 'reply', undefined, { parentId: parent.id })
      server.pin(general.id, doomed.id, true)
      const store = await started()
      await store.openChat(general.id)
      await store.openThread(general.id, parent.id)
      await store.loadPins(general.id)

      // Missed: the stream could not resume.
      server.edit(general.id, reply.id, 'reply, edited')
      server.remove(general.id, doomed.id)
      server.react(general.id, parent.id, alice.id, '👀', true)
      stream.emit({ type: 'RESYNC', timestamp: 0 })

      await vi.waitFor(() => expect(view(store, general.id).messages[1]?.deleted).toBe(true))
      await vi.waitFor(() => expect(replies(store, parent.id)).toEqual(['reply, edited']))
      await vi.waitFor(() => expect(store.getSnapshot().pins[general.id]).toEqual([]))
      expect(view(store, general.id).messages[0]?.reactions?.[0]?.emoji).toBe('👀')
      expect(threadOf(store, parent.id).parent?.reactions?.[0]?.emoji).toBe('👀')
    })

    it('lets no REST answer read before a stream change undo it', async () => {
      const m = server.post(general.id, alice.id, 'hello')
      const store = await started()
      let answer: () => void = () => undefined
      const listMessages = server.api.listMessages.getMockImplementation()
      server.api.listMessages.mockImplementationOnce((chatId, params) => {
        const page = listMessages?.(chatId, params) // read now, answered later
        return new Promise((resolve, reject) => (answer = () => void page?.then(resolve, reject)))
      })
      const opening = store.openChat(general.id)
      await vi.waitFor(() => expect(server.api.listMessages).toHaveBeenCalledTimes(1))
      const from = server.log.length
      server.edit(general.id, m.id, 'hello, edited')
      deliver(stream, from)
      answer()
      await opening
      // The page has the old text, read before the edit, which reached the stream first (when the
      // view held nothing yet).
      expect(contents(store, general.id)).toEqual(['hello, edited'])

      // An edit's own answer, late after a newer event, does not undo it either.
      let answerEdit: () => void = () => undefined
      const editMessage = server.api.editMessage.getMockImplementation()
      server.api.editMessage.mockImplementationOnce((chatId, messageId, content) => {
        const edited = editMessage?.(chatId, messageId, content)
        return new Promise((resolve, reject) => (answerEdit = () => void edited?.then(resolve, reject)))
      })
      const editing = store.editMessage(general.id, m.id, 'mine')
      await vi.waitFor(() => expect(server.api.editMessage).toHaveBeenCalledTimes(1))
      const next = server.log.length
      server.edit(general.id, m.id, 'mine')
      server.react(general.id, m.id, alice.id, '👍', true)
      deliver(stream, next)
      answerEdit()
      await editing
      expect(view(store, general.id).messages[0]).toMatchObject({ content: 'mine', reactions: [{ emoji: '👍' }] })
    })

    it('shows the answer to an edit at once, and says why one was refused', async () => {
      const m = server.post(general.id, me.id, 'typo')
      const store = await started()
      await store.openChat(general.id)

      await store.editMessage(general.id, m.id, 'fixed')
      expect(view(store, general.id).messages[0]?.content).toBe('fixed')
      expect(view(store, general.id).messages[0]?.editedAt).toBeGreaterThan(0)

      server.remove(general.id, m.id)
      await expect(store.editMessage(general.id, m.id, 'again')).rejects.toMatchObject({ status: 409 })
    })

    it('deletes at once on the 204, before the event', async () => {
      const m = server.post(general.id, me.id, 'oops')
      const store = await started()
      await store.openChat(general.id)

      await store.deleteMessage(general.id, m.id)

      expect(view(store, general.id).messages[0]).toMatchObject({ id: m.id, deleted: true, content: '' })
      expect(server.api.deleteMessage).toHaveBeenCalledWith(general.id, m.id)
    })

    it('shows a reaction at once, undoes it when refused, and takes the server state that follows', async () => {
      const m = server.post(general.id, alice.id, 'react to me')
      const store = await started()
      await store.openChat(general.id)
      const reactions = () => view(store, general.id).messages[0]?.reactions

      server.api.addReaction.mockRejectedValueOnce(new ApiRequestError(409, 'conflict', 'Too many reactions.'))
      const refused = store.react(general.id, m.id, '🔥', true)
      expect(reactions()).toEqual([{ emoji: '🔥', count: 1, userIds: [me.id] }])
      await expect(refused).rejects.toMatchObject({ status: 409 })
      expect(reactions()).toBeUndefined()

      const from = server.log.length
      await store.react(general.id, m.id, '🔥', true)
      expect(reactions()).toEqual([{ emoji: '🔥', count: 1, userIds: [me.id] }])
      server.react(general.id, m.id, alice.id, '🔥', true)
      deliver(stream, from)
      expect(reactions()).toEqual([{ emoji: '🔥', count: 2, userIds: [me.id, alice.id] }])

      await store.react(general.id, m.id, '🔥', false)
      expect(reactions()).toEqual([{ emoji: '🔥', count: 1, userIds: [alice.id] }])
      expect(server.api.removeReaction).toHaveBeenCalledWith(general.id, m.id, '🔥')
    })

    it('keeps the pins current: pinned first, unpinned and deleted out', async () => {
      const a = server.post(general.id, alice.id, 'a')
      const b = server.post(general.id, alice.id, 'b')
      server.pin(general.id, a.id, true)
      const store = await started()
      await store.openChat(general.id)
      await store.loadPins(general.id)
      const pins = () => (store.getSnapshot().pins[general.id] ?? []).map((m) => m.content)
      expect(pins()).toEqual(['a'])

      await store.pin(general.id, b.id, true)
      expect(pins()).toEqual(['b', 'a'])
      expect(view(store, general.id).messages[1]?.pinned).toBe(true)

      const from = server.log.length
      server.pin(general.id, a.id, false)
      server.remove(general.id, b.id)
      deliver(stream, from)
      expect(pins()).toEqual([])

      server.api.pinMessage.mockRejectedValueOnce(new ApiRequestError(409, 'conflict', 'At most 100 pins.'))
      await expect(store.pin(general.id, a.id, true)).rejects.toMatchObject({ status: 409 })
      expect(pins()).toEqual([])
      expect(view(store, general.id).messages[0]?.pinned).toBeUndefined()
    })

    it('opens a chat with unread messages at the first unread one, divider included', async () => {
      for (let i = 0; i < PAGE_SIZE * 2; i++) server.post(random.id, alice.id, `old${i}`)
      const lastRead = server.messages.get(random.id)?.at(-1)
      for (let i = 0; i < 3; i++) server.post(random.id, me.id, `mine${i}`) // from another device
      for (let i = 0; i < PAGE_SIZE * 2; i++) server.post(random.id, alice.id, `new${i}`)
      const serverChat = server.chats.find((c) => c.id === random.id)
      if (serverChat) serverChat.lastReadId = lastRead?.id
      const store = await started()

      await store.openChat(random.id)

      expect(server.api.listMessages).toHaveBeenCalledWith(random.id, { around: lastRead?.id, limit: PAGE_SIZE })
      const v = view(store, random.id)
      const firstUnread = v.messages.find((m) => m.id === v.unreadFrom)
      expect(firstUnread?.content).toBe('new0')
      expect(v).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true })
      expect(chat(store, random.id).unread).toBe(0)

      // Read on another device: the divider stays while the chat is open.
      stream.emit({ id: server.newId('e'), type: 'READ_MARKER', chatId: random.id, messageId: server.messages.get(random.id)?.at(-1)?.id, timestamp: 1 })
      expect(view(store, random.id).unreadFrom).toBe(firstUnread?.id)
      store.closeChat(random.id)
      expect(view(store, random.id).unreadFrom).toBeUndefined()
    })

    it('loads history around a linked message, and joins live messages once scrolled to the end', async () => {
      for (let i = 0; i < PAGE_SIZE * 3; i++) server.post(general.id, alice.id, `m${i}`)
      const target = server.messages.get(general.id)?.[20]
      const store = await started()
      await store.openChat(general.id)

      expect(await store.showMessage(general.id, target?.id ?? '')).toBe(true)
      expect(view(store, general.id)).toMatchObject({ hasMoreAfter: true })
      expect(contents(store, general.id)).toContain('m20')

      // Live messages wait: the view does not reach the newest message yet.
      stream.message(server.post(general.id, alice.id, 'live 1'))
      expect(contents(store, general.id)).not.toContain('live 1')
      await store.loadNewer(general.id)
      await store.loadNewer(general.id)
      let answer: () => void = () => undefined
      const listMessages = server.api.listMessages.getMockImplementation()
      server.api.listMessages.mockImplementationOnce((chatId, params) => {
        const page = listMessages?.(chatId, params)
        return new Promise((resolve, reject) => (answer = () => void page?.then(resolve, reject)))
      })
      const last = store.loadNewer(general.id)
      stream.message(server.post(general.id, alice.id, 'live 2')) // after the last page was read
      answer()
      await last

      expect(view(store, general.id).hasMoreAfter).toBe(false)
      expect(contents(store, general.id).slice(-2)).toEqual(['live 1', 'live 2'])
      await store.loadOlder(general.id)
      expect(contents(store, general.id)).toEqual(server.contents(general.id))
    })

    it('jumps to the latest messages, and says when a linked message is not in the history', async () => {
      for (let i = 0; i < PAGE_SIZE * 3; i++) server.post(general.id, alice.id, `m${i}`)
      const parent = server.messages.get(general.id)?.[5]
      const reply = server.post(general.id, bob.id, 'reply', undefined, { parentId: parent?.id })
      const store = await started()
      await store.openChat(general.id)

      expect(await store.showMessage(general.id, reply.id)).toBe(false) // only in its thread
      expect(contents(store, general.id)).toContain('m5') // around its parent
      expect(await store.showMessage(general.id, 'no-such-message')).toBe(false)

      await store.jumpToLatest(general.id)
      expect(view(store, general.id).hasMoreAfter).toBe(false)
      expect(contents(store, general.id).at(-1)).toBe(`m${PAGE_SIZE * 3 - 1}`)
    })

    it('sends replies through the outbox to their thread, and to the chat too when asked', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const store = await started()
      await store.openChat(general.id)
      await store.openThread(general.id, parent.id)

      store.sendReply(general.id, parent.id, 'in the thread', false)
      expect(threadOf(store, parent.id).pending.map((p) => p.content)).toEqual(['in the thread'])
      expect(view(store, general.id).pending).toEqual([])
      await vi.waitFor(() => expect(replies(store, parent.id)).toEqual(['in the thread']))
      expect(threadOf(store, parent.id).pending).toEqual([])

      store.sendReply(general.id, parent.id, 'everywhere', true)
      await vi.waitFor(() => expect(replies(store, parent.id)).toEqual(['in the thread', 'everywhere']))
      expect(contents(store, general.id)).toEqual(['parent', 'everywhere'])
      expect(server.api.postMessage).toHaveBeenLastCalledWith(general.id, 'everywhere', 'cid-2', {
        parentId: parent.id,
        alsoToChat: true,
      })
      await vi.waitFor(async () => expect(await outboxContents()).toEqual([]))
    })

    it('keeps a queued reply across a reload, with its thread', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const first = await started()
      server.offline = true
      first.sendReply(general.id, parent.id, 'later', true)
      await vi.waitFor(async () => expect(await outboxContents()).toEqual(['later']))
      first.stop()

      server.offline = false
      const second = await started()
      await second.openThread(general.id, parent.id)
      await vi.waitFor(() => expect(replies(second, parent.id)).toEqual(['later']))
      expect(server.messages.get(general.id)?.at(-1)).toMatchObject({ parentId: parent.id, alsoToChat: true })
    })

    it('opens a thread whose parent is not loaded, and pages back to a reply', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      for (let i = 0; i < PAGE_SIZE + 5; i++) server.post(general.id, bob.id, `r${i}`, undefined, { parentId: parent.id })
      const store = await started()

      await store.openThread(general.id, parent.id)
      expect(threadOf(store, parent.id).parent?.content).toBe('parent')
      expect(threadOf(store, parent.id)).toMatchObject({ hasMoreBefore: true, loading: false })
      const early = server.messages.get(general.id)?.find((m) => m.content === 'r2')

      expect(await store.findReply(parent.id, early?.id ?? '')).toBe(true)
      expect(replies(store, parent.id)).toHaveLength(PAGE_SIZE + 5)
      expect(await store.findReply(parent.id, 'zzz-not-there')).toBe(false)
    })

    it('tells typing in a thread from typing in the chat', async () => {
      const parent = server.post(general.id, alice.id, 'parent')
      const store = await started()

      stream.emit({ type: 'TYPING', chatId: general.id, userId: alice.id, parentId: parent.id, timestamp: 1 })
      expect(store.getSnapshot().threadTyping).toEqual({ [parent.id]: [alice.id] })
      expect(store.getSnapshot().typing).toEqual({})
      stream.message(server.post(general.id, alice.id, 'reply', undefined, { parentId: parent.id }))
      expect(store.getSnapshot().threadTyping).toEqual({})

      store.typed(general.id, parent.id)
      expect(server.api.typing).toHaveBeenCalledWith(general.id, parent.id)
    })
  })

  describe('snapshots', () => {
    it('publishes a new snapshot on every change and keeps the identity of unchanged parts', async () => {
      const store = await started()
      await store.openChat(general.id)
      await store.openChat(random.id)
      const seen: Snapshot[] = []
      store.subscribe(() => seen.push(store.getSnapshot()))
      const before = store.getSnapshot()

      stream.message(server.post(general.id, alice.id, 'news'))

      const after = store.getSnapshot()
      expect(after).not.toBe(before)
      expect(seen.at(-1)).toBe(after)
      expect(after.views[random.id]).toBe(before.views[random.id])
      expect(after.views[general.id]).not.toBe(before.views[general.id])
      expect(after.users).toBe(before.users)
      expect(after.chats.find((c) => c.id === random.id)).toBe(before.chats.find((c) => c.id === random.id))

      stream.emit({ type: 'TYPING', chatId: random.id, userId: alice.id, timestamp: 0 })
      expect(store.getSnapshot().chats).toBe(after.chats)
    })
  })
})

describe('randomClientId', () => {
  it('makes distinct ids the server accepts: printable ASCII, at most 64 bytes', () => {
    const ids = new Set(Array.from({ length: 100 }, randomClientId))

    expect(ids.size).toBe(100)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
  })
})
