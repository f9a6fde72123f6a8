import { useEffect, useId, useMemo, useState } from 'react'
import { errorMessage, MONITOR_STREAMS_CSV, monitorHistoryCsv, type MonitorPage } from '../../api/client'
import type { MonitorMinute, MonitorRange, StreamRecord, Totals, User } from '../../api/types'
import { personName } from '../names'
import { when } from './adminApi'
import { ClusterPanel } from './ClusterPanel'
import { MonitorChart, type ChartSeries } from './MonitorChart'
import type { MonitorApi } from './MonitorDashboard'
import {
  bytes,
  count,
  duration,
  fewer,
  filterStreams,
  millis,
  pollingView,
  sortStreams,
  type LiveSnapshot,
  type MonitorLive,
  type StreamColumn,
  type StreamSort,
} from './monitorModel'

/** GET /api/admin/monitor for a page of streams, again whenever the page or reload changes; an
 * answer that a newer request overtook is dropped. */
function useMonitorPage(api: MonitorApi, offset: number | undefined, limit: number, reload: unknown) {
  const [page, setPage] = useState<MonitorPage | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let current = true
    api.getMonitor(offset === undefined ? { limit } : { offset, limit }).then(
      (p) => {
        if (!current) return
        setPage(p)
        setError(null)
      },
      (err: unknown) => current && setError(errorMessage(err)),
    )
    return () => {
      current = false
    }
  }, [api, offset, limit, reload])
  return { page, error }
}

/** GET /history over range, again whenever range or reload changes. */
function useHistory(api: MonitorApi, range: MonitorRange, reload = 0) {
  const [minutes, setMinutes] = useState<MonitorMinute[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let current = true
    api.getMonitorHistory(range).then(
      (m) => {
        if (!current) return
        setMinutes(m)
        setError(null)
      },
      (err: unknown) => current && setError(errorMessage(err)),
    )
    return () => {
      current = false
    }
  }, [api, range, reload])
  return { minutes, error }
}

/** The minute a tick is in, 5 s late: the history has gained a minute when it changes (the
 * server stores a minute just after it ends). */
function minuteOf(t: Totals | null): number {
  return t ? Math.floor((t.now - 5_000) / 60_000) : 0
}

// Overview.

interface Point {
  t: number
  v: number
}

/** A small line of the last minutes, drawn as SVG (hidden: the number beside it says it all). */
function Sparkline({ points }: { points: Point[] }) {
  if (points.length < 2) return <svg className="sparkline" aria-hidden="true" viewBox="0 0 100 24" />
  const t0 = points[0]!.t
  const span = Math.max(1, points[points.length - 1]!.t - t0)
  const max = Math.max(...points.map((p) => p.v), 1e-9)
  const d = points.map((p) => `${(((p.t - t0) / span) * 100).toFixed(2)},${(22 - (p.v / max) * 20).toFixed(2)}`).join(' ')
  return (
    <svg className="sparkline" aria-hidden="true" viewBox="0 0 100 24" preserveAspectRatio="none">
      <polyline points={d} fill="none" vectorEffect="non-scaling-stroke" />
    </svg>
  )
}

function Stat({ label, value, detail, points }: { label: string; value: string; detail?: string; points?: Point[] }) {
  return (
    <div className="monitor-stat">
      <dt>{label}</dt>
      <dd>
        <span className="monitor-value">{value}</span>
        {detail && <span className="muted monitor-detail">{detail}</span>}
        {points && <Sparkline points={points} />}
      </dd>
    </div>
  )
}

interface OverviewProps {
  api: MonitorApi
  live: MonitorLive
  snapshot: LiveSnapshot
}

/** The live numbers (MONITOR_TICK), sparklines of the last half hour, the cluster (on a cluster
 * node), and SSE vs polling. */
