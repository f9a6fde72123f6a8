// StreamClient: the web client's one EventSource on /api/stream. It owns connecting, resuming,
// backoff, silence detection, the polling fallback and de-duplication, so that listeners see
// every event once, in order (see EventStream in ./types).
//
// Silence detection: every keepalive interval the server sends a ": keepalive" comment and a
// named "keepalive" event without id. EventSource hides the comment but dispatches the event to
// its "keepalive" listeners (never to onmessage), so an idle healthy stream stays visibly alive.
// A stream that shows neither an event nor a keepalive for 2 × keepaliveMs is dead (typically a
// half-open TCP connection after sleep or a network change) and is replaced at once by a new
// EventSource that resumes with ?lastEventId=, so nothing is lost.

import { ApiRequestError, type ApiClient } from '../api/client'
import type { Chat, Event as ServerEvent, Message } from '../api/types'
import type { ConnectionInfo, EventListener, EventStream, InfoListener } from './types'

export const DEFAULT_STREAM_URL = '/api/stream'
export const DEFAULT_POLL_INTERVAL_MS = 5_000
/** Reconnect delays are random in [0, min(cap, base × 2^failures)) ms ("full jitter"). */
export const BACKOFF_BASE_MS = 1_000
export const BACKOFF_CAP_MS = 30_000
/**
 * Connects in a row that fail before opening, after which messages are polled over REST. The
 * state is 'polling' only while those polls succeed: a poll that cannot reach the server means
 * the server is down, not the stream alone, and the state stays 'reconnecting'.
 */
export const FAILURES_BEFORE_POLLING = 3
/** How many delivered event ids are remembered to drop duplicates. */
export const DEDUP_CAPACITY = 5_000
/** Echoes waited for at once; the oldest is forgotten beyond this. */
const MAX_PENDING_ECHOES = 100
/** The largest page the server serves; a poll pages through a chat's new messages. */
const POLL_PAGE_LIMIT = 200
/** The smallest ULID: `after` it comes every message of a chat. */
const ZERO_ID = '00000000000000000000000000'

/**
 * The part of EventSource the client uses, so tests can inject a fake. readyState is left out on
 * purpose: after an error the client always closes the EventSource and manages the retry itself,
 * whether the browser meant to retry (CONNECTING) or gave up (CLOSED).
 */
export interface EventSourceLike {
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent<string>) => void) | null
  onerror: ((event: Event) => void) | null
  /** Only the server's named "keepalive" event is listened to. */
  addEventListener(type: 'keepalive', listener: () => void): void
  close(): void
}

/** The browser's network events; `window` in a page. */
export interface NetworkEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void
  removeEventListener(type: 'online' | 'offline', listener: () => void): void
  navigator?: { onLine: boolean }
}

export interface StreamClientOptions {
  /** Default '/api/stream'. */
  url?: string
  /** The server's keepalive interval in ms (GET /api/server). Silence means 2 × this. */
  keepaliveMs: number
  /** Used only while polling. */
  api: Pick<ApiClient, 'listChats' | 'listMessages'>
  /** Default: new EventSource(url, { withCredentials: true }). */
  createEventSource?: (url: string) => EventSourceLike
  /** Interval between the end of one poll and the start of the next, in ms; default 5000. */
  pollIntervalMs?: number
  /** Resume after this durable event id (a tab taking over a shared stream). */
  initialLastEventId?: string
  /** Default Date.now. */
  now?: () => number
  /** Uniform in [0, 1), for jitter; default Math.random. */
  random?: () => number
  /** Default: the page's window, when there is one. */
  window?: NetworkEvents
}

/** An EventStream that tells where it would resume, so another one can take over from there. */
export interface ResumableStream extends EventStream {
  /**
   * The id of the last durable event that arrived over SSE, or the head id a RESYNC carried;
   * undefined before the first. Messages fetched by polling do not move it: resuming after them
   * would skip the other events (e.g. CHAT_UPDATED) that polling cannot see.
   */
  lastEventId(): string | undefined
}

