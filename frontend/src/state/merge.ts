// Pure functions that fold server data into ChatStore's immutable state. Ids are ULIDs: string
// comparison orders them by time, across messages and chats alike.
import type { Chat, Message } from '../api/types'

/**
 * messages and incoming together, in id order, each id once (messages never change, so the copy
 * held wins). Returns messages itself when incoming adds nothing, so an unchanged view keeps its
 * identity.
 */
export function mergeMessages(messages: Message[], incoming: Message[]): Message[] {
  const known = new Set(messages.map((m) => m.id))
  const fresh: Message[] = []
  for (const m of incoming) {
    if (known.has(m.id)) continue
    known.add(m.id)
    fresh.push(m)
  }
  if (fresh.length === 0) return messages
  return [...messages, ...fresh].sort((a, b) => compareIds(a.id, b.id))
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
 * a create or add-member request, which carry no unread count or read marker: the held ones
 * stay). A new chat starts with unread 0.
 */
export function upsertChat(chats: Chat[], chat: Chat): Chat[] {
  const held = chats.find((c) => c.id === chat.id)
  if (!held) return sortChats([...chats, { ...chat, unread: chat.unread ?? 0 }])
  const merged: Chat = {
    ...held,
    name: chat.name,
    memberIds: chat.memberIds,
    lastMessageId: maxId(held.lastMessageId, chat.lastMessageId),
  }
  return sortChats(chats.map((c) => (c === held ? merged : c)))
}

/**
 * The chat list after a refetch: the server's list, except that a chat the stream has moved past
 * the server's answer (a newer lastMessageId, counted while the request was in flight) keeps its
 * live lastMessageId and unread count, and a chat missing from the answer is kept (membership only
 * grows, so it was added after the answer was made).
 */
export function mergeChatList(held: Chat[], fetched: Chat[]): Chat[] {
  const heldById = new Map(held.map((c) => [c.id, c]))
  const merged = fetched.map((chat) => {
    const live = heldById.get(chat.id)
    if (live?.lastMessageId !== undefined && live.lastMessageId > (chat.lastMessageId ?? '')) {
      return { ...chat, lastMessageId: live.lastMessageId, unread: live.unread }
    }
    return chat
  })
  const fetchedIds = new Set(fetched.map((c) => c.id))
  return sortChats([...merged, ...held.filter((c) => !fetchedIds.has(c.id))])
}
