// Fakes for the stream tests: an EventSource driven by the test, and the two REST calls polling
// uses, served from an in-memory list of messages.
import { vi } from 'vitest'
import type { MessagePageParams } from '../api/client'
import type { Chat, Event as ServerEvent, Message } from '../api/types'
import type { EventSourceLike } from './StreamClient'

export class FakeEventSource implements EventSourceLike {
  onopen: ((event: Event) => void) | null = null
  onmessage: ((event: MessageEvent<string>) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  closed = false
  readonly url: string
  private readonly keepaliveListeners: (() => void)[] = []

  constructor(url: string) {
    this.url = url
  }

  open(): void {
    this.live().onopen?.(new Event('open'))
  }

  send(event: ServerEvent): void {
    this.live().onmessage?.(new MessageEvent('message', { data: JSON.stringify(event) }))
  }

  fail(): void {
    this.live().onerror?.(new Event('error'))
  }

  /** The server's named keepalive event (its comment line never reaches a page). */
  keepalive(): void {
    this.live()
    for (const listener of this.keepaliveListeners) listener()
  }

  addEventListener(type: 'keepalive', listener: () => void): void {
    if (type === 'keepalive') this.keepaliveListeners.push(listener)
  }

  close(): void {
    this.closed = true
  }

  /** A closed EventSource fires nothing: driving one is a mistake in the test. */
  private live(): this {
    if (this.closed) throw new Error(`EventSource ${this.url} is closed`)
    return this
  }
}

/** Every FakeEventSource created through `create`, oldest first. */
export class FakeEventSources {
  readonly all: FakeEventSource[] = []

  readonly create = (url: string): FakeEventSource => {
    const source = new FakeEventSource(url)
    this.all.push(source)
    return source
  }

  latest(): FakeEventSource {
    const source = this.all.at(-1)
    if (source === undefined) throw new Error('no EventSource was created')
    return source
  }
}

/** GET /api/chats and GET /api/chats/{id}/messages over `messages` (kept in id order). */
export class FakeApi {
  readonly chatIds: string[]
  readonly messages: Message[] = []
  /** While set, every request rejects with it (a TypeError: the server cannot be reached). */
  failWith: Error | undefined = undefined

  constructor(...chatIds: string[]) {
    this.chatIds = chatIds
  }

  add(...messages: Message[]): void {
    this.messages.push(...messages)
    this.messages.sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  readonly listChats = vi.fn((): Promise<Chat[]> =>
    this.failWith !== undefined ? Promise.reject(this.failWith) : Promise.resolve(
      this.chatIds.map((id) => ({
        id,
        kind: 'private' as const,
        name: id,
        topic: '',
        memberIds: ['u1', 'u2'],
        ownerIds: ['u1'],
        archived: false,
        createdBy: 'u1',
        createdAt: 0,
        lastMessageId: this.messages.filter((m) => m.chatId === id).at(-1)?.id,
      })),
    ),
  )

  readonly listMessages = vi.fn((chatId: string, { after, limit = 50 }: MessagePageParams = {}) => {
    if (this.failWith !== undefined) return Promise.reject(this.failWith)
    const newer = this.messages.filter((m) => m.chatId === chatId && (after === undefined || m.id > after))
    return Promise.resolve({ messages: newer.slice(0, limit), hasMore: newer.length > limit })
  })
}

export function message(id: string, chatId: string, clientId?: string): Message {
  return { id, chatId, authorId: 'u2', content: `message ${id}`, clientId, createdAt: 1 }
}

export function newMessage(m: Message): ServerEvent {
  return { id: m.id, type: 'NEW_MESSAGE', chatId: m.chatId, message: m, timestamp: m.createdAt }
}

export function typing(chatId: string): ServerEvent {
  return { type: 'TYPING', chatId, userId: 'u2', timestamp: 1 }
}

/** A RESYNC without id is the client's own: a stream opened without a resume position. */
export const isLocalResync = (event: ServerEvent): boolean => event.type === 'RESYNC' && event.id === undefined
