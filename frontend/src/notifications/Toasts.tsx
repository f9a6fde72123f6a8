// The toasts on screen, top-right below the headers (clear of the composer): each kind with its
// icon and color, entering and leaving with a short animation (none with prefers-reduced-motion).
// Screen readers hear each new or grown toast through live regions (critical alerts
// assertively), by its title, with the kind before it only when the title does not say it; the
// toasts themselves are a labelled region of buttons: hovering or focusing one holds its time,
// Escape dismisses it. Opening a toast's link marks its notifications read.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react'
import type { User } from '../api/types'
import { Avatar } from '../components/Avatar'
import { navigate } from '../router'
import { KindIcon } from './icons'
import { kindPrefix, spokenTitle } from './kinds'
import type { Toast, ToastAction, ToastQueue } from './ToastQueue'
import { useExternalStore } from './useExternalStore'

interface ToastContextValue {
  queue: ToastQueue
  /** The "Show all" action: opens the notification center. */
  onOpenCenter?: () => void
  /** Opens an in-app path (router.navigate by default). */
  go: (path: string) => void
  /** Marks notifications read (in the center) when a toast's link opened them. */
  onRead?: (notificationIds: string[]) => void
  /** The person or bot a toast is about (its actorId), for their avatar; unknown: the kind's icon. */
  person?: (userId: string) => User | undefined
}

const ToastContext = createContext<ToastContextValue | null>(null)

interface ToastProviderProps {
  queue: ToastQueue
  onOpenCenter?: () => void
  go?: (path: string) => void
  onRead?: (notificationIds: string[]) => void
  person?: (userId: string) => User | undefined
  children?: ReactNode
}

/** Makes the queue available and renders its toasts after the children. */
export function ToastProvider({ queue, onOpenCenter, go = navigate, onRead, person, children }: ToastProviderProps) {
  return (
    <ToastContext value={{ queue, onOpenCenter, go, onRead, person }}>
      {children}
      <ToastContainer />
    </ToastContext>
  )
}

/** The queue of the nearest ToastProvider. */
export function useToastQueue(): ToastQueue {
  const value = useContext(ToastContext)
  if (!value) throw new Error('useToastQueue outside ToastProvider')
  return value.queue
}

/** How long a leaving toast's exit animation runs (ms); index.css uses the same. */
const EXIT_MS = 200

export function ToastContainer() {
  const context = useContext(ToastContext)
  if (!context) throw new Error('ToastContainer outside ToastProvider')
  const { queue } = context
  const { visible, queued } = useExternalStore(queue)

  // Toasts that just left stay a moment, hidden from assistive technology, to animate out.
  const [previous, setPrevious] = useState(visible)
  const [leaving, setLeaving] = useState<Toast[]>([])
  if (previous !== visible) {
    const ids = new Set(visible.map((t) => t.id))
    const gone = previous.filter((t) => !ids.has(t.id))
    setPrevious(visible)
    if (gone.length > 0) setLeaving([...leaving, ...gone])
  }
  useEffect(() => {
    if (leaving.length === 0) return
    const timer = setTimeout(() => setLeaving([]), EXIT_MS)
    return () => clearTimeout(timer)
  }, [leaving])

  // What the live regions say: the newest toast shown or updated.
  const newest = [...visible].sort((a, b) => b.updatedAt - a.updatedAt || order(b) - order(a))
  const polite = newest.find((t) => t.kind !== 'system-critical')
  const critical = newest.find((t) => t.kind === 'system-critical')

  const all = [...visible, ...leaving.filter((t) => !visible.some((v) => v.id === t.id))].sort(
    (a, b) => order(a) - order(b),
  )
  const listRef = useRef<HTMLOListElement>(null)

  /** After a keyboard dismissal, focus goes to the next toast, so it is not lost. */
  function focusAfter(id: string) {
    const index = visible.findIndex((t) => t.id === id)
    const next = visible[index + 1] ?? visible[index - 1]
    queueMicrotask(() => {
      if (!next) return
      const el = listRef.current?.querySelector<HTMLElement>(`[data-toast-id="${next.id}"]`)
      el?.focus()
    })
  }

  return (
    <div className="toasts">
      <div role="status" aria-live="polite" aria-atomic="true" className="visually-hidden">
        {polite ? announcement(polite) : ''}
      </div>
      <div role="alert" aria-live="assertive" aria-atomic="true" className="visually-hidden">
        {critical ? announcement(critical) : ''}
      </div>
      <section aria-label="Toasts" className="toast-region" hidden={all.length === 0}>
        <ol className="toast-stack" ref={listRef}>
          {all.map((toast) => {
            const isLeaving = !visible.some((v) => v.id === toast.id)
            return (
              <ToastItem
                key={toast.id}
                toast={toast}
                actor={toast.actorId === undefined ? undefined : context.person?.(toast.actorId)}
                leaving={isLeaving}
                onDismiss={(byKeyboard) => {
                  if (byKeyboard) focusAfter(toast.id)
                  queue.dismiss(toast.id)
                }}
                onAction={(action) => {
                  queue.dismiss(toast.id)
                  if (action.path !== undefined) {
                    // Opened, as from the center: the bell stops counting them.
                    if (toast.notificationIds.length > 0) context.onRead?.(toast.notificationIds)
                    context.go(action.path)
                  } else if (action.command === 'open-center') context.onOpenCenter?.()
                }}
                onPause={() => queue.pause(toast.id)}
                onResume={() => queue.resume(toast.id)}
              />
            )
          })}
        </ol>
        {queued > 0 && <p className="toast-more">{queued} more waiting</p>}
      </section>
    </div>
  )
}

