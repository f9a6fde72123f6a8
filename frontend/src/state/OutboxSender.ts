import { ApiRequestError, isQueuedPost, type PostResult } from '../api/client'
import type { Message } from '../api/types'
import type { Outbox, OutboxItem } from '../outbox/types'
import { globalTimers, type TimerId, type Timers } from './typing'

/** The Web Lock that lets one tab of the origin at a time send the (shared) outbox. */
export const OUTBOX_LOCK = 'herald-outbox'
/** After a flush stopped on an unreachable server, the next try comes this long later (ms),
 * doubling on every failed try up to MAX_RETRY_MS. */
export const MIN_RETRY_MS = 2_000
export const MAX_RETRY_MS = 60_000

/** What the sender tells its owner (ChatStore) about each item it handles. */
export interface SendEvents {
  /** A POST of item starts. */
  sending(item: OutboxItem): void
  /** The server stored item as message (201, or 200 for a clientId it already had). It has left
   * the outbox. */
  sent(item: OutboxItem, message: Message): void
  /** The desktop app took item into its own durable outbox (202 queued: the team server is
   * unreachable) and delivers it when the server is back. It has left this outbox; the
   * NEW_MESSAGE with its clientId settles it. */
  relayed(item: OutboxItem): void
  /** These items were not sent for now (network down, server unavailable): they stay in the
   * outbox for the next flush. */
  queued(items: OutboxItem[]): void
  /** The server refused item for good; it stays in the outbox, marked with error. */
  failed(item: OutboxItem, error: string): void
}

export interface OutboxSenderOptions {
  outbox: Outbox
  /** POSTs the item with its clientId: resolves to the stored message, or to the desktop app's
   * queued post. Rejects with ApiRequestError for an error status and with anything else
   * (fetch's TypeError) when the server was not reached. */
  post: (item: OutboxItem) => Promise<PostResult>
  events: SendEvents
  /** Guards each flush across the origin's tabs; defaults to navigator.locks where the browser
   * has it, null for none (each tab then sends on its own; clientId keeps that harmless). */
  locks?: OutboxLocks | null
  timers?: Timers
}

/** The part of the Web Locks API the sender uses. */
export type OutboxLocks = Pick<LockManager, 'request'>

type Outcome = 'done' | 'unreachable' | 'stopped'

/**
 * Sends the outbox: items in createdAt order, one POST at a time, skipping items the server
 * refused, and stopping at the first item that could not be delivered (so nothing overtakes
 * it). Flushes never overlap: a flush asked for during one runs right after it. After a stop on
 * an unreachable server it tries again by itself, with backoff, until the outbox is sent or
 * stop() is called.
 */
export class OutboxSender {
  private readonly outbox: Outbox
  private readonly post: (item: OutboxItem) => Promise<PostResult>
  private readonly events: SendEvents
  private readonly locks: OutboxLocks | null
  private readonly timers: Timers
  private running: Promise<void> | null = null
  private again = false
  private stopped = false
  private retryTimer: TimerId | null = null
  private retryDelay = MIN_RETRY_MS
  /** True while, as far as this tab knows, the outbox holds nothing due: the last pass sent all
   * of it and every item added since was sent directly. Only then may send() skip the outbox. */
  private clear = false
  /** Direct sends not yet settled (see send); a pass waits for them, so that this tab never
   * posts their items twice. */
  private readonly directs = new Set<Promise<void>>()
  /** A direct POST is unanswered: the next item must wait for it, or it could overtake it. */
  private posting = false

  constructor(options: OutboxSenderOptions) {
    this.outbox = options.outbox
    this.post = options.post
    this.events = options.events
    this.locks = options.locks === undefined ? browserLocks() : options.locks
    this.timers = options.timers ?? globalTimers
  }

