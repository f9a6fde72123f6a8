// The toasts on screen and those waiting for room. Framework-free, with injected timers so tests
// drive time: at most maxVisible toasts show at once, the rest wait in order (critical alerts
// first); each visible toast dismisses itself after durationMs unless it is sticky (critical) or
// paused (hovered or focused).
import type { ToastKind } from './kinds'

/** A button on a toast: it opens an in-app path, or the notification center. */
export interface ToastAction {
  label: string
  /** An in-app path, e.g. /tasks/{id}. */
  path?: string
  /** Opens the notification center instead of a path. */
  command?: 'open-center'
}

export interface ToastInput {
  kind: ToastKind
  title: string
  body?: string
  actions?: ToastAction[]
  /** How many notifications this toast stands for (a group or a catch-up summary); 1 alone. */
  count?: number
  /** Stays until dismissed. Default: critical alerts only. */
  sticky?: boolean
  /** The notifications it stands for: opening one of its paths marks them read. */
  notificationIds?: string[]
  /** The person or bot it is about (Notification.actorId): the toast shows their avatar. */
  actorId?: string
  /** Why it notified against the user's do not disturb or quiet hours (a sender chose "Notify
   * anyway": Notification.reason), shown under the body. */
  note?: string
}

export interface Toast extends Required<Pick<ToastInput, 'kind' | 'title' | 'count' | 'sticky'>> {
  id: string
  body: string
  actions: ToastAction[]
  notificationIds: string[]
  actorId?: string
  note?: string
  /** When it was shown or last updated (ms). */
  updatedAt: number
  /** Hovered or focused: its auto-dismiss waits. */
  paused: boolean
}

export interface ToastSnapshot {
  /** The toasts on screen, oldest first. */
  visible: Toast[]
  /** How many wait for room. */
  queued: number
}

/** setTimeout and friends, injectable for tests. */
export interface Timers {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The server's default toastSeconds (6), until the preferences load. */
export const DEFAULT_TOAST_DURATION_MS = 6000
/** The range the server accepts for toastSeconds (2–60), in ms. */
export const MIN_TOAST_DURATION_MS = 2000
export const MAX_TOAST_DURATION_MS = 60_000
export const DEFAULT_MAX_VISIBLE = 4
/** A toast resumed after a pause gets at least this long before it goes. */
const MIN_REMAINING_MS = 1500

export interface ToastQueueOptions {
  maxVisible?: number
  durationMs?: number
  timers?: Timers
}

interface Timing {
  handle: unknown
  /** When the timer fires (ms), or null while paused or sticky. */
  dueAt: number | null
  /** Left of its time while paused. */
  remaining: number
}

export class ToastQueue {
  private readonly maxVisible: number
  private durationMs: number
  private readonly timers: Timers
  private visible: Toast[] = []
  private waiting: Toast[] = []
  private readonly timing = new Map<string, Timing>()
  private snapshot: ToastSnapshot = { visible: [], queued: 0 }
  private readonly listeners = new Set<() => void>()
  private nextId = 1

