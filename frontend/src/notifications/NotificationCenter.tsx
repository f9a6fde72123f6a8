// The notification center: a bell in the app bar with the unread count, opening a panel with the
// history (search, type filter, read/unread, mark all read, clear all, "Load older"). Silenced
// entries say why the server kept them quiet.
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react'
import type { Notification, NotificationKind } from '../api/types'
import { navigate } from '../router'
import { isDesktopApp, permission, requestPermission, type PermissionState } from './browserNotifier'
import { KindIcon } from './icons'
import { KIND_LABELS, linkPath, NOTIFICATION_KINDS, relativeTime, kindPrefix, toastKindOf } from './kinds'
import type { NotificationCenterStore } from './NotificationCenterStore'
import type { PreferencesStore } from './preferences'
import { useExternalStore } from './useExternalStore'

interface NotificationBellProps {
  center: NotificationCenterStore
  /** For the browser-notification prompt; omitted, no prompt. */
  preferences?: PreferencesStore
  open: boolean
  onOpenChange: (open: boolean) => void
  /** Opens an in-app path (router.navigate by default). */
  go?: (path: string) => void
}

/** "Notifications, 3 unread", "Notifications, 99+ unread". */
export function unreadLabel(unread: number, capped: boolean): string {
  return `Notifications, ${badgeText(unread, capped)} unread`
}

function badgeText(unread: number, capped: boolean): string {
  return capped || unread > 99 ? '99+' : String(unread)
}

export function NotificationBell({ center, preferences, open, onOpenChange, go = navigate }: NotificationBellProps) {
  const { unread, unreadCapped } = useExternalStore(center)
  const buttonRef = useRef<HTMLButtonElement>(null)
  const panelId = useId()
  return (
    <div className="bell-wrap">
      <button
        ref={buttonRef}
        type="button"
        className="bell"
        aria-label={unreadLabel(unread, unreadCapped)}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        aria-haspopup="dialog"
        onClick={() => onOpenChange(!open)}
      >
        <BellIcon />
        {unread > 0 && (
          <span className="bell-badge" aria-hidden="true">
            {badgeText(unread, unreadCapped)}
          </span>
        )}
      </button>
      {open && (
        <NotificationPanel
          id={panelId}
          center={center}
          preferences={preferences}
          go={go}
          onClose={(returnFocus) => {
            onOpenChange(false)
            if (returnFocus) buttonRef.current?.focus()
          }}
          bell={buttonRef}
        />
      )}
    </div>
  )
}

function BellIcon() {
  return (
    <svg aria-hidden="true" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  )
}

interface PanelProps {
  id: string
  center: NotificationCenterStore
  preferences?: PreferencesStore
  go: (path: string) => void
  /** returnFocus: put focus back on the bell (Escape, Close), not when a click went elsewhere. */
  onClose: (returnFocus: boolean) => void
  bell: React.RefObject<HTMLButtonElement | null>
}

const SEARCH_DELAY_MS = 250

function NotificationPanel({ id, center, preferences, go, onClose, bell }: PanelProps) {
  const snapshot = useExternalStore(center)
  const { items, filter, hasMore, loading, loadingOlder, error } = snapshot
  const titleId = useId()
  const panelRef = useRef<HTMLDivElement>(null)
  const searchRef = useRef<HTMLInputElement>(null)
  const [query, setQuery] = useState(filter.q)
  const [confirmingClear, setConfirmingClear] = useState(false)
  const [now, setNow] = useState(() => Date.now())

  // Focus moves into the panel when it opens.
  useLayoutEffect(() => {
    searchRef.current?.focus()
  }, [])

  // Relative times stay current while open.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000)
    return () => clearInterval(timer)
  }, [])

  // The search goes to the server once typing pauses.
  useEffect(() => {
    if (query === filter.q) return
    const timer = setTimeout(() => void center.setFilter({ q: query }), SEARCH_DELAY_MS)
    return () => clearTimeout(timer)
  }, [center, query, filter.q])

  // A click outside the panel (and the bell, which toggles it) closes it.
  useEffect(() => {
    function onPointerDown(event: PointerEvent) {
      const target = event.target as Node | null
      if (panelRef.current?.contains(target) || bell.current?.contains(target)) return
      onClose(false)
    }
    document.addEventListener('pointerdown', onPointerDown)
    return () => document.removeEventListener('pointerdown', onPointerDown)
  }, [onClose, bell])

  function open(entry: Notification) {
    if (!entry.read) void center.markRead([entry.id]).catch(() => {})
    const path = linkPath(entry)
    if (path !== null) {
      onClose(false)
      go(path)
    }
  }

  const filtered = filter.type !== null || filter.q.trim() !== ''

  return (
    <div
      ref={panelRef}
      id={id}
      role="dialog"
      aria-labelledby={titleId}
      className="notification-panel"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          event.stopPropagation()
          if (confirmingClear) setConfirmingClear(false)
          else onClose(true)
        }
      }}
    >
      <div className="panel-header">
        <h2 id={titleId}>Notifications</h2>
        <div className="panel-header-actions">
          <button
            type="button"
            className="secondary small"
            disabled={snapshot.unread === 0}
            onClick={() => void center.markAllRead().catch(() => {})}
          >
            Mark all read
          </button>
          <button
            type="button"
            className="secondary small"
            disabled={items.length === 0 && !filtered}
            onClick={() => setConfirmingClear(true)}
          >
            Clear all
          </button>
          <button type="button" className="secondary small panel-close" aria-label="Close notifications" onClick={() => onClose(true)}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
      </div>
      {confirmingClear && (
        <ClearConfirmation
          onConfirm={async () => {
            try {
              await center.clear()
            } catch {
              // The store shows the error.
            }
            setConfirmingClear(false)
          }}
          onCancel={() => setConfirmingClear(false)}
        />
      )}
      <div className="panel-filters">
        <label className="visually-hidden" htmlFor={`${id}-q`}>
          Search notifications
        </label>
        <input
          ref={searchRef}
          id={`${id}-q`}
          type="search"
          placeholder="Search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <label className="visually-hidden" htmlFor={`${id}-type`}>
          Type
        </label>
        <select
          id={`${id}-type`}
          value={filter.type ?? ''}
          onChange={(event) =>
            void center.setFilter({ type: event.target.value === '' ? null : (event.target.value as NotificationKind) })
          }
        >
          <option value="">All</option>
          {NOTIFICATION_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {KIND_LABELS[kind]}
            </option>
          ))}
        </select>
      </div>
      {preferences && <PermissionPrompt preferences={preferences} />}
      {error && (
        <p className="panel-error error" role="alert">
          {error}
        </p>
      )}
      <div className="panel-list" aria-busy={loading}>
        {loading && items.length === 0 ? (
          <p className="panel-empty muted">Loading…</p>
        ) : items.length === 0 ? (
          <p className="panel-empty muted">{filtered ? 'No notifications match.' : 'No notifications yet.'}</p>
        ) : (
          <ul aria-label="Notification history" className="entries">
            {items.map((entry) => (
              <Entry
                key={entry.id}
                entry={entry}
                now={now}
                onOpen={() => open(entry)}
                onToggleRead={() =>
                  void (entry.read ? center.markUnread([entry.id]) : center.markRead([entry.id])).catch(() => {})
                }
              />
            ))}
          </ul>
        )}
        {hasMore && (
          <div className="panel-more">
            <button type="button" className="load-older" disabled={loadingOlder} onClick={() => void center.loadOlder()}>
              {loadingOlder ? 'Loading…' : 'Load older'}
            </button>
          </div>
        )}
      </div>
    </div>
  )
}