export function initialInfo(): ConnectionInfo {
  return { state: 'connecting', lastEventAt: null, reconnects: 0, latencyMs: null }
}

/**
 * Connects to the user's event stream and keeps it connected:
 *
 * - One EventSource at a time. When it fails (error, or no open within 2 × keepaliveMs) it is
 *   closed and a new one is opened with ?lastEventId= after a backoff with full jitter. An open
 *   stream that drops is retried after the base backoff; one that goes silent is replaced at once.
 * - After 3 connects in a row fail, messages are polled: GET /api/chats, then the new messages of
 *   each chat with news, every pollIntervalMs, delivered as NEW_MESSAGE events in id order. SSE is
 *   still retried with backoff; when it opens, state is 'live' and polling stops.
 * - The state says 'polling' only while polls are answered (REST works but the stream cannot be
 *   held, e.g. behind a proxy that buffers SSE). A poll that fails with a network error, a timeout
 *   or a 5xx says the server is unreachable: the state stays 'reconnecting', and the polls go on
 *   as probes. When one is answered again, SSE is retried at once instead of after the backoff.
 * - 'offline' (the browser's event) closes everything; 'online' reconnects at once.
 * - Durable events are delivered once: an SSE event whose id is not above the last one is a
 *   replay, and the last 5,000 delivered ids (SSE or polled) are remembered. Message ids equal
 *   their NEW_MESSAGE event ids, so a polled message seen again on the stream is dropped.
 * - RESYNC goes to listeners (they refetch over REST); its id, the log's head, is the new resume
 *   point.
 *
 * info().lastEventAt is the time the stream last showed it is alive: it opened, or an event or
 * keepalive arrived (over SSE or by a poll). stop() leaves info() as it was.
 */
export class StreamClient implements ResumableStream {
  private readonly url: string
  private readonly keepaliveMs: number
  private readonly api: Pick<ApiClient, 'listChats' | 'listMessages'>
  private readonly createEventSource: (url: string) => EventSourceLike
  private readonly pollIntervalMs: number
  private readonly now: () => number
  private readonly random: () => number
  private readonly win: NetworkEvents | undefined

  private readonly events = new Listeners<ServerEvent>()
  private readonly infos = new Listeners<ConnectionInfo>()
  private current = initialInfo()

  private running = false
  private source: EventSourceLike | undefined
  /** Whether `source` has opened. */
  private opened = false
  /** EventSources created so far; all but the first are reconnects. */
  private connects = 0
  /** Connects in a row that failed before opening. */
  private failures = 0
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private silenceTimer: ReturnType<typeof setTimeout> | undefined
  private pollTimer: ReturnType<typeof setTimeout> | undefined
  private polling = false
  /** Whether the last poll reached the server; undefined before the first poll's answer. */
  private restReachable: boolean | undefined
  /** Bumped when polling stops, so that a poll in flight then delivers nothing. */
  private pollEpoch = 0

  private lastSseId: string | undefined
  private readonly delivered = new RecentIds(DEDUP_CAPACITY)
  /** Per chat id: the newest message id delivered, or the baseline a poll took for the chat. */
  private readonly newestInChat = new Map<string, string>()
  /** Per clientId: when the message was sent (ms). */
  private readonly echoes = new Map<string, number>()

