// The monitor dashboard's logic, apart from React: numbers for people to read, the Connections
// table's sorting and filter, the polling comparison, and MonitorLive, which holds the watch lease
// and turns MONITOR_TICK events into the Overview's state.
import type { MonitorWatch } from '../../api/client'
import type { Polling, StreamRecord, Totals } from '../../api/types'
import { MONITOR_WATCH_RENEW_MS } from '../../api/types'
import type { EventStream } from '../../stream/types'

const number = new Intl.NumberFormat('en', { maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat('en', { maximumFractionDigits: 0 })

/** 1234 → "1,234", 3.25 → "3.3". */
export function count(n: number): string {
  return number.format(n)
}

/** Bytes with a binary-free SI unit: 950 B, 12.3 kB, 4.5 MB. */
export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = n
  let i = 0
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${i === 0 ? whole.format(v) : number.format(v)} ${units[i]}`
}

/** Milliseconds: "0.42 ms", "12 ms", "1.2 s". */
export function millis(ms: number): string {
  if (ms >= 1000) return `${number.format(ms / 1000)} s`
  if (ms >= 10) return `${whole.format(ms)} ms`
  return `${new Intl.NumberFormat('en', { maximumFractionDigits: 2 }).format(ms)} ms`
}

/** Seconds as "3 d 4 h", "2 h 5 min", "4 min 10 s", "12 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (d > 0) return `${d} d ${h} h`
  if (h > 0) return `${h} h ${m} min`
  if (m > 0) return `${m} min ${s % 60} s`
  return `${s} s`
}

// Connections: sorting and filtering a page of streams.

export type StreamColumn = 'user' | 'kind' | 'client' | 'since' | 'events' | 'lastActivity'
export type SortDirection = 'ascending' | 'descending'
export interface StreamSort {
  column: StreamColumn
  direction: SortDirection
}

const SORT_KEY: Record<StreamColumn, (s: StreamRecord) => string | number> = {
  user: (s) => s.username.toLowerCase(),
  kind: (s) => s.kind,
  client: (s) => s.client,
  since: (s) => s.connectedAt,
  events: (s) => s.events,
  lastActivity: (s) => s.lastActivityAt,
}

/** The streams sorted by one column (ties by id, so the order is stable). */
export function sortStreams(streams: readonly StreamRecord[], { column, direction }: StreamSort): StreamRecord[] {
  const key = SORT_KEY[column]
  const sign = direction === 'ascending' ? 1 : -1
  return [...streams].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    const c = ka < kb ? -1 : ka > kb ? 1 : 0
    return c !== 0 ? c * sign : a.id - b.id
  })
}

/** The streams whose user, kind, client, chat, user agent or address contain q (any case). */
export function filterStreams(streams: readonly StreamRecord[], q: string): StreamRecord[] {
  const needle = q.trim().toLowerCase()
  if (!needle) return [...streams]
  return streams.filter((s) =>
    [s.username, s.kind, s.client, s.chatId ?? '', s.userAgent, s.remoteAddr].some((f) => f.toLowerCase().includes(needle)),
  )
}

// SSE vs polling.

/** What the comparison can honestly say: nothing before a poll's size is measured. */
export type PollingView =
  | { measured: false; requests: RequestsView }
  | { measured: true; requests: RequestsView; bytes: { streams: number; polling: number; ratio: number } }

interface RequestsView {
  streams: number
  polling: number
  /** polling ÷ streams; 0 while the streams made no request in the window. */
  ratio: number
}

export function pollingView(p: Polling): PollingView {
  const requests = { streams: p.streamRequestsPerHour, polling: p.pollRequestsPerHour, ratio: p.requestRatio }
  if (p.pollsMeasured === 0) return { measured: false, requests }
  return {
    measured: true,
    requests,
    bytes: { streams: p.streamBytesPerHour, polling: p.pollBytesPerHour, ratio: p.byteRatio },
  }
}

/** "48× fewer", or "" when there is no ratio to tell. */
export function fewer(ratio: number): string {
  if (!(ratio > 0)) return ''
  if (ratio >= 1) return `${count(ratio >= 10 ? Math.round(ratio) : ratio)}× fewer`
  return `${count(1 / ratio)}× more`
}

// The live Overview.

/** connecting: before the first tick. live: ticks arrive. paused: they stopped (or the lease
 * could not be had) and the dashboard is trying again. */
export type LiveState = 'connecting' | 'live' | 'paused'

export interface LiveSnapshot {
  state: LiveState
  /** The newest totals: MONITOR_TICK's, or the ones the page loaded. */
  totals: Totals | null
  /** The recent ticks' totals, oldest first (at most MAX_TICKS), for the sparklines. */
  ticks: readonly Totals[]
  /** Why the lease failed, when it did. */
  problem: string | null
}

/** Ticks kept for the sparklines: 10 minutes at 2 s. */
export const MAX_TICKS = 300
/** Ticks missing this many intervals in a row mean they stopped. */
const MISSED_TICKS = 3
/** A failed lease is tried again this soon (ms). */
const RETRY_MS = 5_000

export interface MonitorWatchApi {
  watchMonitor(): Promise<MonitorWatch>
  unwatchMonitor(): Promise<void>
}

export interface Timers {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
}

/**
 * The dashboard's hold on MONITOR_TICK: start() takes the watch lease (POST /watch) and renews it
 * every 30 s, listens for ticks on the app's event stream and notices when they stop (three
 * intervals without one, or the stream not live: "paused"); stop() ends the lease (DELETE) and
 * every timer. One per open dashboard; snapshots are immutable, for useSyncExternalStore.
 */
export class MonitorLive {
  private snapshot: LiveSnapshot = { state: 'connecting', totals: null, ticks: [], problem: null }
  private readonly listeners = new Set<() => void>()
  private intervalMs = 2_000
  private renewTimer: unknown = null
  private staleTimer: unknown = null
  private stopEvents: (() => void) | null = null
  private stopInfo: (() => void) | null = null
  private running = false

  constructor(
    private readonly api: MonitorWatchApi,
    private readonly stream: Pick<EventStream, 'onEvent' | 'onInfo'>,
    private readonly timers: Timers = realTimers,
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.stopEvents = this.stream.onEvent((event) => {
      if (event.type === 'MONITOR_TICK' && event.monitor) this.tick(event.monitor)
      // A stream that resumed with a gap may have missed ticks; the lease is the server's, so
      // the next tick comes by itself.
    })
    this.stopInfo = this.stream.onInfo((info) => {
      if (info.state !== 'live' && this.snapshot.state === 'live') this.set({ state: 'paused' })
    })
    void this.watch()
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    this.stopEvents?.()
    this.stopInfo?.()
    this.timers.clearTimeout(this.renewTimer)
    this.timers.clearTimeout(this.staleTimer)
    this.api.unwatchMonitor().catch(() => undefined)
  }

  /** The totals the page loaded (GET /monitor), until the first tick brings newer ones. */
  seed(totals: Totals): void {
    if (this.snapshot.totals && this.snapshot.totals.now >= totals.now) return
    this.set({ totals })
  }

  get = (): LiveSnapshot => this.snapshot

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private async watch(): Promise<void> {
    let next = MONITOR_WATCH_RENEW_MS
    try {
      const lease = await this.api.watchMonitor()
      if (!this.running) return
      this.intervalMs = lease.intervalMs
      if (this.snapshot.problem) this.set({ problem: null })
      this.armStale()
    } catch (err) {
      if (!this.running) return
      next = RETRY_MS
      this.set({ state: this.snapshot.state === 'connecting' ? 'connecting' : 'paused', problem: err instanceof Error ? err.message : String(err) })
    }
    this.renewTimer = this.timers.setTimeout(() => void this.watch(), next)
  }

  private tick(totals: Totals): void {
    const ticks = [...this.snapshot.ticks, totals].slice(-MAX_TICKS)
    this.set({ state: 'live', totals, ticks })
    this.armStale()
  }

  /** Paused unless a tick arrives within MISSED_TICKS intervals. */
  private armStale(): void {
    this.timers.clearTimeout(this.staleTimer)
    this.staleTimer = this.timers.setTimeout(() => {
      if (this.running && this.snapshot.state !== 'paused') this.set({ state: 'paused' })
    }, this.intervalMs * MISSED_TICKS)
  }

  private set(change: Partial<LiveSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change }
    for (const listener of [...this.listeners]) listener()
  }
}