export function OverviewPanel({ api, live, snapshot }: OverviewProps) {
  const [error, setError] = useState<string | null>(null)
  const { minutes } = useHistory(api, '1h', minuteOf(snapshot.totals))
  useEffect(() => {
    let current = true
    api.getMonitor({ limit: 1 }).then(
      (page) => current && live.seed(page.totals),
      (err: unknown) => current && setError(errorMessage(err)),
    )
    return () => {
      current = false
    }
  }, [api, live])

  const spark = useMemo(() => {
    const recent = (minutes ?? []).slice(-30)
    const fromHistory = (f: (m: MonitorMinute) => number) => recent.map((m) => ({ t: m.t + 60_000, v: f(m) }))
    const fromTicks = (f: (t: Totals) => number) => snapshot.ticks.map((t) => ({ t: t.now, v: f(t) }))
    return {
      streams: [...fromHistory((m) => m.streams), ...fromTicks((t) => t.streams.open)],
      rate: [...fromHistory((m) => m.events / 60), ...fromTicks((t) => t.delivery.eventsPerSecond)],
      fanout: fromHistory((m) => m.fanoutP99Ms),
      errors: fromHistory((m) => m.errors),
    }
  }, [minutes, snapshot.ticks])

  const t = snapshot.totals
  if (!t) {
    return error ? (
      <p className="error" role="alert">
        Could not load the monitor: {error}
      </p>
    ) : (
      <p className="muted">Loading the monitor…</p>
    )
  }
  return (
    <div className="monitor-overview">
      <dl className="monitor-stats" aria-label="Server now">
        <Stat label="Live streams" value={count(t.streams.open)} points={spark.streams} />
        <Stat label="Peak streams" value={count(t.streams.peak)} detail={`${count(t.streams.peakToday)} today`} />
        <Stat
          label="Delivery rate"
          value={`${count(t.delivery.eventsPerSecond)} events/s`}
          detail={`${bytes(t.delivery.bytesPerSecond)}/s`}
          points={spark.rate}
        />
        <Stat label="Events delivered" value={count(t.delivery.events)} detail={`${bytes(t.delivery.bytes)} since start`} />
        <Stat
          label="Fan-out latency"
          value={`p50 ${millis(t.fanoutLatency.p50Ms)}`}
          detail={`p99 ${millis(t.fanoutLatency.p99Ms)}`}
          points={spark.fanout}
        />
        <Stat label="Errors per minute" value={count(t.errors.perMinute)} detail={`${count(t.errors.total)} since start`} points={spark.errors} />
        <Stat label="Uptime" value={duration(t.uptimeSeconds)} />
        <Stat label="Store size" value={bytes(t.storeBytes)} />
      </dl>
      <ClusterPanel api={api} tick={t.now} />
      <PollingComparison totals={t} minutes={minutes} />
    </div>
  )
}

const HOUR = 60 * 60_000

