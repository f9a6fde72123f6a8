// Turns notifications into toasts without flooding the screen:
//
// - Batching: a notification of the same toast kind (and, for messages, the same chat) as a toast
//   shown less than windowMs ago joins that toast, which becomes a group ("5 new messages in
//   #general") and starts its time again. The first one shows at once.
// - Catch-up: when the stream comes back live (after connecting, reconnecting, polling or being
//   offline) it replays what was missed. Notifications arriving within catchUpWindowMs of that are
//   held; more than catchUpThreshold of them become one summary toast ("While you were away: 7
//   notifications"), fewer show as usual. Critical alerts are never held, grouped or summarised.
import type { Event, Notification, NotificationKind } from '../api/types'
import type { ConnectionState } from '../stream/types'
import { chatPath } from '../router'
import { linkPath, linkTarget, taskPath, toastKindOf, type ToastKind } from './kinds'
import { realTimers, type Timers, type ToastAction, type ToastInput, type ToastQueue } from './ToastQueue'

export const DEFAULT_BATCH_WINDOW_MS = 1500
export const DEFAULT_CATCH_UP_WINDOW_MS = 2000
export const DEFAULT_CATCH_UP_THRESHOLD = 3

/** What the batcher did with a notification, for sounds and browser notifications. */
export interface Presentation {
  toastId: string
  kind: ToastKind
  title: string
  body: string
  /** A new toast (true), or an existing group or summary that grew (false). */
  isNew: boolean
  /** The notification that caused it (the latest of a group). */
  notification: Notification
  /** How many notifications the toast stands for. */
  count: number
  /** The in-app link the toast's main action opens, if any. */
  link?: string
  /** Stable for the toast's life (its first notification's id): a browser notification's tag,
   * so that a group's update replaces the notification shown for it. */
  tag: string
  /** Whose avatar it shows (the latest notification's actor). */
  actorId?: string
}

export interface BatcherOptions {
  windowMs?: number
  catchUpWindowMs?: number
  catchUpThreshold?: number
  timers?: Timers
  /** How group titles name a chat: a channel's "#name" or a DM's people ("Alice, Bob"; dm set);
   * the server's title "… in #name" is the fallback. */
  chatTitle?: (chatId: string) => ChatTitle | undefined
  /** Told of every toast shown or grown. */
  onPresent?: (presentation: Presentation) => void
}

/** A chat as toasts name it. */
export interface ChatTitle {
  /** "#general", or a DM's people: "Alice, Bob". */
  title: string
  dm: boolean
}

interface Group {
  toastId: string
  kind: ToastKind
  items: Notification[]
  lastAt: number
}

interface Held {
  notification: Notification
  event?: Pick<Event, 'task'>
}

const SUMMARY_WORDS: Record<NotificationKind, [string, string]> = {
  message: ['message', 'messages'],
  mention: ['mention', 'mentions'],
  reply: ['reply', 'replies'],
  task: ['task update', 'task updates'],
  agent: ['agent update', 'agent updates'],
  system: ['system alert', 'system alerts'],
  file: ['file', 'files'],
}

export class ToastBatcher {
  private readonly queue: ToastQueue
  private readonly windowMs: number
  private readonly catchUpWindowMs: number
  private readonly catchUpThreshold: number
  private readonly timers: Timers
  private readonly chatTitle: (chatId: string) => ChatTitle | undefined
  private readonly onPresent: (presentation: Presentation) => void
  private readonly groups = new Map<string, Group>()
  private state: ConnectionState | null = null
  private held: Held[] | null = null
  private catchUpTimer: unknown = null

  constructor(queue: ToastQueue, options: BatcherOptions = {}) {
    this.queue = queue
    this.windowMs = options.windowMs ?? DEFAULT_BATCH_WINDOW_MS
    this.catchUpWindowMs = options.catchUpWindowMs ?? DEFAULT_CATCH_UP_WINDOW_MS
    this.catchUpThreshold = options.catchUpThreshold ?? DEFAULT_CATCH_UP_THRESHOLD
    this.timers = options.timers ?? realTimers
    this.chatTitle = options.chatTitle ?? (() => undefined)
    this.onPresent = options.onPresent ?? (() => {})
  }

  /** The stream's state changed: coming back live opens a catch-up window. */
  connectionState(state: ConnectionState): void {
    const previous = this.state
    this.state = state
    if (state === 'live' && previous !== null && previous !== 'live') this.startCatchUp()
  }

  /** A notification to toast (the caller has checked notify). */
  add(notification: Notification, event?: Pick<Event, 'task'>): void {
    const kind = toastKindOf(notification, event)
    if (this.held !== null && kind !== 'system-critical') {
      this.held.push({ notification, event })
      return
    }
    this.present(notification, kind, event)
  }

  /** Cancels the catch-up window and forgets groups. */
  dispose(): void {
    if (this.catchUpTimer !== null) this.timers.clearTimeout(this.catchUpTimer)
    this.catchUpTimer = null
    this.held = null
    this.groups.clear()
  }

  private startCatchUp(): void {
    if (this.held !== null) return
    this.held = []
    this.catchUpTimer = this.timers.setTimeout(() => this.endCatchUp(), this.catchUpWindowMs)
  }

  private endCatchUp(): void {
    const held = this.held ?? []
    this.held = null
    this.catchUpTimer = null
    if (held.length > this.catchUpThreshold) {
      this.summarise(held.map((h) => h.notification))
      return
    }
    for (const { notification, event } of held) this.present(notification, toastKindOf(notification, event), event)
  }

