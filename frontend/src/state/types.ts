// The contract between the client's state (ChatStore) and the React components. Components read
// immutable Snapshots through useSyncExternalStore and call ChatStoreApi methods; they never
// talk to the API client or the stream directly.
import type { NewChatOptions, SearchPage, SearchParams } from '../api/client'
import type { ChannelInfo, Chat, ChatChange, Message, Silence, TeamSettings, User } from '../api/types'

/** sending: POST in flight. queued: offline or server unreachable; kept in the outbox and sent
 * in order when the connection returns. relayed: the desktop app queued it in its own outbox
 * (the team server is unreachable) and sends it when the server is back; it stays pending until
 * its NEW_MESSAGE arrives. failed: the server refused it (e.g. 400/403); the user may retry or
 * discard. */
export type SendState = 'sending' | 'queued' | 'relayed' | 'failed'

/** How a message is sent. notifyAnyway: notify its recipients during their do not disturb and
 * quiet hours, as far as each of them lets it (POST …/messages notifyAnyway). */
export interface SendOptions {
  notifyAnyway?: boolean
}

export interface PendingMessage {
  clientId: string
  chatId: string
  content: string
  createdAt: number
  state: SendState
  /** Why the server refused it (failed only). */
  error?: string
  /** A reply: the thread it goes to (and, with alsoToChat, the chat's history too). */
  parentId?: string
  alsoToChat?: boolean
  /** Sent with "Notify anyway" (kept for a retry). */
  notifyAnyway?: boolean
}

/** A contiguous stretch of messages as loaded from the server: a chat's history or a thread's
 * replies. Confirmed messages change in place (edits, reactions, pins, deletion: a tombstone). */
export interface MessagesView {
  /** Confirmed messages in id order, without duplicates. */
  messages: Message[]
  /** The user's messages not yet confirmed by the server, oldest first. */
  pending: PendingMessage[]
  /** Older messages exist on the server (scrolling up loads them). */
  hasMoreBefore: boolean
  /** Newer messages exist on the server beyond the newest one held (the view was opened around
   * a message: the first unread, a link, a search result); scrolling down loads them. Messages
   * that arrive meanwhile wait for that, so the view never has a hole. */
  hasMoreAfter: boolean
  loading: boolean
}

/** The chat's history: its top-level messages, tombstones and the replies also sent to it. */
export interface ChatView extends MessagesView {
  /** The first unread message when the chat was opened: the "New messages" divider stays above
   * it while the chat is open, even as the read marker moves on. */
  unreadFrom?: string
}

/** A thread: its parent and replies (oldest first). Followed live once opened. */
export interface ThreadView extends MessagesView {
  chatId: string
  parentId: string
  /** undefined until loaded, when the parent was not in the chat's loaded history. */
  parent?: Message
  /** Why the thread could not be loaded. */
  error?: string
}

export interface Member extends User {
  online: boolean
}

/** A chat that left the user's list while they use the app: they were removed, or they left it
 * (a DM: hid it). An open view of it says so instead of asking the server (which answers 403). */
