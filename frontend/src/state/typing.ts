/** A typer disappears this long after their last TYPING event (ms). */
export const TYPING_EXPIRY_MS = 6_000
/** The user's own TYPING announcements are sent at most this often per chat (ms). */
export const TYPING_SEND_INTERVAL_MS = 3_000

export type TimerId = ReturnType<typeof setTimeout>

/** The timer functions TypingTracker uses; tests may pass their own. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerId
  clearTimeout(id: TimerId): void
}

/** The global timers, looked up at each call (so test fakes installed later apply). */
export const globalTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id),
}

export interface TypingTrackerOptions {
  /** Called with the chat id whenever that chat's set of typers changes, expiry included. */
  onChange?: (chatId: string) => void
  /** Unix ms; defaults to Date.now. */
  now?: () => number
  timers?: Timers
}

/**
 * Who is typing where, from the stream's TYPING events, and when the user's own typing may be
 * announced. Plain state with one timer per current typer; clear() cancels them all.
 */
export class TypingTracker {
  private readonly onChange: (chatId: string) => void
  private readonly now: () => number
  private readonly timers: Timers
  /** Per chat, the current typers in the order they started, each with their expiry timer. */
  private readonly typing = new Map<string, Map<string, TimerId>>()
  /** Per chat, when the user's last TYPING announcement was allowed (Unix ms). */
  private readonly lastSent = new Map<string, number>()

  constructor(options: TypingTrackerOptions = {}) {
    this.onChange = options.onChange ?? (() => undefined)
    this.now = options.now ?? (() => Date.now())
    this.timers = options.timers ?? globalTimers
  }

  /** userId sent a TYPING event in chatId: they count as typing for the next 6 s. */
  seen(chatId: string, userId: string): void {
    let typers = this.typing.get(chatId)
    if (!typers) {
      typers = new Map()
      this.typing.set(chatId, typers)
    }
    const previous = typers.get(userId)
    if (previous !== undefined) this.timers.clearTimeout(previous)
    typers.set(
      userId,
      this.timers.setTimeout(() => this.stopped(chatId, userId), TYPING_EXPIRY_MS),
    )
    if (previous === undefined) this.onChange(chatId)
  }

  /** userId no longer types in chatId (their message arrived, or their 6 s ran out). */
  stopped(chatId: string, userId: string): void {
    const typers = this.typing.get(chatId)
    const timer = typers?.get(userId)
    if (!typers || timer === undefined) return
    this.timers.clearTimeout(timer)
    typers.delete(userId)
    if (typers.size === 0) this.typing.delete(chatId)
    this.onChange(chatId)
  }

  /** The user ids typing in chatId, in the order they started. */
  typers(chatId: string): string[] {
    return [...(this.typing.get(chatId)?.keys() ?? [])]
  }

  /**
   * The user typed in chatId: true if a TYPING announcement is due (the first one, or 3 s after
   * the last one that was due), and then counts this call as that announcement.
   */
  shouldSend(chatId: string): boolean {
    const now = this.now()
    const last = this.lastSent.get(chatId)
    if (last !== undefined && now - last < TYPING_SEND_INTERVAL_MS) return false
    this.lastSent.set(chatId, now)
    return true
  }

  /** The user sent a message in chatId (which ends their typing for the others): the next
   * keystroke is announced again at once. */
  sent(chatId: string): void {
    this.lastSent.delete(chatId)
  }

  /** Forgets every typer without calling onChange, and cancels their timers. */
  clear(): void {
    for (const typers of this.typing.values()) {
      for (const timer of typers.values()) this.timers.clearTimeout(timer)
    }
    this.typing.clear()
    this.lastSent.clear()
  }
}

/** The typing line under the composer, for display names in the order people started typing. */
export function formatTyping(names: readonly string[]): string {
  if (names.length > 3) return 'Several people are typing…'
  const last = names.at(-1)
  if (last === undefined) return ''
  if (names.length === 1) return `${last} is typing…`
  return `${names.slice(0, -1).join(', ')} and ${last} are typing…`
}
