/**
 * Moves the user's read markers on the server: at most one request per chat at a time, the newest
 * id wins, ids at or behind the marker are skipped. Best effort: a failed request leaves the
 * marker where the server has it, and the next message or opening of the chat moves it again.
 */
export class ReadMarkers {
  private readonly send: (chatId: string, messageId: string) => Promise<void>
  /** Markers this class moved, per chat. */
  private readonly marks = new Map<string, string>()
  /** Chats with a request in flight, each with the newer id to send after it (or null). */
  private readonly inFlight = new Map<string, string | null>()

  constructor(send: (chatId: string, messageId: string) => Promise<void>) {
    this.send = send
  }

  /** Marks chatId read up to messageId. known is the marker the chat list reported, if any. */
  mark(chatId: string, messageId: string, known = ''): void {
    const moved = this.marks.get(chatId)
    if (messageId <= known || (moved !== undefined && messageId <= moved)) return
    if (this.inFlight.has(chatId)) {
      const next = this.inFlight.get(chatId)
      if (!next || messageId > next) this.inFlight.set(chatId, messageId)
      return
    }
    this.inFlight.set(chatId, null)
    void this.send(chatId, messageId)
      .then(
        () => {
          if (messageId > (this.marks.get(chatId) ?? '')) this.marks.set(chatId, messageId)
        },
        () => undefined,
      )
      .finally(() => {
        const next = this.inFlight.get(chatId)
        this.inFlight.delete(chatId)
        if (next) this.mark(chatId, next, known)
      })
  }
}