interface ToastItemProps {
  toast: Toast
  /** Whose avatar replaces the kind's icon. */
  actor?: User
  leaving: boolean
  onDismiss: (byKeyboard: boolean) => void
  onAction: (action: ToastAction) => void
  onPause: () => void
  onResume: () => void
}

function ToastItem({ toast, actor, leaving, onDismiss, onAction, onPause, onResume }: ToastItemProps) {
  const hovered = useRef(false)
  const focused = useRef(false)
  const prefix = kindPrefix(toast.kind, toast.title)
  // Groups and summaries say their count in the title ("3 new messages in #general").
  const showCount = toast.count > 1 && !new RegExp(`\\b${toast.count}\\b`).test(toast.title)
  return (
    <li
      className={`toast toast-${toast.kind}${leaving ? ' toast-leaving' : ''}`}
      data-toast-id={toast.id}
      tabIndex={-1}
      aria-hidden={leaving || undefined}
      inert={leaving}
      aria-label={spokenTitle(toast.kind, toast.title)}
      onMouseEnter={() => {
        hovered.current = true
        onPause()
      }}
      onMouseLeave={() => {
        hovered.current = false
        if (!focused.current) onResume()
      }}
      onFocus={() => {
        focused.current = true
        onPause()
      }}
      onBlur={(event) => {
        if (event.currentTarget.contains(event.relatedTarget)) return
        focused.current = false
        if (!hovered.current) onResume()
      }}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          event.stopPropagation()
          onDismiss(true)
        }
      }}
    >
      <span className={actor ? 'toast-icon toast-avatar' : 'toast-icon'} aria-hidden="true">
        {actor ? <Avatar user={actor} size={28} /> : <KindIcon kind={toast.kind} />}
      </span>
      <div className="toast-content">
        <p className="toast-title">
          {prefix !== null && <span className="visually-hidden">{`${prefix}: `}</span>}
          <bdi>{toast.title}</bdi>
          {showCount && <span className="toast-count"> ({toast.count})</span>}
        </p>
        {toast.body && <p className="toast-body" dir="auto">
            {toast.body}
          </p>}
        {toast.note && <p className="toast-note">{toast.note}</p>}
        {toast.actions.length > 0 && (
          <div className="toast-actions">
            {toast.actions.map((action) => (
              <button
                key={action.label}
                type="button"
                className="secondary small"
                onClick={() => onAction(action)}
              >
                {action.label}
              </button>
            ))}
          </div>
        )}
      </div>
      <button
        type="button"
        className="toast-close"
        aria-label={`Dismiss: ${toast.title}`}
        title="Dismiss (Esc)"
        onClick={(event) => onDismiss(event.detail === 0)}
      >
        <span aria-hidden="true">×</span>
      </button>
    </li>
  )
}

function announcement(toast: Toast): string {
  const text = spokenTitle(toast.kind, toast.title)
  return [text, toast.body, toast.note].filter(Boolean).join('. ')
}

/** The creation order of a toast ("toast-12" → 12). */
function order(toast: Toast): number {
  return Number(toast.id.slice(toast.id.lastIndexOf('-') + 1))
}