export interface Departure {
  chat: Chat
  reason: 'removed' | 'left'
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
  /** Per parent message id, once opened. */
  threads: Record<string, ThreadView>
  /** Per parent message id, who is typing in that thread's composer. */
  threadTyping: Record<string, string[]>
  /** Per chat id, once loaded: its pinned messages, most recently pinned first. */
  pins: Record<string, Message[]>
  /** Per chat id, the chats that left the list since the store started (joining again, or a
   * DM's next message, brings them back and ends the entry). */
  departed: Record<string, Departure>
  /** The team's settings (GET /api/team, then TEAM_UPDATED); absent until loaded. */
  team?: TeamSettings
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
  /** Loads the chat if not loaded yet and marks it read. With unread messages (and a read
   * marker) it loads the history around the first unread one, which becomes the view's
   * unreadFrom; else the newest page. */
  openChat(chatId: string): Promise<void>
  /** Makes sure the chat's view holds the message, loading the history around it if it does
   * not. Resolves to whether the view holds it then (false: a reply only in its thread, or a
   * message that is gone). */
  showMessage(chatId: string, messageId: string): Promise<boolean>
  /** The user left the chat's view: new messages there count as unread again. */
  closeChat(chatId: string): void
  /** Loads the page before the oldest loaded message. */
  loadOlder(chatId: string, options?: LoadOlderOptions): Promise<void>
  /** Loads the page after the newest loaded message (a view with hasMoreAfter). */
  loadNewer(chatId: string, options?: LoadOlderOptions): Promise<void>
  /** Shows the newest page (a view opened around an older message). */
  jumpToLatest(chatId: string): Promise<void>
  /** Shows the message at once as pending and sends it (through the outbox: it survives a
   * reload and is sent exactly once, in order). */
  send(chatId: string, content: string, options?: SendOptions): void
  /** Who of userIds (in a DM by default its other members) is in do not disturb or quiet hours
   * now, and whether notify anyway reaches them (GET /api/chats/{chatId}/quiet). */
  quiet(chatId: string, userIds?: readonly string[]): Promise<Silence[]>
  retry(clientId: string): void
  discard(clientId: string): void
  createChat(name: string, memberIds: string[], options?: NewChatOptions): Promise<Chat>
  addMember(chatId: string, userId: string): Promise<void>
  /** Every channel that is not archived (GET /api/chats/browse). */
  browseChannels(): Promise<ChannelInfo[]>
  /** Joins a channel; it is in the list when this resolves. */
  joinChat(chatId: string): Promise<Chat>
  /** Leaves the chat (a DM: hides it until its next message); it leaves the list at once. */
  leaveChat(chatId: string): Promise<void>
  /** Removes someone from the chat (owners and admins). */
  removeMember(chatId: string, userId: string): Promise<void>
  /** Renames, sets the topic, archives or unarchives the chat, or names its owners. */
  updateChat(chatId: string, change: ChatChange): Promise<Chat>
  /** The DM with these people (the user besides), created if there is none; it is in the list
   * when this resolves. */
  createDM(userIds: string[]): Promise<Chat>
  /** The user typed in the composer (a thread's, with parentId): tells the others at most every
   * 3 s. */
  typed(chatId: string, parentId?: string): void

  /** Changes the content of the user's own message. Rejects with the server's refusal. */
  editMessage(chatId: string, messageId: string, content: string): Promise<void>
  /** Deletes a message (the user's own, or any as an admin): it becomes a tombstone. */
  deleteMessage(chatId: string, messageId: string): Promise<void>
  /** Adds (on) or removes the user's reaction; shown at once, undone if the server refuses. */
  react(chatId: string, messageId: string, emoji: string, on: boolean): Promise<void>
  /** Pins or unpins a message; shown at once, undone if the server refuses. */
  pin(chatId: string, messageId: string, on: boolean): Promise<void>
  /** Loads the chat's pinned messages into pins[chatId] (kept current from then on). */
  loadPins(chatId: string): Promise<void>

  /** Loads a thread (its parent and newest replies) if not loaded yet; followed live after. */
  openThread(chatId: string, parentId: string): Promise<void>
  /** Loads the replies before the oldest loaded one. */
  loadOlderReplies(parentId: string, options?: LoadOlderOptions): Promise<void>
  /** Pages back through the thread until it holds replyId. Resolves to whether it does. */
  findReply(parentId: string, replyId: string): Promise<boolean>
  /** Sends a reply through the outbox, as send() does; alsoToChat: into the chat's history
   * too. */
  sendReply(chatId: string, parentId: string, content: string, alsoToChat: boolean, options?: SendOptions): void

  /** A person's new public state (USER_UPDATED, or the answer to the user's own profile
   * change): the directory and, for the user, me. */
  applyUserUpdated(user: User): void

  /** Searches the user's chats (GET /api/search). */
  search(params: SearchParams): Promise<SearchPage>
}