interface EntryProps {
  entry: Notification
  now: number
  onOpen: () => void
  onToggleRead: () => void
}

function Entry({ entry, now, onOpen, onToggleRead }: EntryProps) {
  const kind = toastKindOf(entry)
  const titleId = useId()
  const detailsId = useId()
  // Named by what it shows (state and kind before the title, hidden), described by the rest: the
  // button holds only the title, so its name contains all its visible text (WCAG 2.5.3), and its
  // ::after stretches over the whole entry, so a click anywhere on it opens it.
  const kindSaid = kindPrefix(kind, entry.title)
  const hidden = [entry.read ? '' : 'Unread:', kindSaid === null ? '' : `${kindSaid}:`].filter(Boolean).join(' ')
  return (
    <li className={`entry toast-${kind}${entry.read ? '' : ' unread'}${entry.notify ? '' : ' silenced'}`}>
      <span className="entry-icon" aria-hidden="true">
        <KindIcon kind={kind} size={15} />
      </span>
      <span className="entry-text">
        <button type="button" className="entry-open" aria-describedby={detailsId} onClick={onOpen}>
          {hidden && <span className="visually-hidden">{hidden}</span>}
          {hidden && ' '}
          <span className="entry-title" id={titleId} dir="auto">
            {entry.title}
          </span>
        </button>
        <span className="entry-details" id={detailsId}>
          {entry.body && <span className="entry-body" dir="auto">
              {entry.body}
            </span>}
          {!entry.notify && entry.reason && <span className="entry-silenced">Silenced: {entry.reason}</span>}
          {entry.notify && entry.brokeThrough && entry.reason && (
            <span className="entry-broke-through">{entry.reason}</span>
          )}
          <time
            className="entry-time"
            dateTime={new Date(entry.createdAt).toISOString()}
            title={new Date(entry.createdAt).toLocaleString()}
          >
            {relativeTime(entry.createdAt, now)}
          </time>
        </span>
      </span>
      {!entry.read && <span className="unread-dot" aria-hidden="true" />}
      <button type="button" className="entry-toggle secondary small" aria-describedby={titleId} onClick={onToggleRead}>
        {entry.read ? 'Mark as unread' : 'Mark as read'}
      </button>
    </li>
  )
}

function ClearConfirmation({ onConfirm, onCancel }: { onConfirm: () => Promise<void>; onCancel: () => void }) {
  const cancelRef = useRef<HTMLButtonElement>(null)
  const [busy, setBusy] = useState(false)
  const textId = useId()
  useLayoutEffect(() => {
    cancelRef.current?.focus()
  }, [])
  return (
    <div className="panel-confirm" role="group" aria-labelledby={textId}>
      <p id={textId}>Clear all notifications? This cannot be undone.</p>
      <div className="dialog-actions">
        <button ref={cancelRef} type="button" className="secondary small" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="small danger"
          disabled={busy}
          onClick={() => {
            setBusy(true)
            void onConfirm()
          }}
        >
          {busy ? 'Clearing…' : 'Clear'}
        </button>
      </div>
    </div>
  )
}

/** Offers to turn browser notifications on while the browser has not been asked yet. */
function PermissionPrompt({ preferences }: { preferences: PreferencesStore }) {
  const { preferences: prefs } = useExternalStore(preferences)
  const [state, setState] = useState<PermissionState>(() => permission())
  if (isDesktopApp() || state !== 'default' || prefs?.native !== true) return null
  return (
    <div className="panel-permission">
      <p>Get notified while Herald is in the background.</p>
      <button type="button" className="secondary small" onClick={() => void requestPermission().then(setState)}>
        Turn on browser notifications
      </button>
    </div>
  )
}