/** SSE vs 15-second polling, from the running server's counters; honest before anything is measured. */
function PollingComparison({ totals, minutes }: { totals: Totals; minutes: MonitorMinute[] | null }) {
  const ids = useId()
  const view = pollingView(totals.polling)
  const p = totals.polling
  const recent = useMemo(() => minutes ?? [], [minutes])
  const times = useMemo(() => recent.map((m) => m.t), [recent])
  const requestSeries = useMemo<ChartSeries[]>(
    () => [
      { label: 'Stream connects', color: '--accent', values: recent.map((m) => m.connects) },
      { label: '15 s polling', color: '--danger', values: recent.map((m) => m.pollRequests), dashed: true },
    ],
    [recent],
  )
  const byteSeries = useMemo<ChartSeries[]>(
    () => [
      { label: 'Stream bytes', color: '--accent', values: recent.map((m) => m.bytes) },
      { label: '15 s polling', color: '--danger', values: recent.map((m) => m.pollBytes), dashed: true },
    ],
    [recent],
  )
  return (
    <section className="admin-card monitor-polling" aria-labelledby={`${ids}-h`}>
      <h3 id={`${ids}-h`}>SSE vs polling</h3>
      <p className="muted">
        What this server&apos;s streams cost per hour (measured over {duration(p.windowSeconds)}), next to what polling
        every 15 seconds would cost the same clients for the same {count(p.followedChats)}{' '}
        {p.followedChats === 1 ? 'chat' : 'chats'}.
      </p>
      <div className="monitor-bignums">
        <div className="monitor-bignum">
          <h4>Requests per hour</h4>
          <p>
            <span className="monitor-big">{count(Math.round(view.requests.streams))}</span> with streams
          </p>
          <p>
            <span className="monitor-big">{count(Math.round(view.requests.polling))}</span> with polling
          </p>
          <p className="monitor-ratio">
            {fewer(view.requests.ratio) ? `${fewer(view.requests.ratio)} requests` : 'No stream requests in the window yet.'}
          </p>
        </div>
        <div className="monitor-bignum">
          <h4>Bytes per hour</h4>
          {view.measured ? (
            <>
              <p>
                <span className="monitor-big">{bytes(view.bytes.streams)}</span> with streams
              </p>
              <p>
                <span className="monitor-big">{bytes(view.bytes.polling)}</span> with polling
              </p>
              <p className="monitor-ratio">
                {fewer(view.bytes.ratio) ? `${fewer(view.bytes.ratio)} bytes` : 'No stream bytes in the window yet.'}
              </p>
              <p className="muted">A history poll measured {bytes(p.meanPollBytes)} on average ({count(p.pollsMeasured)} served).</p>
            </>
          ) : (
            <>
              <p>
                <span className="monitor-big">{bytes(p.streamBytesPerHour)}</span> with streams
              </p>
              <p className="muted">
                The size of a history poll is not measured yet: no chat history has been served since the server
                started, so there is no polling figure to compare.
              </p>
            </>
          )}
        </div>
      </div>
      {minutes && minutes.length > 0 ? (
        <div className="monitor-charts">
          <MonitorChart title="Requests per minute: streams vs polling" windowMs={HOUR} times={times} series={requestSeries} format={count} height={140} />
          <MonitorChart title="Bytes per minute: streams vs polling" windowMs={HOUR} times={times} series={byteSeries} format={bytes} height={140} />
        </div>
      ) : (
        <p className="muted">The per-minute chart starts when the first minute ends.</p>
      )}
    </section>
  )
}

// Connections.

const COLUMNS: { key: StreamColumn; label: string }[] = [
  { key: 'user', label: 'User' },
  { key: 'kind', label: 'Kind' },
  { key: 'client', label: 'Client' },
  { key: 'since', label: 'Since' },
  { key: 'events', label: 'Events' },
  { key: 'lastActivity', label: 'Last activity' },
]

export const STREAMS_PAGE = 50

/** A signature of the set of streams: it changes when one opens or closes. */
function streamSet(t: Totals | null): string {
  if (!t) return ''
  const ends = Object.values(t.disconnects).reduce((a, b) => a + (b ?? 0), 0)
  return `${t.connects.succeeded}/${ends}`
}

interface ConnectionsProps {
  api: MonitorApi
  totals: Totals | null
  users: Readonly<Record<string, User>>
}

/** The live streams, a page at a time; sorted and filtered within the page. Reloads when a
 * tick says a stream opened or closed. */
