// Messages written but not yet confirmed by the server. Kept in IndexedDB so they survive a
// reload, and sent in creation order; the clientId makes each send idempotent.

export interface OutboxItem {
  clientId: string
  chatId: string
  content: string
  /** Unix ms; also the send order. */
  createdAt: number
  /** Set when the server refused the message for good (4xx other than 401/408/429). */
  error?: string
  /** A reply: the thread it goes to; alsoToChat: into the chat's history too. */
  parentId?: string
  alsoToChat?: boolean
  /** Sent with notifyAnyway: its recipients are notified during quiet hours if they let it. */
  notifyAnyway?: boolean
}

export interface Outbox {
  add(item: OutboxItem): Promise<void>
  /** All items, oldest first. */
  list(): Promise<OutboxItem[]>
  remove(clientId: string): Promise<void>
  markFailed(clientId: string, error: string): Promise<void>
}
