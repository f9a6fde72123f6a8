// The contract between the client's state (ChatStore) and the React components. Components read
// immutable Snapshots through useSyncExternalStore and call ChatStoreApi methods; they never
// talk to the API client or the stream directly.
import type { Chat, Message, User } from '../api/types'

/** sending: POST in flight. queued: offline or server unreachable; kept in the outbox and sent
 * in order when the connection returns. relayed: the desktop app queued it in its own outbox
 * (the team server is unreachable) and sends it when the server is back; it stays pending until
 * its NEW_MESSAGE arrives. failed: the server refused it (e.g. 400/403); the user may retry or
 * discard. */
export type SendState = 'sending' | 'queued' | 'relayed' | 'failed'

export interface PendingMessage {
  clientId: string
  chatId: string
  content: string
  createdAt: number
  state: SendState
  /** Why the server refused it (failed only). */
  error?: string
}

export interface ChatView {
  /** Confirmed messages in id order, without duplicates. */
  messages: Message[]
  /** The user's messages not yet confirmed by the server, oldest first. */
  pending: PendingMessage[]
  /** Older history exists on the server (scrolling up loads it). */
  hasMoreBefore: boolean
  loading: boolean
}

export interface Member extends User {
  online: boolean
}

export interface Snapshot {
  me: User
  /** Chats the user belongs to, ordered by latest activity first; unread from the server,
   * updated live. */
  chats: Chat[]
  /** The directory, by user id. */
  users: Record<string, Member>
  /** Per chat id, once opened. */
  views: Record<string, ChatView>
  /** Per chat id, the user ids currently typing there (not the user themself). */
  typing: Record<string, string[]>
}

export interface LoadOlderOptions {
  /** The message list asks by itself (its top came into view), not the user: after a failed
   * load such a request is held back for a while, so that a list whose top stays in view does
   * not retry at once, again and again. Default false. */
  automatic?: boolean
}

export interface ChatStoreApi {
  subscribe(listener: () => void): () => void
  getSnapshot(): Snapshot
  /** Loads chats and users, replays the outbox, and follows the event stream. */
  start(): Promise<void>
  stop(): void
  /** Loads the newest page of a chat if not loaded yet and marks it read. */
  openChat(chatId: string): Promise<void>
  /** The user left the chat's view: new messages there count as unread again. */
  closeChat(chatId: string): void
  /** Loads the page before the oldest loaded message. */
  loadOlder(chatId: string, options?: LoadOlderOptions): Promise<void>
  /** Shows the message at once as pending and sends it (through the outbox: it survives a
   * reload and is sent exactly once, in order). */
  send(chatId: string, content: string): void
  retry(clientId: string): void
  discard(clientId: string): void
  createChat(name: string, memberIds: string[]): Promise<Chat>
  addMember(chatId: string, userId: string): Promise<void>
  /** The user typed in the composer: tells the others at most every 3 s. */
  typed(chatId: string): void
}