  constructor(options: StreamClientOptions) {
    this.url = options.url ?? DEFAULT_STREAM_URL
    this.keepaliveMs = options.keepaliveMs
    this.api = options.api
    this.createEventSource =
      options.createEventSource ?? ((url) => new EventSource(url, { withCredentials: true }))
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
    this.lastSseId = options.initialLastEventId
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.win = options.window ?? (typeof window === 'undefined' ? undefined : window)
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.win?.addEventListener('online', this.handleOnline)
    this.win?.addEventListener('offline', this.handleOffline)
    if (this.win?.navigator?.onLine === false) {
      this.setInfo({ state: 'offline' })
    } else {
      this.connect()
    }
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    this.win?.removeEventListener('online', this.handleOnline)
    this.win?.removeEventListener('offline', this.handleOffline)
    this.halt()
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

  /** Call it before the POST: an echo that arrives before expectEcho is not measured. */
  expectEcho(clientId: string, sentAt: number): void {
    this.echoes.set(clientId, sentAt)
    if (this.echoes.size > MAX_PENDING_ECHOES) {
      const [oldest] = this.echoes.keys()
      if (oldest !== undefined) this.echoes.delete(oldest)
    }
  }

  lastEventId(): string | undefined {
    return this.lastSseId
  }

  /** Replaces the EventSource (if any) with a new one that resumes after lastSseId. */
  private connect(): void {
    clearTimeout(this.reconnectTimer)
    this.closeSource()
    const url = this.lastSseId === undefined ? this.url : withQuery(this.url, 'lastEventId', this.lastSseId)
    const source = this.createEventSource(url)
    this.source = source
    this.opened = false
    this.connects++
    this.setInfo({
      state: this.connects === 1 ? 'connecting' : this.fallbackState(),
      reconnects: this.connects - 1,
    })
    // A closed EventSource may still have queued callbacks: only the current one counts.
    source.onopen = () => {
      if (source === this.source) this.handleOpen()
    }
    source.onmessage = (event) => {
      if (source === this.source) this.handleMessage(event.data)
    }
    source.onerror = () => {
      if (source === this.source) this.handleFailure()
    }
    source.addEventListener('keepalive', () => {
      if (source === this.source) this.handleKeepalive()
    })
    this.armSilenceTimer()
  }

  private closeSource(): void {
    this.source?.close()
    this.source = undefined
    clearTimeout(this.silenceTimer)
  }

  /** Closes the EventSource and stops every timer and the polling loop. */
  private halt(): void {
    this.closeSource()
    clearTimeout(this.reconnectTimer)
    this.stopPolling()
  }

  private armSilenceTimer(): void {
    clearTimeout(this.silenceTimer)
    this.silenceTimer = setTimeout(() => this.handleSilence(), 2 * this.keepaliveMs)
  }

  private handleOpen(): void {
    this.opened = true
    this.failures = 0
    this.stopPolling()
    this.setInfo({ state: 'live', lastEventAt: this.now() })
    this.armSilenceTimer()
    // Without a resume position the server sends only what happens from now on: whatever
    // listeners loaded over REST before this moment may be stale (events committed while no
    // stream was open, or before this one registered). Tell them to refetch, as after RESYNC.
    if (this.lastSseId === undefined) this.events.emit({ type: 'RESYNC', timestamp: this.now() })
  }

  private handleKeepalive(): void {
    this.armSilenceTimer()
    this.setInfo({ lastEventAt: this.now() })
  }

  private handleMessage(data: string): void {
    this.armSilenceTimer()
    this.setInfo({ lastEventAt: this.now() })
    const event = parseEvent(data)
    if (event === undefined) return
    if (event.type === 'RESYNC') {
      this.lastSseId = event.id
      this.events.emit(event)
      return
    }
    const { id } = event
    if (id === undefined) {
      this.events.emit(event) // ephemeral: never replayed, nothing to de-duplicate
      return
    }
    if (this.lastSseId !== undefined && id <= this.lastSseId) return // a replay
    this.lastSseId = id
    this.deliverDurable({ ...event, id })
  }

  /** An open stream went quiet: replace it at once. One that never opened failed to connect. */
  private handleSilence(): void {
    if (this.opened) {
      this.connect()
    } else {
      this.handleFailure()
    }
  }

  /** The EventSource errored (or never opened): retry after a backoff, polling after 3 failures. */
  private handleFailure(): void {
    if (!this.opened) this.failures++
    this.closeSource()
    if (this.failures >= FAILURES_BEFORE_POLLING) this.startPolling()
    this.setInfo({ state: this.fallbackState() })
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer)
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.failures)
    this.reconnectTimer = setTimeout(() => this.connect(), this.random() * ceiling)
  }

  private readonly handleOffline = (): void => {
    this.halt()
    this.setInfo({ state: 'offline' })
  }

  /** Back online: the old failures say nothing about the new network, so retry now. */
  private readonly handleOnline = (): void => {
    if (this.current.state === 'live') return
    this.failures = 0
    this.connect()
  }

  /** Delivers a durable event unless its id was delivered already; true if it was delivered. */
  private deliverDurable(event: ServerEvent & { id: string }): boolean {
    if (this.delivered.has(event.id)) return false
    this.delivered.add(event.id)
    const message = event.type === 'NEW_MESSAGE' ? event.message : undefined
    if (message !== undefined) {
      const newest = this.newestInChat.get(message.chatId)
      if (newest === undefined || message.id > newest) this.newestInChat.set(message.chatId, message.id)
      this.matchEcho(message)
    }
    this.events.emit(event)
    return true
  }

  private matchEcho(message: Message): void {
    if (message.clientId === undefined) return
    const sentAt = this.echoes.get(message.clientId)
    if (sentAt === undefined) return
    this.echoes.delete(message.clientId)
    this.setInfo({ latencyMs: this.now() - sentAt })
  }

  /** 'polling' while SSE is down but polls are answered, else 'reconnecting'. */
  private fallbackState(): 'polling' | 'reconnecting' {
    return this.polling && this.restReachable === true ? 'polling' : 'reconnecting'
  }

  /** Starts the polling loop; the state changes with its first answer (see fallbackState). */
  private startPolling(): void {
    if (this.polling) return
    this.polling = true
    this.restReachable = undefined
    void this.poll(this.pollEpoch)
  }

  private stopPolling(): void {
    if (!this.polling) return
    this.polling = false
    this.restReachable = undefined
    this.pollEpoch++
    clearTimeout(this.pollTimer)
  }

  /**
   * A poll's outcome: whether the server answered. Answered again after it could not be reached
   * (a restarted server) while SSE waits out its backoff (up to 30 s): retry SSE now, staying
   * 'reconnecting' while that connect runs; if it fails too, the state becomes 'polling'.
   */
  private pollAnswered(reachable: boolean): void {
    if (reachable && this.restReachable === false && this.source === undefined) {
      this.connect() // its state is 'reconnecting': restReachable is still false
      this.restReachable = true
      return
    }
    this.restReachable = reachable
    if (this.current.state !== 'live') this.setInfo({ state: this.fallbackState() })
  }

  /** One poll, then the next one pollIntervalMs after it ends, until stopPolling. */
  private async poll(epoch: number): Promise<void> {
    try {
      const messages = await this.fetchNewMessages(epoch)
      if (epoch !== this.pollEpoch) return // SSE is back: its replay covers these
      let delivered = false
      for (const message of messages) {
        const event: ServerEvent & { id: string } = {
          id: message.id,
          type: 'NEW_MESSAGE',
          chatId: message.chatId,
          message,
          timestamp: message.createdAt,
        }
        delivered = this.deliverDurable(event) || delivered
      }
      if (delivered) this.setInfo({ lastEventAt: this.now() })
      this.pollAnswered(true)
    } catch (err) {
      // Try again at the next interval (SSE retries go on). A 401 (the session ended) reaches the
      // API client's onUnauthorized, whose owner stops this stream.
      if (epoch === this.pollEpoch) this.pollAnswered(!unreachable(err))
    }
    if (epoch === this.pollEpoch) {
      this.pollTimer = setTimeout(() => void this.poll(epoch), this.pollIntervalMs)
    }
  }

  /**
   * The messages of every chat newer than its baseline (see pollBaseline), in id order. When a
   * chat gets its first baseline from this chat list, listeners are told to refetch (a RESYNC
   * without id) before anything is fetched: what came before the baseline is not polled, and may
   * have come after they loaded over REST.
   */
  private async fetchNewMessages(epoch: number): Promise<Message[]> {
    // fresh: a copy the offline shell saved would make a dead server look reachable.
    const chats = await this.api.listChats({ fresh: true })
    if (epoch !== this.pollEpoch) return []
    const newBaselines = this.lastSseId === undefined && chats.some((chat) => !this.newestInChat.has(chat.id))
    const baselines = chats.map((chat) => ({ chat, after: this.pollBaseline(chat) }))
    if (newBaselines) this.events.emit({ type: 'RESYNC', timestamp: this.now() })
    const fresh: Message[] = []
    for (const { chat, after: baseline } of baselines) {
      let after = baseline
      // The chat list says which chats have news: the others cost no request.
      if (chat.lastMessageId === undefined || chat.lastMessageId <= after) continue
      for (;;) {
        const page = await this.api.listMessages(chat.id, { after, limit: POLL_PAGE_LIMIT, fresh: true })
        fresh.push(...page.messages)
        const last = page.messages.at(-1)
        if (!page.hasMore || last === undefined) break
        after = last.id
      }
    }
    return fresh.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /**
   * The id after which a chat's messages are news. Ids are server-wide and ordered, so anything
   * at or before the stream's position came over SSE (or predates the stream). A chat neither the
   * stream nor a poll has shown has no such mark: its newest message now is taken, or the zero id
   * for a chat without messages, and remembered (fetchNewMessages then asks for a refetch).
   */
  private pollBaseline(chat: Chat): string {
    let after = this.newestInChat.get(chat.id)
    if (this.lastSseId !== undefined && (after === undefined || this.lastSseId > after)) {
      after = this.lastSseId
    }
    if (after === undefined) {
      after = chat.lastMessageId ?? ZERO_ID
      this.newestInChat.set(chat.id, after)
    }
    return after
  }

  /** Applies a change; listeners get a new object, and only when something changed. */
  private setInfo(change: Partial<ConnectionInfo>): void {
    const next = { ...this.current, ...change }
    const prev = this.current
    if (
      next.state === prev.state &&
      next.lastEventAt === prev.lastEventAt &&
      next.reconnects === prev.reconnects &&
      next.latencyMs === prev.latencyMs
    ) {
      return
    }
    this.current = next
    this.infos.emit(next)
  }
}

