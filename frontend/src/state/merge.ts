// Pure functions that fold server data into ChatStore's immutable state. Ids are ULIDs: string
// comparison orders them by time, across messages and chats alike.
import type { Chat, Message } from '../api/types'

/** Which of two versions of one message to keep: the one held or the one that came in. */
export type Prefer = (held: Message, incoming: Message) => Message

/**
 * The copy held, unless the incoming one is a tombstone: for a NEW_MESSAGE, which carries the
 * message as first posted (a replay, or the echo of a post, must not undo a later edit), except
 * that the log rewrites it to the tombstone once the message is deleted.
 */
export const keepHeld: Prefer = (held, incoming) => (incoming.deleted && !held.deleted ? incoming : held)

/**
 * The incoming copy — the server's newer state (MESSAGE_UPDATED, a fresh page) — unless the held
 * one is a tombstone and the incoming one is not: deletion is final, an older state that arrives
 * late never brings the content back.
 */
export const takeIncoming: Prefer = (held, incoming) => (held.deleted && !incoming.deleted ? held : incoming)

/**
 * messages and incoming together, in id order, each id once; for an id in both, prefer picks the
 * version (by default the held one, see keepHeld). Returns messages itself when nothing changed,
 * so an unchanged view keeps its identity.
 */
export function mergeMessages(messages: Message[], incoming: Message[], prefer: Prefer = keepHeld): Message[] {
  const index = new Map(messages.map((m, i) => [m.id, i]))
  let merged: Message[] | null = null
  const fresh = new Map<string, Message>()
  for (const m of incoming) {
    const at = index.get(m.id)
    if (at === undefined) {
      const earlier = fresh.get(m.id)
      fresh.set(m.id, earlier ? prefer(earlier, m) : m)
      continue
    }
    const held = (merged ?? messages)[at] as Message
    const chosen = prefer(held, m)
    if (chosen === held) continue
    merged ??= [...messages]
    merged[at] = chosen
  }
  if (fresh.size === 0) return merged ?? messages
  return [...(merged ?? messages), ...fresh.values()].sort((a, b) => compareIds(a.id, b.id))
}

/** The message replaced (takeIncoming) where messages holds it; messages itself otherwise. */
export function replaceMessage(messages: Message[], message: Message): Message[] {
  const at = messages.findIndex((m) => m.id === message.id)
  if (at < 0) return messages
  const held = messages[at] as Message
  const chosen = takeIncoming(held, message)
  if (chosen === held) return messages
  return messages.map((m, i) => (i === at ? chosen : m))
}

/** What remains of a deleted message (backend.Message.Tombstone): no content, attachment,
 * reactions or pin; its place, author, thread and thread counts stay. */
export function tombstone(m: Message): Message {
  const t: Message = { id: m.id, chatId: m.chatId, authorId: m.authorId, content: '', createdAt: m.createdAt, deleted: true }
  if (m.parentId !== undefined) t.parentId = m.parentId
  if (m.alsoToChat) t.alsoToChat = true
  if (m.replyCount) t.replyCount = m.replyCount
  if (m.lastReplyAt) t.lastReplyAt = m.lastReplyAt
  return t
}

/** m with userId's reaction emoji added (on) or removed, as the server does it (backend.React):
 * a new emoji goes last, an emoji nobody has any longer goes away. m itself when nothing changes. */
export function withReaction(m: Message, userId: string, emoji: string, on: boolean): Message {
  const reactions = m.reactions ?? []
  const at = reactions.findIndex((r) => r.emoji === emoji)
  const held = reactions[at]
  if (on) {
    if (held?.userIds.includes(userId)) return m
    const next = held
      ? reactions.map((r) => (r === held ? { ...r, count: r.count + 1, userIds: [...r.userIds, userId] } : r))
      : [...reactions, { emoji, count: 1, userIds: [userId] }]
    return { ...m, reactions: next }
  }
  if (!held?.userIds.includes(userId)) return m
  const userIds = held.userIds.filter((id) => id !== userId)
  const next =
    userIds.length === 0
      ? reactions.filter((r) => r !== held)
      : reactions.map((r) => (r === held ? { ...r, count: userIds.length, userIds } : r))
  const changed: Message = { ...m, reactions: next }
  if (next.length === 0) delete changed.reactions
  return changed
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The later of two optional ids. */
export function maxId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return a > b ? a : b
}

/** Latest activity first: by the newest message, or by creation for a chat without messages. */
export function sortChats(chats: Chat[]): Chat[] {
  return [...chats].sort((a, b) => compareIds(activity(b), activity(a)))
}

function activity(chat: Chat): string {
  return chat.lastMessageId !== undefined && chat.lastMessageId > chat.id ? chat.lastMessageId : chat.id
}

/**
 * Adds chat to the list or updates the one held with it (a CHAT_UPDATED event, or the answer to
 * a create, join or membership request, which carry no unread count or read marker: the held
 * ones stay). A new chat starts with unread 0.
 */
export function upsertChat(chats: Chat[], chat: Chat): Chat[] {
  const held = chats.find((c) => c.id === chat.id)
  if (!held) return sortChats([...chats, { ...chat, unread: chat.unread ?? 0 }])
  const merged: Chat = {
    ...held,
    kind: chat.kind,
    name: chat.name,
    topic: chat.topic,
    memberIds: chat.memberIds,
    ownerIds: chat.ownerIds,
    archived: chat.archived,
    lastMessageId: maxId(held.lastMessageId, chat.lastMessageId),
  }
  return sortChats(chats.map((c) => (c === held ? merged : c)))
}

/**
 * The chat list after a refetch: the server's list, except that a chat the stream has moved past
 * the server's answer (a newer lastMessageId, counted while the request was in flight) keeps its
 * live lastMessageId, unread and mention counts, and a chat missing from the answer is kept only when it
 * is not in before — the ids held when the request went out: the stream added it meanwhile. One
 * held before and missing now was left or lost while the stream could not say so.
 */
export function mergeChatList(held: Chat[], fetched: Chat[], before?: ReadonlySet<string>): Chat[] {
  const heldById = new Map(held.map((c) => [c.id, c]))
  const merged = fetched.map((chat) => {
    const live = heldById.get(chat.id)
    if (live?.lastMessageId !== undefined && live.lastMessageId > (chat.lastMessageId ?? '')) {
      const kept: Chat = { ...chat, lastMessageId: live.lastMessageId, unread: live.unread }
      if (live.mentions !== undefined) kept.mentions = live.mentions
      return kept
    }
    return chat
  })
  const fetchedIds = new Set(fetched.map((c) => c.id))
  return sortChats([...merged, ...held.filter((c) => !fetchedIds.has(c.id) && !before?.has(c.id))])
}
