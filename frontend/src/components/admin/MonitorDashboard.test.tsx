import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { MonitorPage } from '../../api/client'
import type { ClusterStatus, Polling, StreamRecord, Totals } from '../../api/types'
import { FakeEventStream } from '../testFakes'
import type { MonitorApi } from './MonitorDashboard'

// uPlot draws on a canvas, which jsdom lacks: the chart is stood in for by its title.
vi.mock('./MonitorChart', () => ({
  MonitorChart: ({ title }: { title: string }) => <figure aria-label={title} />,
}))
const { MonitorDashboard } = await import('./MonitorDashboard')

const polling: Polling = {
  windowSeconds: 600,
  streamRequestsPerHour: 6,
  streamBytesPerHour: 12_000,
  followedChats: 3,
  pollRequestsPerHour: 720,
  meanPollBytes: 0,
  pollsMeasured: 0,
  pollBytesPerHour: 0,
  requestRatio: 120,
  byteRatio: 0,
}

function totals(change: { now?: number; events?: number; open?: number; polling?: Partial<Polling> } = {}): Totals {
  const lat = { count: 0, meanMs: 0, p50Ms: 0.4, p95Ms: 1, p99Ms: 2.5 }
  return {
    now: change.now ?? 1_000,
    startedAt: 0,
    uptimeSeconds: 3725,
    streams: { open: change.open ?? 2, peak: 3, peakToday: 3, byKind: {}, byClient: {}, byChat: [] },
    connects: { succeeded: 4, refused: {} },
    disconnects: {},
    connectionSeconds: { count: 0, mean: 0, median: 0, p95: 0 },
    delivery: { events: change.events ?? 10, bytes: 2000, eventsPerSecond: 1.5, bytesPerSecond: 300 },
    resumes: { count: 0, backlogEvents: 0, resyncs: 0 },
    broker: { subscribers: 2, published: 5, delivered: 10, droppedEphemeral: 0, overflows: 0 },
    fanoutLatency: lat,
    postLatency: lat,
    commitLatency: lat,
    commitBatch: { mean: 1, p99: 1 },
    errors: { total: 1, serverErrors: 0, byCategory: { invalid: 1 }, perMinute: 0 },
    storeBytes: 65_536,
    polling: { ...polling, ...change.polling },
  }
}

function stream(id: number, username: string, extra: Partial<StreamRecord> = {}): StreamRecord {
  return {
    id,
    userId: `u-${username}`,
    username,
    kind: 'stream',
    client: 'browser',
    userAgent: 'Mozilla/5.0',
    remoteAddr: '127.0.0.1:1',
    connectedAt: 1_700_000_000_000 + id * 1000,
    lastActivityAt: 1_700_000_100_000,
    events: 0,
    bytes: 0,
    droppedEphemeral: 0,
    resumed: false,
    backlog: 0,
    resyncs: 0,
    ...extra,
  }
}

const streams = [
  stream(1, 'carol', { events: 5 }),
  stream(2, 'alice', { events: 50, kind: 'chat', chatId: 'c1' }),
  stream(3, 'bob', { events: 1, client: 'desktop' }),
]

function fakeApi(t: Totals = totals(), cluster?: ClusterStatus) {
  const page: MonitorPage = {
    ...(cluster && { cluster }),
    totals: t,
    streams,
    total: streams.length,
    hasMore: false,
    errors: {
      byCategory: { invalid: 1 },
      recent: [{ at: 1_700_000_000_000, category: 'invalid', status: 400, method: 'POST', path: '/api/chats', message: 'Name is required.' }],
    },
  }
  return {
    getMonitor: vi.fn(() => Promise.resolve(page)),
    getMonitorHistory: vi.fn(() => Promise.resolve([])),
    watchMonitor: vi.fn(() => Promise.resolve({ until: 61_000, intervalMs: 2000 })),
    unwatchMonitor: vi.fn(() => Promise.resolve()),
  } satisfies MonitorApi
}

function renderDashboard(api = fakeApi()) {
  const events = new FakeEventStream()
  const view = render(<MonitorDashboard api={api} stream={events} users={{}} />)
  return { api, events, ...view }
}

function stat(label: string): string {
  const term = screen.getByText(label, { selector: 'dt' })
  return term.nextElementSibling?.textContent ?? ''
}