/** A set of listeners. One that throws is reported and does not keep the value from the others. */
export class Listeners<T> {
  private readonly listeners = new Set<(value: T) => void>()

  add(listener: (value: T) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  emit(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value)
      } catch (err) {
        console.error('herald stream: a listener threw', err)
      }
    }
  }
}

/** The last `capacity` ids added; the oldest is forgotten first. */
export class RecentIds {
  private readonly ids = new Set<string>()
  private readonly capacity: number

  constructor(capacity: number) {
    this.capacity = capacity
  }

  has(id: string): boolean {
    return this.ids.has(id)
  }

  add(id: string): void {
    this.ids.add(id)
    if (this.ids.size > this.capacity) {
      const [oldest] = this.ids
      if (oldest !== undefined) this.ids.delete(oldest)
    }
  }
}

/**
 * Whether a failed request says the server cannot be reached: no answer (a network error, a
 * timeout) or a 5xx (a proxy whose upstream is down, a server failing). A 4xx is an answer.
 */
export function unreachable(err: unknown): boolean {
  return !(err instanceof ApiRequestError) || err.status >= 500
}

/** The event in an SSE data field, or undefined for data that is not one (ignored). */
function parseEvent(data: string): ServerEvent | undefined {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  if (!('type' in value) || typeof value.type !== 'string') return undefined
  if ('id' in value && value.id !== undefined && typeof value.id !== 'string') return undefined
  return value as ServerEvent
}

function withQuery(url: string, key: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`
}