  private summarise(items: Notification[]): void {
    const counts = new Map<NotificationKind, number>()
    for (const n of items) counts.set(n.type, (counts.get(n.type) ?? 0) + 1)
    const parts = [...counts].map(([type, count]) => {
      const [one, many] = SUMMARY_WORDS[type]
      return `${count} ${count === 1 ? one : many}`
    })
    const title = `While you were away: ${items.length} notifications`
    const body = parts.join(', ')
    const latest = items.at(-1) as Notification
    const input: ToastInput = {
      kind: 'system-info',
      title,
      body,
      count: items.length,
      actions: [{ label: 'Show all', command: 'open-center' }],
      notificationIds: items.map((n) => n.id),
    }
    const toastId = this.queue.show(input)
    this.onPresent({
      toastId,
      kind: 'system-info',
      title,
      body,
      isNew: true,
      notification: latest,
      count: items.length,
      tag: `catch-up-${latest.id}`,
    })
  }

  private present(notification: Notification, kind: ToastKind, event?: Pick<Event, 'task'>): void {
    const now = this.timers.now()
    const key = groupKey(notification, kind)
    const group = key === null ? undefined : this.groups.get(key)
    if (key !== null && group && now - group.lastAt <= this.windowMs && this.queue.has(group.toastId)) {
      group.items.push(notification)
      group.lastAt = now
      const input = this.groupInput(group)
      this.queue.update(group.toastId, input)
      this.onPresent({
        toastId: group.toastId,
        kind,
        title: input.title,
        body: input.body ?? '',
        isNew: false,
        notification,
        count: group.items.length,
        link: primaryPath(input.actions),
        tag: (group.items[0] as Notification).id,
        actorId: input.actorId,
      })
      return
    }
    const input = singleInput(notification, kind, event)
    const toastId = this.queue.show(input)
    if (key !== null) this.groups.set(key, { toastId, kind, items: [notification], lastAt: now })
    this.prune(now)
    this.onPresent({
      toastId,
      kind,
      title: input.title,
      body: input.body ?? '',
      isNew: true,
      notification,
      count: 1,
      link: primaryPath(input.actions),
      tag: notification.id,
      actorId: input.actorId,
    })
  }

  private groupInput(group: Group): ToastInput {
    const { items, kind } = group
    const n = items.length
    const latest = items.at(-1) as Notification
    const chatIds = new Set(items.map((i) => i.chatId ?? ''))
    const chatId = chatIds.size === 1 ? latest.chatId : undefined
    const where = chatId && (kind === 'message' || kind === 'mention') ? ` ${this.where(chatId, latest)}` : ''
    const titles: Record<ToastKind, string> = {
      message: `${n} new messages${where}`,
      mention: `${n} new mentions${where}`,
      'task-succeeded': `${n} tasks succeeded`,
      'task-failed': `${n} tasks failed`,
      agent: `${n} agent status changes`,
      'system-info': `${n} system notifications`,
      'system-warning': `${n} system warnings`,
      'system-critical': `${n} critical alerts`,
      file: `${n} files processed`,
    }
    const actions: ToastAction[] = chatId
      ? [{ label: 'Open chat', path: `/chats/${encodeURIComponent(chatId)}` }]
      : [{ label: 'Show all', command: 'open-center' }]
    return {
      title: titles[kind],
      body: latest.type === 'message' || latest.type === 'mention' ? latest.body : latest.title,
      count: n,
      actions,
      kind,
      notificationIds: items.map((i) => i.id),
      actorId: latest.actorId,
    }
  }

  /** "in #general", "from Alice" (a DM), or from the server's title ("… in #name", "… in a direct
   * message"). */
  private where(chatId: string, sample: Notification): string {
    const known = this.chatTitle(chatId)
    if (known) return known.dm ? `from ${known.title}` : `in ${known.title}`
    const fromTitle = / (in (?:#.+|a direct message))$/.exec(sample.title)
    return fromTitle?.[1] ?? 'in a chat'
  }

  /** Forgets groups whose window has passed. */
  private prune(now: number): void {
    for (const [key, group] of this.groups) {
      if (now - group.lastAt > this.windowMs) this.groups.delete(key)
    }
  }
}

/** Which notifications may group together; null: never (critical alerts). */
function groupKey(notification: Notification, kind: ToastKind): string | null {
  // A message that broke through quiet hours stands alone: its reason is its own.
  if (kind === 'system-critical' || brokeThrough(notification)) return null
  if (kind === 'message') return `message:${notification.chatId ?? ''}`
  return kind
}

/** The toast for one notification, with View Results for tasks and Open chat (at the message)
 * for chats. */
export function singleInput(notification: Notification, kind: ToastKind, event?: Pick<Event, 'task'>): ToastInput {
  const target = linkTarget(notification)
  const taskId = event?.task?.id ?? target.taskId
  const actions: ToastAction[] = []
  if (notification.type === 'task' && taskId !== undefined) {
    actions.push({ label: 'View Results', path: taskPath(taskId) })
  } else if (target.chatId !== undefined) {
    // At the message it is about (a reply: in its thread), as the notification center opens it.
    actions.push({ label: 'Open chat', path: linkPath(notification) ?? chatPath(target.chatId) })
  }
  return {
    kind,
    title: notification.title,
    body: notification.body,
    actions,
    count: 1,
    notificationIds: [notification.id],
    actorId: notification.actorId,
    ...(brokeThrough(notification) && { note: notification.reason }),
  }
}

/** Whether it notified during do not disturb or quiet hours because its sender chose "Notify
 * anyway" (the reason says who). */
function brokeThrough(notification: Notification): boolean {
  return notification.notify && notification.brokeThrough === true && notification.reason !== ''
}

function primaryPath(actions: ToastAction[] | undefined): string | undefined {
  return actions?.find((a) => a.path !== undefined)?.path
}
