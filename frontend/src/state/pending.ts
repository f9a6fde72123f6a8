// The user's messages not yet confirmed, per chat, as immutable lists (ChatView.pending). Pure
// functions: each returns the same record when nothing changed.
import type { OutboxItem } from '../outbox/types'
import type { PendingMessage, SendState } from './types'

export type PendingByChat = Readonly<Record<string, PendingMessage[]>>

/** item as a pending message, after the chat's others (error only with failed). */
export function addPending(
  pending: PendingByChat,
  item: OutboxItem,
  state: SendState,
  error?: string,
): PendingByChat {
  const { clientId, chatId, content, createdAt } = item
  const message: PendingMessage = { clientId, chatId, content, createdAt, state }
  if (error !== undefined) message.error = error
  if (item.parentId !== undefined) message.parentId = item.parentId
  if (item.alsoToChat) message.alsoToChat = true
  if (item.notifyAnyway) message.notifyAnyway = true
  return withList(pending, chatId, [...(pending[chatId] ?? []), message])
}

export function findPending(pending: PendingByChat, clientId: string): PendingMessage | undefined {
  for (const list of Object.values(pending)) {
    const found = list.find((p) => p.clientId === clientId)
    if (found) return found
  }
  return undefined
}

export function removePending(pending: PendingByChat, clientId: string): PendingByChat {
  const message = findPending(pending, clientId)
  if (!message) return pending
  const list = pending[message.chatId] ?? []
  return withList(
    pending,
    message.chatId,
    list.filter((p) => p !== message),
  )
}

/** The message's new state (and error, for failed); unchanged if it is not pending. */
export function setSendState(
  pending: PendingByChat,
  clientId: string,
  state: SendState,
  error?: string,
): PendingByChat {
  const message = findPending(pending, clientId)
  if (!message || (message.state === state && message.error === error)) return pending
  const updated: PendingMessage = { ...message, state }
  if (error !== undefined) updated.error = error
  else delete updated.error
  const list = pending[message.chatId] ?? []
  return withList(
    pending,
    message.chatId,
    list.map((p) => (p === message ? updated : p)),
  )
}

function withList(pending: PendingByChat, chatId: string, list: PendingMessage[]): PendingByChat {
  const next = { ...pending }
  if (list.length > 0) next[chatId] = list
  else delete next[chatId]
  return next
}