describe('MonitorDashboard', () => {
  it('is a tablist whose arrow keys, Home and End move between the four tabs', async () => {
    renderDashboard()
    const user = userEvent.setup()
    const tabs = within(screen.getByRole('tablist', { name: 'Monitor views' })).getAllByRole('tab')
    expect(tabs.map((t) => t.textContent)).toEqual(['Overview', 'Connections', 'Trends', 'Errors'])
    expect(tabs[0]?.getAttribute('aria-selected')).toBe('true')
    expect(tabs.map((t) => t.tabIndex)).toEqual([0, -1, -1, -1])
    await user.click(tabs[0]!)
    await user.keyboard('{ArrowRight}')
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Connections' }))
    expect(screen.getByRole('tab', { name: 'Connections' }).getAttribute('aria-selected')).toBe('true')
    expect(screen.getByRole('tabpanel', { name: 'Connections' })).toBeTruthy()
    await user.keyboard('{ArrowLeft}{ArrowLeft}')
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Errors' }))
    await user.keyboard('{Home}')
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Overview' }))
    await user.keyboard('{End}')
    expect(screen.getByRole('tab', { name: 'Errors' }).getAttribute('aria-selected')).toBe('true')
    expect(await screen.findByText('Name is required.')).toBeTruthy()
  })

  it('takes the watch lease on open, renews it every 30 s and ends it on close', async () => {
    vi.useFakeTimers()
    try {
      const { api, unmount } = renderDashboard()
      expect(api.watchMonitor).toHaveBeenCalledTimes(1)
      await act(() => vi.advanceTimersByTimeAsync(29_000))
      expect(api.watchMonitor).toHaveBeenCalledTimes(1)
      await act(() => vi.advanceTimersByTimeAsync(1_000))
      expect(api.watchMonitor).toHaveBeenCalledTimes(2)
      await act(() => vi.advanceTimersByTimeAsync(30_000))
      expect(api.watchMonitor).toHaveBeenCalledTimes(3)
      expect(api.unwatchMonitor).not.toHaveBeenCalled()
      unmount()
      expect(api.unwatchMonitor).toHaveBeenCalledTimes(1)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(api.watchMonitor).toHaveBeenCalledTimes(3)
    } finally {
      vi.useRealTimers()
    }
  })

  it('updates the Overview from MONITOR_TICK and says Paused when ticks stop', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      const { events } = renderDashboard()
      expect(await screen.findByText('Events delivered')).toBeTruthy()
      expect(stat('Events delivered')).toMatch(/^10/)
      expect(screen.getByText('Connecting…')).toBeTruthy()
      act(() => events.emit({ type: 'MONITOR_TICK', timestamp: 2000, monitor: totals({ now: 2000, events: 42, open: 5 }) }))
      expect(stat('Events delivered')).toMatch(/^42/)
      expect(stat('Live streams')).toMatch(/^5/)
      expect(screen.getByText('Live')).toBeTruthy()
      // A tick of another type, or an older GET answer, changes nothing.
      act(() => events.emit({ type: 'TYPING', timestamp: 2100, monitor: totals({ events: 99 }) }))
      expect(stat('Events delivered')).toMatch(/^42/)
      await act(() => vi.advanceTimersByTimeAsync(6_100))
      expect(screen.getByText('Paused — reconnecting')).toBeTruthy()
      act(() => events.emit({ type: 'MONITOR_TICK', timestamp: 9000, monitor: totals({ now: 9000, events: 43 }) }))
      expect(screen.getByText('Live')).toBeTruthy()
      expect(stat('Events delivered')).toMatch(/^43/)
    } finally {
      vi.useRealTimers()
    }
  })

  it('compares with polling honestly: no byte figure before a poll was measured', async () => {
    renderDashboard()
    const panel = await screen.findByRole('region', { name: 'SSE vs polling' })
    expect(panel.textContent).toContain('120× fewer requests')
    expect(panel.textContent).toContain('720 with polling')
    expect(panel.textContent).toContain('The size of a history poll is not measured yet')
    expect(panel.textContent).not.toMatch(/fewer bytes/)
  })

  it('shows the byte comparison once polls are measured', async () => {
    renderDashboard(
      fakeApi(totals({ polling: { pollsMeasured: 4, meanPollBytes: 2000, pollBytesPerHour: 1_440_000, byteRatio: 120 } })),
    )
    const panel = await screen.findByRole('region', { name: 'SSE vs polling' })
    expect(panel.textContent).toContain('1.4 MB with polling')
    expect(panel.textContent).toContain('120× fewer bytes')
    expect(panel.textContent).not.toMatch('not measured yet')
  })

  it('shows no Cluster panel on a single server, and asks for it once', async () => {
    const { api, events } = renderDashboard()
    expect(await screen.findByText('Events delivered')).toBeTruthy()
    act(() => events.emit({ type: 'MONITOR_TICK', timestamp: 2000, monitor: totals({ now: 2000 }) }))
    act(() => events.emit({ type: 'MONITOR_TICK', timestamp: 4000, monitor: totals({ now: 4000 }) }))
    await screen.findByRole('region', { name: 'SSE vs polling' })
    expect(screen.queryByRole('region', { name: 'Cluster' })).toBeNull()
    // The Overview's seed, and the panel's one look.
    expect(api.getMonitor).toHaveBeenCalledTimes(2)
  })

  it('lists the cluster nodes in a table: the writer, sequences, lag; again on each tick', async () => {
    const cluster: ClusterStatus = {
      node: 'n2',
      role: 'replica',
      writer: 'n1',
      logSeq: 120,
      appliedSeq: 117,
      lag: 3,
      nodes: [
        { name: 'n1', advertise: 'https://n1:8443', role: 'writer', appliedSeq: 120, lag: 0, lastSeenAt: 9_000 },
        { name: 'n2', advertise: 'https://n2:8443', role: 'replica', appliedSeq: 117, lag: 3, lastSeenAt: 10_000 },
        { name: 'n3', advertise: 'https://n3:8443', role: 'replica', appliedSeq: 120, lag: 0, lastSeenAt: 6_000 },
      ],
    }
    const api = fakeApi(totals(), cluster)
    const { events } = renderDashboard(api)
    const panel = await screen.findByRole('region', { name: 'Cluster' })
    const table = within(panel).getByRole('table', { name: /Cluster nodes/ })
    expect(within(table).getAllByRole('columnheader').map((c) => c.textContent)).toEqual(['Node', 'Role', 'Applied', 'Lag', 'Last seen'])
    const rows = within(table).getAllByRole('row').slice(1)
    expect(rows.map((r) => Array.from(r.children).map((c) => c.textContent))).toEqual([
      ['n1', 'Writer', '120', 'up to date', 'just now'],
      ['n2 (this node)', 'Replica', '117', '3 behind', 'just now'],
      ['n3', 'Replica', '120', 'up to date', '4 s ago'],
    ])
    expect(within(panel).getByText('Writer', { selector: 'dt' }).nextElementSibling?.textContent).toBe('n1')
    expect(within(panel).getByText('Log sequence', { selector: 'dt' }).nextElementSibling?.textContent).toBe('120')
    expect(within(panel).getByText('Applied here', { selector: 'dt' }).nextElementSibling?.textContent).toBe('117 (3 behind)')
    const before = api.getMonitor.mock.calls.length
    act(() => events.emit({ type: 'MONITOR_TICK', timestamp: 2000, monitor: totals({ now: 2000 }) }))
    await vi.waitFor(() => expect(api.getMonitor.mock.calls.length).toBe(before + 1))
  })

  it('sorts Connections by a column header button (aria-sort) and filters them', async () => {
    renderDashboard()
    const user = userEvent.setup()
    await user.click(screen.getByRole('tab', { name: 'Connections' }))
    const table = await screen.findByRole('table', { name: 'Live streams' })
    const users = () => within(table).getAllByRole('rowheader').map((c) => c.textContent)
    await within(table).findByText('carol')
    // Newest first by default.
    expect(users()).toEqual(['bob', 'alice', 'carol'])
    await user.click(within(table).getByRole('button', { name: 'User' }))
    expect(users()).toEqual(['alice', 'bob', 'carol'])
    expect(within(table).getByRole('columnheader', { name: /User/ }).getAttribute('aria-sort')).toBe('ascending')
    await user.click(within(table).getByRole('button', { name: /User/ }))
    expect(users()).toEqual(['carol', 'bob', 'alice'])
    expect(within(table).getByRole('columnheader', { name: /User/ }).getAttribute('aria-sort')).toBe('descending')
    await user.click(within(table).getByRole('button', { name: 'Events' }))
    expect(users()).toEqual(['alice', 'carol', 'bob'])
    expect(within(table).getByRole('columnheader', { name: /User/ }).hasAttribute('aria-sort')).toBe(false)
    await user.type(screen.getByRole('searchbox', { name: 'Filter streams' }), 'desk')
    expect(users()).toEqual(['bob'])
    expect(screen.getByRole('link', { name: 'Download CSV' }).getAttribute('href')).toBe('/api/admin/monitor/streams.csv')
  })
})
