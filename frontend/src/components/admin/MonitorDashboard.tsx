import { useEffect, useId, useRef, useState, useSyncExternalStore, type KeyboardEvent } from 'react'
import type { ApiClient } from '../../api/client'
import type { User } from '../../api/types'
import type { EventStream } from '../../stream/types'
import { MonitorLive } from './monitorModel'
import { ConnectionsPanel, ErrorsPanel, OverviewPanel, TrendsPanel } from './MonitorPanels'
import './monitor.css'

/** What the monitor dashboard asks the server (a real ApiClient fits; tests pass a fake). */
export type MonitorApi = Pick<ApiClient, 'getMonitor' | 'getMonitorHistory' | 'watchMonitor' | 'unwatchMonitor'>

export const MONITOR_TABS = ['overview', 'connections', 'trends', 'errors'] as const
export type MonitorTab = (typeof MONITOR_TABS)[number]
const TAB_LABELS: Record<MonitorTab, string> = {
  overview: 'Overview',
  connections: 'Connections',
  trends: 'Trends',
  errors: 'Errors',
}

interface MonitorDashboardProps {
  api: MonitorApi
  stream: Pick<EventStream, 'onEvent' | 'onInfo'>
  users: Readonly<Record<string, User>>
}

/**
 * The admin page's Monitor section: the server's health in four tabs. While it is open it holds
 * the watch lease, so the Overview follows MONITOR_TICK (every 2 s) rather than polling.
 */
export function MonitorDashboard({ api, stream, users }: MonitorDashboardProps) {
  const ids = useId()
  const [tab, setTab] = useState<MonitorTab>('overview')
  const [live] = useState(() => new MonitorLive(api, stream))
  useEffect(() => {
    live.start()
    return () => live.stop()
  }, [live])
  const snapshot = useSyncExternalStore(live.subscribe, live.get)
  const tabRefs = useRef<Partial<Record<MonitorTab, HTMLButtonElement | null>>>({})

  function onKeyDown(event: KeyboardEvent<HTMLButtonElement>) {
    const at = MONITOR_TABS.indexOf(tab)
    const to =
      event.key === 'ArrowRight'
        ? MONITOR_TABS[(at + 1) % MONITOR_TABS.length]
        : event.key === 'ArrowLeft'
          ? MONITOR_TABS[(at + MONITOR_TABS.length - 1) % MONITOR_TABS.length]
          : event.key === 'Home'
            ? MONITOR_TABS[0]
            : event.key === 'End'
              ? MONITOR_TABS[MONITOR_TABS.length - 1]
              : undefined
    if (!to) return
    event.preventDefault()
    setTab(to)
    tabRefs.current[to]?.focus()
  }

  const stateText =
    snapshot.state === 'live' ? 'Live' : snapshot.state === 'paused' ? 'Paused — reconnecting' : 'Connecting…'

  return (
    <section className="admin-section monitor" aria-labelledby={`${ids}-heading`}>
      <div className="monitor-head">
        <h2 id={`${ids}-heading`}>Monitor</h2>
        {/* Not role=status: the app's connection indicator is the page's status. */}
        <p className={`monitor-live ${snapshot.state}`} aria-live="polite">
          <span className="monitor-dot" aria-hidden="true" />
          {stateText}
        </p>
      </div>
      {snapshot.problem && (
        <p className="error" role="alert">
          Live updates are unavailable: {snapshot.problem}
        </p>
      )}
      <div className="monitor-tabs" role="tablist" aria-label="Monitor views">
        {MONITOR_TABS.map((t) => (
          <button
            key={t}
            ref={(el) => {
              tabRefs.current[t] = el
            }}
            type="button"
            role="tab"
            id={`${ids}-tab-${t}`}
            aria-selected={t === tab}
            aria-controls={`${ids}-panel-${t}`}
            tabIndex={t === tab ? 0 : -1}
            className="monitor-tab"
            onClick={() => setTab(t)}
            onKeyDown={onKeyDown}
          >
            {TAB_LABELS[t]}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${ids}-panel-${tab}`} aria-labelledby={`${ids}-tab-${tab}`} className="monitor-panel">
        {tab === 'overview' && <OverviewPanel api={api} live={live} snapshot={snapshot} />}
        {tab === 'connections' && <ConnectionsPanel api={api} totals={snapshot.totals} users={users} />}
        {tab === 'trends' && <TrendsPanel api={api} totals={snapshot.totals} />}
        {tab === 'errors' && <ErrorsPanel api={api} totals={snapshot.totals} />}
      </div>
    </section>
  )
}