  /** Sends what the outbox holds; resolves when this flush (and any asked for meanwhile) ends.
   * Never rejects: an outbox that cannot be read counts as an unreachable server. */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.cancelRetry()
    this.again = true
    this.running ??= this.run()
    return this.running
  }

  /**
   * Sends a new item whose outbox write (stored) has been started but not awaited. When nothing
   * is due before it (see clear) the POST starts synchronously, in parallel with the write;
   * otherwise the item waits for the write and goes out with the next flush, in order. After a
   * direct POST the item leaves the outbox once the write has committed (a write committing after
   * the delete would bring it back); a POST that fails leaves it there, stored, for the next
   * flush, or marked failed for a refusal. Resolves when the item is handled; never rejects
   * (stored rejecting with the POST failing reports failed with the storage error).
   */
  send(item: OutboxItem, stored: Promise<void>): Promise<void> {
    if (this.stopped) return stored.catch(() => undefined)
    if (!this.clear || this.running || this.posting) {
      return stored.then(
        () => this.flush(),
        (err: unknown) => this.events.failed(item, storageError(err)),
      )
    }
    const direct = this.sendDirect(item, stored).finally(() => this.directs.delete(direct))
    this.directs.add(direct)
    return direct
  }

  private async sendDirect(item: OutboxItem, stored: Promise<void>): Promise<void> {
    this.events.sending(item)
    let result: PostResult
    this.posting = true
    try {
      result = await this.post(item) // called before any await: the POST leaves now
    } catch (err) {
      this.posting = false
      try {
        await stored
      } catch (storeErr) {
        this.events.failed(item, storageError(storeErr))
        return
      }
      if (isRefusal(err)) {
        await this.outbox.markFailed(item.clientId, err.message).catch(() => undefined)
        this.events.failed(item, err.message)
        return
      }
      // Unreachable: the item is stored; the retry flushes it (and whatever follows it).
      this.clear = false
      this.events.queued([item])
      this.scheduleRetry()
      return
    }
    this.posting = false
    if (isQueuedPost(result)) this.events.relayed(item)
    else this.events.sent(item, result)
    try {
      await stored
    } catch {
      return // never stored: nothing to remove
    }
    // Should the delete fail, a later flush posts the item again and the server answers with
    // the same message (same clientId): harmless.
    await this.outbox.remove(item.clientId).catch(() => {
      this.clear = false
    })
  }

  /** Stops after the POST in flight (if any) and cancels the retry timer. */
  stop(): void {
    this.stopped = true
    this.cancelRetry()
  }

  /** Passes over the outbox while flushes are asked for. The loop's last check and the reset of
   * running happen in one synchronous step, so no flush() call can fall between them. */
  private async run(): Promise<void> {
    let outcome: Outcome = 'done'
    this.clear = false
    try {
      while (this.again && !this.stopped) {
        this.again = false
        // Direct sends first settle: their items are then sent, or stored for this pass.
        if (this.directs.size > 0) await Promise.all(this.directs)
        outcome = await this.withLock(() => this.sendAll()).catch((): Outcome => 'unreachable')
      }
    } finally {
      this.running = null
    }
    if (outcome === 'unreachable') {
      this.scheduleRetry()
    } else {
      this.retryDelay = MIN_RETRY_MS
      this.clear = outcome === 'done'
    }
  }

  private async withLock(send: () => Promise<Outcome>): Promise<Outcome> {
    if (!this.locks) return send()
    return await this.locks.request(OUTBOX_LOCK, send)
  }

  /** One pass over the outbox, read afresh: another tab may have sent items meanwhile. */
  private async sendAll(): Promise<Outcome> {
    const due = (await this.outbox.list()).filter((item) => item.error === undefined)
    for (const [index, item] of due.entries()) {
      if (this.stopped) return 'stopped'
      this.events.sending(item)
      let result: PostResult
      try {
        result = await this.post(item)
      } catch (err) {
        if (isRefusal(err)) {
          await this.outbox.markFailed(item.clientId, err.message)
          this.events.failed(item, err.message)
          continue
        }
        this.events.queued(due.slice(index))
        return 'unreachable'
      }
      // Handed off to the desktop app, which keeps the order: the next items follow it there.
      if (isQueuedPost(result)) this.events.relayed(item)
      else this.events.sent(item, result)
      await this.outbox.remove(item.clientId)
    }
    return 'done'
  }

  private scheduleRetry(): void {
    if (this.stopped) return
    this.cancelRetry()
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null
      void this.flush()
    }, this.retryDelay)
    this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS)
  }

  private cancelRetry(): void {
    if (this.retryTimer === null) return
    this.timers.clearTimeout(this.retryTimer)
    this.retryTimer = null
  }
}

/**
 * The server answered and refused the message for good: a 4xx other than 401 (the session ended:
 * the message stays queued for the same user's next session, whose outbox it is), 408 (timeout)
 * and 429 (rate limited), which are worth retrying like a 5xx or a network failure.
 */
export function isRefusal(err: unknown): err is ApiRequestError {
  if (!(err instanceof ApiRequestError)) return false
  const { status } = err
  return status >= 400 && status < 500 && status !== 401 && status !== 408 && status !== 429
}

/** What a pending message says when the outbox could not store it. */
export function storageError(err: unknown): string {
  return `Could not store the message for sending: ${err instanceof Error ? err.message : String(err)}`
}

/** navigator.locks, which browsers expose only in secure contexts (https, localhost). */
function browserLocks(): OutboxLocks | null {
  if (typeof navigator === 'undefined') return null
  return (navigator as Partial<Navigator>).locks ?? null
}