export function ConnectionsPanel({ api, totals, users }: ConnectionsProps) {
  const ids = useId()
  const [offset, setOffset] = useState(0)
  const [reload, setReload] = useState(0)
  const [sort, setSort] = useState<StreamSort>({ column: 'since', direction: 'descending' })
  const [q, setQ] = useState('')
  const set = streamSet(totals)
  const { page, error } = useMonitorPage(api, offset, STREAMS_PAGE, `${reload}|${set}`)

  const rows = useMemo(() => sortStreams(filterStreams(page?.streams ?? [], q), sort), [page, q, sort])
  const name = (s: StreamRecord) => (users[s.userId] ? personName(users[s.userId]) : s.username)

  function sortBy(column: StreamColumn) {
    setSort((held) =>
      held.column === column
        ? { column, direction: held.direction === 'ascending' ? 'descending' : 'ascending' }
        : { column, direction: column === 'user' || column === 'kind' || column === 'client' ? 'ascending' : 'descending' },
    )
  }

  const shown = page?.streams.length ?? 0
  return (
    <div className="monitor-connections">
      <div className="monitor-toolbar">
        <div className="admin-search">
          <label htmlFor={`${ids}-filter`}>Filter streams</label>
          <input id={`${ids}-filter`} type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <button type="button" className="secondary small" onClick={() => setReload((n) => n + 1)}>
          Refresh
        </button>
        <a className="monitor-csv" href={MONITOR_STREAMS_CSV} download>
          Download CSV
        </a>
      </div>
      {error && (
        <p className="error" role="alert">
          Could not load the streams: {error}
        </p>
      )}
      <p className="muted" aria-live="polite">
        {page
          ? page.total === 0
            ? 'No stream is open.'
            : `Streams ${offset + 1}–${offset + shown} of ${page.total}${q ? `, ${rows.length} match the filter` : ''}.` +
              (page.total > shown ? ' Sorting and the filter apply to this page.' : '')
          : 'Loading the streams…'}
      </p>
      <div className="monitor-table-wrap" role="region" aria-label="Live streams table" tabIndex={0}>
        <table className="monitor-table">
          <caption className="visually-hidden">Live streams</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} scope="col" aria-sort={sort.column === c.key ? sort.direction : undefined}>
                  <button type="button" className="monitor-sort" onClick={() => sortBy(c.key)}>
                    {c.label}
                    <span aria-hidden="true">{sort.column === c.key ? (sort.direction === 'ascending' ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.id}>
                <th scope="row">
                  <bdi>{name(s)}</bdi>
                </th>
                <td>{s.kind}</td>
                <td title={s.userAgent}>{s.client}</td>
                <td>
                  <time dateTime={new Date(s.connectedAt).toISOString()}>{when(s.connectedAt)}</time>
                </td>
                <td className="num">{count(s.events)}</td>
                <td>{s.lastActivityAt ? <time dateTime={new Date(s.lastActivityAt).toISOString()}>{clock(s.lastActivityAt)}</time> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page && (offset > 0 || page.hasMore) && (
        <div className="monitor-pager">
          <button type="button" className="secondary small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - STREAMS_PAGE))}>
            Previous page
          </button>
          <button type="button" className="secondary small" disabled={!page.hasMore} onClick={() => setOffset(offset + STREAMS_PAGE)}>
            Next page
          </button>
        </div>
      )}
    </div>
  )
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

// Trends.

const RANGES: { range: MonitorRange; label: string; ms: number }[] = [
  { range: '15m', label: '15 min', ms: 15 * 60_000 },
  { range: '1h', label: '1 hour', ms: 60 * 60_000 },
  { range: '24h', label: '24 hours', ms: 24 * 60 * 60_000 },
  { range: '7d', label: '7 days', ms: 7 * 24 * 60 * 60_000 },
]

/** Charts of the stored minutes over a chosen window, with the CSV of the same minutes; a new
 * minute is fetched when a tick says one ended. */
export function TrendsPanel({ api, totals }: { api: MonitorApi; totals: Totals | null }) {
  const ids = useId()
  const [range, setRange] = useState<MonitorRange>('15m')
  const { minutes, error } = useHistory(api, range, minuteOf(totals))
  const charts = useMemo(() => {
    const m = minutes ?? []
    const times = m.map((x) => x.t)
    const s = (label: string, color: string, values: number[], dashed = false): ChartSeries => ({ label, color, values, dashed })
    return {
      times,
      streams: [s('Open at the minute’s end', '--accent', m.map((x) => x.streams)), s('Peak', '--muted', m.map((x) => x.peakStreams), true)],
      deliveries: [s('Events per second', '--accent', m.map((x) => x.events / 60))],
      fanout: [s('p50', '--accent', m.map((x) => x.fanoutP50Ms)), s('p99', '--danger', m.map((x) => x.fanoutP99Ms), true)],
      post: [s('p50', '--accent', m.map((x) => x.postP50Ms)), s('p99', '--danger', m.map((x) => x.postP99Ms), true)],
      errors: [s('Errors', '--danger', m.map((x) => x.errors)), s('Server errors', '--muted', m.map((x) => x.serverErrors), true)],
    }
  }, [minutes])
  const perSecond = (v: number) => `${count(v)}/s`
  const windowMs = RANGES.find((r) => r.range === range)?.ms
  return (
    <div className="monitor-trends">
      <div className="monitor-toolbar">
        <fieldset className="monitor-ranges">
          <legend>Window</legend>
          {RANGES.map((r) => (
            <label key={r.range}>
              <input type="radio" name={`${ids}-range`} checked={range === r.range} onChange={() => setRange(r.range)} />
              {r.label}
            </label>
          ))}
        </fieldset>
        <a className="monitor-csv" href={monitorHistoryCsv(range)} download>
          Download CSV
        </a>
      </div>
      {error && (
        <p className="error" role="alert">
          Could not load the history: {error}
        </p>
      )}
      {minutes === null && !error && <p className="muted">Loading the history…</p>}
      {minutes !== null && minutes.length === 0 && (
        <p className="muted">No minute recorded in this window yet: the first is stored when a minute ends.</p>
      )}
      {minutes !== null && minutes.length > 0 && (
        <div className="monitor-charts">
          <MonitorChart title="Streams" windowMs={windowMs} times={charts.times} series={charts.streams} format={count} />
          <MonitorChart title="Deliveries per second" windowMs={windowMs} times={charts.times} series={charts.deliveries} format={perSecond} />
          <MonitorChart title="Fan-out latency" windowMs={windowMs} times={charts.times} series={charts.fanout} format={millis} />
          <MonitorChart title="POST latency" windowMs={windowMs} times={charts.times} series={charts.post} format={millis} />
          <MonitorChart title="Errors per minute" windowMs={windowMs} times={charts.times} series={charts.errors} format={count} />
        </div>
      )}
    </div>
  )
}

// Errors.

/** Error answers by category, and the last 100. Reloads when a tick's error count moves. */
export function ErrorsPanel({ api, totals }: { api: MonitorApi; totals: Totals | null }) {
  const ids = useId()
  const { page, error } = useMonitorPage(api, undefined, 1, totals?.errors.total ?? -1)
  if (error) {
    return (
      <p className="error" role="alert">
        Could not load the errors: {error}
      </p>
    )
  }
  if (!page) return <p className="muted">Loading the errors…</p>
  const categories = Object.entries(page.errors.byCategory).sort((a, b) => b[1] - a[1])
  return (
    <div className="monitor-errors">
      <section aria-labelledby={`${ids}-by`}>
        <h3 id={`${ids}-by`}>By category</h3>
        {categories.length === 0 ? (
          <p className="muted">No error answered since the server started.</p>
        ) : (
          <ul className="monitor-categories" aria-label="Errors by category">
            {categories.map(([category, n]) => (
              <li key={category}>
                <span className="monitor-category">{category}</span> <span className="num">{count(n)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby={`${ids}-recent`}>
        <h3 id={`${ids}-recent`}>Recent errors</h3>
        {page.errors.recent.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <div className="monitor-table-wrap" role="region" aria-label="Recent errors table" tabIndex={0}>
            <table className="monitor-table">
              <caption className="visually-hidden">The last {page.errors.recent.length} errors, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Status</th>
                  <th scope="col">Method</th>
                  <th scope="col">Path</th>
                  <th scope="col">Message</th>
                </tr>
              </thead>
              <tbody>
                {page.errors.recent.map((e, i) => (
                  <tr key={`${e.at}-${i}`}>
                    <td>
                      <time dateTime={new Date(e.at).toISOString()}>{clock(e.at)}</time>
                    </td>
                    <td className="num">
                      {e.status} <span className="muted">{e.category}</span>
                    </td>
                    <td>{e.method}</td>
                    <td className="monitor-path">{e.path}</td>
                    <td className="monitor-message">{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  )
}
