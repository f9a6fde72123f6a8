// SharedStream: one event stream per browser origin, shared by its tabs. Browsers allow six
// HTTP/1.1 connections per origin, so a stream per tab would soon starve the REST calls.
//
// The tab that holds the Web Lock 'herald-stream-leader:<user id>' runs the StreamClient and
// relays each event and each ConnectionInfo over BroadcastChannel('herald-stream:<user id>'); the
// other tabs of that user deliver what it relays. The lock is released when the leader stops or
// its page goes away, and the next tab waiting for it takes over, resuming after the last durable
// event id the leader relayed. Both names carry the user id so that tabs signed in as different
// users (one signed out and in again as someone else) never share a stream.

import type { Event as ServerEvent } from '../api/types'
import { DEDUP_CAPACITY, initialInfo, Listeners, RecentIds, type ResumableStream } from './StreamClient'
import type { ConnectionInfo, EventListener, EventStream, InfoListener } from './types'

/** The Web Lock the leading tab of userId's tabs holds. */
export function leaderLockName(userId: string): string {
  return `herald-stream-leader:${userId}`
}

/** The BroadcastChannel userId's tabs relay over. */
export function relayChannelName(userId: string): string {
  return `herald-stream:${userId}`
}

/** The part of navigator.locks used. */
export interface LocksLike {
  request(name: string, options: { signal: AbortSignal }, callback: () => Promise<void>): Promise<unknown>
}

/** The part of BroadcastChannel used. */
export interface ChannelLike {
  onmessage: ((event: MessageEvent) => void) | null
  postMessage(message: unknown): void
  close(): void
}

/** The page's lifecycle events; `window` in a page. */
export interface PageEvents {
  addEventListener(type: 'pagehide' | 'pageshow', listener: (event: Event) => void): void
  removeEventListener(type: 'pagehide' | 'pageshow', listener: (event: Event) => void): void
}

export interface SharedStreamOptions {
  /** The signed-in user: the stream is shared only with tabs of the same user. */
  userId: string
  /** Makes the stream this tab runs while it leads, resuming after the given durable event id. */
  createStream: (initialLastEventId: string | undefined) => ResumableStream
  /** Default navigator.locks. */
  locks?: LocksLike
  /** Default: new BroadcastChannel(name). */
  createChannel?: (name: string) => ChannelLike
  /** Default: the page's window, when there is one. */
  window?: PageEvents
}

/** What tabs tell each other over the channel. resumeId: see ResumableStream.lastEventId. */
type Relay =
  | { kind: 'hello' } // a tab joined: the leader answers with 'info'
  | { kind: 'event'; event: ServerEvent; resumeId: string | undefined }
  | { kind: 'info'; info: ConnectionInfo; resumeId: string | undefined }
  | { kind: 'echo'; clientId: string; sentAt: number } // a follower's expectEcho, for the leader

/** Whether this browser can share a stream between tabs (Web Locks needs a secure context). */
export function sharedStreamSupported(): boolean {
  return typeof navigator !== 'undefined' && 'locks' in navigator && 'BroadcastChannel' in globalThis
}

/**
 * An EventStream shared by the tabs of an origin (see the file comment). Every tab de-duplicates
 * what it delivers by event id, so the overlap of a takeover (the new leader's replay of events
 * the old one relayed, including messages it had polled) reaches listeners once. info() is the
 * leader's; a follower's expectEcho is measured by the leader. Echoes sent while no tab leads are
 * not measured.
 *
 * A page that is hidden (pagehide) leaves, so that another tab takes over at once; a page
 * restored from the back/forward cache (pageshow, persisted) joins again and delivers a RESYNC
 * without id, so that its listeners refetch what they missed meanwhile.
 */
export class SharedStream implements EventStream {
  private readonly lockName: string
  private readonly channelName: string
  private readonly createStream: (initialLastEventId: string | undefined) => ResumableStream
  private readonly locks: LocksLike
  private readonly createChannel: (name: string) => ChannelLike
  private readonly win: PageEvents | undefined

  private readonly events = new Listeners<ServerEvent>()
  private readonly infos = new Listeners<ConnectionInfo>()
  private readonly delivered = new RecentIds(DEDUP_CAPACITY)
  private current = initialInfo()
  /** Where a stream started by this tab resumes: the leader's lastEventId as last relayed. */
  private resumeId: string | undefined

  private running = false
  // Set while this tab is joined (between join and leave):
  private channel: ChannelLike | undefined
  private abort: AbortController | undefined
  // Set while this tab leads:
  private client: ResumableStream | undefined
  private release: (() => void) | undefined