  constructor({ maxVisible = DEFAULT_MAX_VISIBLE, durationMs = DEFAULT_TOAST_DURATION_MS, timers = realTimers }: ToastQueueOptions = {}) {
    this.maxVisible = Math.max(1, maxVisible)
    this.durationMs = durationMs
    this.timers = timers
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  getSnapshot(): ToastSnapshot {
    return this.snapshot
  }

  get duration(): number {
    return this.durationMs
  }

  /** Changes how long toasts stay (clamped to 2–60 s). Toasts on screen keep the time they have
   * had and get the rest of the new duration (at least a moment to be read); critical ones still
   * stay until dismissed. */
  setDuration(ms: number): void {
    const next = Number.isFinite(ms)
      ? Math.min(MAX_TOAST_DURATION_MS, Math.max(MIN_TOAST_DURATION_MS, Math.round(ms)))
      : DEFAULT_TOAST_DURATION_MS
    const delta = next - this.durationMs
    this.durationMs = next
    if (delta === 0) return
    const now = this.timers.now()
    for (const toast of this.visible) {
      const timing = this.timing.get(toast.id)
      if (!timing || toast.sticky) continue
      if (timing.dueAt === null) {
        // Paused: the rest it resumes with changes alike.
        timing.remaining = Math.max(MIN_REMAINING_MS, timing.remaining + delta)
        continue
      }
      this.timers.clearTimeout(timing.handle)
      this.schedule(toast.id, Math.max(MIN_REMAINING_MS, timing.dueAt - now + delta))
    }
  }

  /** Shows a toast now if there is room, else queues it. Returns its id. */
  show(input: ToastInput): string {
    const toast: Toast = {
      id: `toast-${this.nextId++}`,
      kind: input.kind,
      title: input.title,
      body: input.body ?? '',
      actions: input.actions ?? [],
      notificationIds: input.notificationIds ?? [],
      ...(input.actorId !== undefined && { actorId: input.actorId }),
      ...(input.note !== undefined && { note: input.note }),
      count: input.count ?? 1,
      sticky: input.sticky ?? input.kind === 'system-critical',
      updatedAt: this.timers.now(),
      paused: false,
    }
    if (this.visible.length < this.maxVisible) {
      this.visible.push(toast)
      this.startTimer(toast)
    } else if (toast.sticky) {
      // Critical alerts wait ahead of everything but earlier critical alerts.
      const at = this.waiting.findIndex((t) => !t.sticky)
      this.waiting.splice(at === -1 ? this.waiting.length : at, 0, toast)
    } else {
      this.waiting.push(toast)
    }
    this.publish()
    return toast.id
  }

  /** Whether the toast is visible or waiting. */
  has(id: string): boolean {
    return this.find(id) !== undefined
  }

  /** Changes a shown or waiting toast (a group grew) and restarts its time. */
  update(id: string, change: Partial<Omit<ToastInput, 'kind'>> & { kind?: ToastKind }): boolean {
    const found = this.find(id)
    if (!found) return false
    const updated: Toast = {
      ...found.toast,
      ...(change.kind !== undefined && { kind: change.kind }),
      ...(change.title !== undefined && { title: change.title }),
      ...(change.body !== undefined && { body: change.body }),
      ...(change.actions !== undefined && { actions: change.actions }),
      ...(change.count !== undefined && { count: change.count }),
      ...(change.sticky !== undefined && { sticky: change.sticky }),
      ...(change.notificationIds !== undefined && { notificationIds: change.notificationIds }),
      ...('actorId' in change && { actorId: change.actorId }),
      updatedAt: this.timers.now(),
    }
    found.list[found.index] = updated
    if (found.list === this.visible) {
      this.stopTimer(id)
      this.startTimer(updated)
    }
    this.publish()
    return true
  }

  dismiss(id: string): void {
    const found = this.find(id)
    if (!found) return
    found.list.splice(found.index, 1)
    this.stopTimer(id)
    this.promote()
    this.publish()
  }

  /** Hover or focus: the toast's time stands still. */
  pause(id: string): void {
    const toast = this.visible.find((t) => t.id === id)
    const timing = this.timing.get(id)
    if (!toast || toast.paused) return
    if (timing && timing.dueAt !== null) {
      this.timers.clearTimeout(timing.handle)
      timing.remaining = Math.max(0, timing.dueAt - this.timers.now())
      timing.dueAt = null
    }
    this.replace({ ...toast, paused: true })
  }

  resume(id: string): void {
    const toast = this.visible.find((t) => t.id === id)
    if (!toast?.paused) return
    const resumed = { ...toast, paused: false }
    const timing = this.timing.get(id)
    this.replace(resumed)
    if (timing && !resumed.sticky) {
      this.schedule(id, Math.max(MIN_REMAINING_MS, timing.remaining))
    }
  }

  /** Dismisses everything, shown and waiting. */
  clear(): void {
    for (const id of this.timing.keys()) this.stopTimer(id)
    this.visible = []
    this.waiting = []
    this.publish()
  }

  private replace(toast: Toast): void {
    const index = this.visible.findIndex((t) => t.id === toast.id)
    if (index === -1) return
    this.visible[index] = toast
    this.publish()
  }

  private find(id: string): { list: Toast[]; index: number; toast: Toast } | undefined {
    for (const list of [this.visible, this.waiting]) {
      const index = list.findIndex((t) => t.id === id)
      const toast = list[index]
      if (toast) return { list, index, toast }
    }
    return undefined
  }

  private promote(): void {
    while (this.visible.length < this.maxVisible) {
      const next = this.waiting.shift()
      if (!next) return
      const shown = { ...next, updatedAt: this.timers.now() }
      this.visible.push(shown)
      this.startTimer(shown)
    }
  }

  private startTimer(toast: Toast): void {
    if (toast.sticky) {
      this.timing.set(toast.id, { handle: null, dueAt: null, remaining: 0 })
      return
    }
    if (toast.paused) {
      this.timing.set(toast.id, { handle: null, dueAt: null, remaining: this.durationMs })
      return
    }
    this.schedule(toast.id, this.durationMs)
  }

  private schedule(id: string, ms: number): void {
    const handle = this.timers.setTimeout(() => this.dismiss(id), ms)
    this.timing.set(id, { handle, dueAt: this.timers.now() + ms, remaining: ms })
  }

  private stopTimer(id: string): void {
    const timing = this.timing.get(id)
    if (timing && timing.dueAt !== null) this.timers.clearTimeout(timing.handle)
    this.timing.delete(id)
  }

  private publish(): void {
    this.snapshot = { visible: [...this.visible], queued: this.waiting.length }
    for (const listener of [...this.listeners]) listener()
  }
}