  /** Throws if locks or a channel are neither given nor available (see sharedStreamSupported). */
  constructor(options: SharedStreamOptions) {
    this.lockName = leaderLockName(options.userId)
    this.channelName = relayChannelName(options.userId)
    this.createStream = options.createStream
    const locks = options.locks ?? (typeof navigator === 'undefined' ? undefined : navigator.locks)
    if (locks === undefined) throw new Error('SharedStream needs the Web Locks API')
    this.locks = locks
    this.createChannel = options.createChannel ?? ((name) => new BroadcastChannel(name))
    this.win = options.window ?? (typeof window === 'undefined' ? undefined : window)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.win?.addEventListener('pagehide', this.handlePageHide)
    this.win?.addEventListener('pageshow', this.handlePageShow)
    this.join()
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    this.win?.removeEventListener('pagehide', this.handlePageHide)
    this.win?.removeEventListener('pageshow', this.handlePageShow)
    this.leave()
  }

  onEvent(listener: EventListener): () => void {
    return this.events.add(listener)
  }

  onInfo(listener: InfoListener): () => void {
    return this.infos.add(listener)
  }

  info(): ConnectionInfo {
    return this.current
  }

  expectEcho(clientId: string, sentAt: number): void {
    if (this.client !== undefined) {
      this.client.expectEcho(clientId, sentAt)
    } else {
      this.post({ kind: 'echo', clientId, sentAt })
    }
  }

  /** Opens the channel, asks the leader for its info, and queues for leadership. */
  private join(): void {
    const channel = this.createChannel(this.channelName)
    channel.onmessage = (event) => this.handleRelay(event.data)
    const abort = new AbortController()
    this.channel = channel
    this.abort = abort
    this.locks
      .request(this.lockName, { signal: abort.signal }, () => this.lead(abort.signal))
      .catch(() => {
        // Aborted by leave(), or the lock manager failed: then lead without the lock rather than
        // have no stream (two leaders' relays are de-duplicated by id).
        if (!abort.signal.aborted) void this.lead(abort.signal)
      })
    this.post({ kind: 'hello' })
  }

  /** Runs the stream while this tab holds the lock; the promise holds the lock until leave(). */
  private lead(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    const client = this.createStream(this.resumeId)
    this.client = client
    client.onEvent((event) => {
      this.resumeId = client.lastEventId()
      this.post({ kind: 'event', event, resumeId: this.resumeId })
      this.deliver(event)
    })
    client.onInfo((info) => this.publishInfo(info))
    const held = new Promise<void>((resolve) => {
      this.release = resolve
    })
    this.publishInfo(client.info())
    client.start()
    return held
  }

  /** Stops leading (the stream first, then the lock) or waiting to, and closes the channel. */
  private leave(): void {
    this.abort?.abort()
    this.client?.stop()
    this.release?.()
    this.channel?.close()
    this.abort = undefined
    this.client = undefined
    this.release = undefined
    this.channel = undefined
  }

  private handleRelay(data: unknown): void {
    if (!isRelay(data)) return
    const leading = this.client !== undefined
    switch (data.kind) {
      case 'hello':
        if (leading) this.post({ kind: 'info', info: this.current, resumeId: this.resumeId })
        break
      case 'echo':
        this.client?.expectEcho(data.clientId, data.sentAt)
        break
      case 'event':
        // Also when leading: a relay of the previous leader still in flight is de-duplicated.
        if (!leading) this.resumeId = data.resumeId
        this.deliver(data.event)
        break
      case 'info':
        if (!leading) {
          this.resumeId = data.resumeId
          this.setInfo(data.info)
        }
        break
    }
  }

  private publishInfo(info: ConnectionInfo): void {
    this.setInfo(info)
    this.post({ kind: 'info', info, resumeId: this.resumeId })
  }

  private setInfo(info: ConnectionInfo): void {
    if (info === this.current) return
    this.current = info
    this.infos.emit(info)
  }

  /** Delivers an event unless its durable id was delivered already. RESYNC always goes. */
  private deliver(event: ServerEvent): void {
    if (event.id !== undefined && event.type !== 'RESYNC') {
      if (this.delivered.has(event.id)) return
      this.delivered.add(event.id)
    }
    this.events.emit(event)
  }

  private post(relay: Relay): void {
    this.channel?.postMessage(relay)
  }

  private readonly handlePageHide = (): void => {
    this.leave()
  }

  /** Events relayed while the page was away reached none of its listeners: they refetch (a
   * RESYNC without id), as after a stream that could not resume. */
  private readonly handlePageShow = (event: Event): void => {
    if (!('persisted' in event) || event.persisted !== true || this.channel !== undefined) return
    this.join()
    this.events.emit({ type: 'RESYNC', timestamp: Date.now() })
  }
}

/** A light check of what arrives on the channel (another tab may run another version). */
function isRelay(data: unknown): data is Relay {
  if (typeof data !== 'object' || data === null || !('kind' in data)) return false
  switch (data.kind) {
    case 'hello':
      return true
    case 'event':
      return 'event' in data && typeof data.event === 'object' && data.event !== null
    case 'info':
      return 'info' in data && typeof data.info === 'object' && data.info !== null
    case 'echo':
      return (
        'clientId' in data &&
        typeof data.clientId === 'string' &&
        'sentAt' in data &&
        typeof data.sentAt === 'number'
      )
    default:
      return false
  }
}
