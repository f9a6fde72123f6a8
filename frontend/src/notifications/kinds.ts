// What the notification pipeline derives from a server notification: its toast kind (nine), the
// words each kind is named by (icons.tsx draws their icons), and where it links to.
import type { Event, Notification, NotificationKind } from '../api/types'
import { chatPath, messagePath } from '../router'

/** The nine kinds of toast, each with its own icon and color. */
export type ToastKind =
  | 'message'
  | 'mention'
  | 'task-succeeded'
  | 'task-failed'
  | 'agent'
  | 'system-info'
  | 'system-warning'
  | 'system-critical'
  | 'file'

export const TOAST_KINDS: readonly ToastKind[] = [
  'message',
  'mention',
  'task-succeeded',
  'task-failed',
  'agent',
  'system-info',
  'system-warning',
  'system-critical',
  'file',
]

/** Every notification kind, in the order settings and filters show them. */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  'message',
  'mention',
  'reply',
  'task',
  'agent',
  'system',
  'file',
]

/** Plural labels, as the center's type filter shows them. */
export const KIND_LABELS: Record<NotificationKind, string> = {
  message: 'Messages',
  mention: 'Mentions',
  reply: 'Replies',
  task: 'Tasks',
  agent: 'Agents',
  system: 'System',
  file: 'Files',
}

/**
 * The toast kind of a notification: its type, refined by the system level and, for tasks, by the
 * task's status (from the event when there is one, else from the server's title "Task failed: …").
 */
export function toastKindOf(notification: Notification, event?: Pick<Event, 'task'>): ToastKind {
  switch (notification.type) {
    case 'message':
    case 'mention':
    case 'agent':
    case 'file':
      return notification.type
    // A reply is a message in a thread: it looks like one.
    case 'reply':
      return 'message'
    case 'task': {
      const failed = event?.task
        ? event.task.status === 'failed'
        : /^task failed\b/i.test(notification.title)
      return failed ? 'task-failed' : 'task-succeeded'
    }
    case 'system':
      if (notification.level === 'critical') return 'system-critical'
      if (notification.level === 'warning') return 'system-warning'
      return 'system-info'
  }
}

/** Each kind in words: the icon's meaning, and what a screen reader hears before a title that
 * does not say it already (see spokenTitle). */
export const TOAST_KIND_NAMES: Record<ToastKind, string> = {
  message: 'Message',
  mention: 'Mention',
  'task-succeeded': 'Task succeeded',
  'task-failed': 'Task failed',
  agent: 'Agent status',
  'system-info': 'System',
  'system-warning': 'System warning',
  'system-critical': 'Critical alert',
  file: 'File',
}

/**
 * What shows a title says its kind already: the server's titles do ("Task succeeded: Nightly
 * build", "alice in #general", "alice mentioned you in #general", "Deploy bot is busy", "File
 * report.pdf is ready"), and so do the batcher's group titles ("3 new messages in #general").
 * System alerts carry whatever title an admin wrote.
 */
const TITLE_SAYS_KIND: Record<ToastKind, RegExp> = {
  message: /\bmessages?\b| in #/i,
  mention: /\bmention/i,
  'task-succeeded': /\bsucceeded\b/i,
  'task-failed': /\bfailed\b/i,
  agent: /\bagents?\b|\bis (?:online|offline|busy|away)\b/i,
  'system-info': /\bsystem\b|\bnotifications\b/i,
  'system-warning': /\bwarning/i,
  'system-critical': /\bcritical\b/i,
  file: /\bfiles?\b/i,
}

/** The words that name the kind before a title that does not say it, else null. */
export function kindPrefix(kind: ToastKind, title: string): string | null {
  return TITLE_SAYS_KIND[kind].test(title) ? null : TOAST_KIND_NAMES[kind]
}

/**
 * A notification's title as a screen reader should hear it: the title alone when it says its
 * kind ("Task succeeded: Nightly build"), else with the kind before it ("Critical alert:
 * Database down"), never the kind twice.
 */
export function spokenTitle(kind: ToastKind, title: string): string {
  const prefix = kindPrefix(kind, title)
  return prefix === null ? title : `${prefix}: ${title}`
}

/** Where a notification leads. Task and chat links are the server's /tasks/{id} and /chats/{id}. */
export interface LinkTarget {
  taskId?: string
  chatId?: string
}

export function linkTarget(notification: Pick<Notification, 'link' | 'chatId'>): LinkTarget {
  const link = notification.link ?? ''
  const task = /^\/tasks\/([^/?#]+)/.exec(link)
  if (task?.[1]) return { taskId: decode(task[1]) }
  const chat = /^\/chats\/([^/?#]+)/.exec(link)
  if (chat?.[1]) return { chatId: decode(chat[1]) }
  return notification.chatId ? { chatId: notification.chatId } : {}
}

export function taskPath(taskId: string): string {
  return `/tasks/${encodeURIComponent(taskId)}`
}

/** The in-app path a notification opens, or null for none. Only same-origin paths pass. One
 * about a message opens its chat at the message (a reply: in its thread). */
export function linkPath(
  notification: Pick<Notification, 'link' | 'chatId' | 'messageId' | 'parentId'>,
): string | null {
  const { taskId, chatId } = linkTarget(notification)
  if (taskId !== undefined) return taskPath(taskId)
  if (chatId !== undefined && notification.messageId) {
    return messagePath(chatId, notification.messageId, notification.parentId)
  }
  if (chatId !== undefined) return chatPath(chatId)
  return null
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** "3 min ago" and the like, for the center's list. */
export function relativeTime(then: number, now: number): string {
  const seconds = Math.round((now - then) / 1000)
  if (seconds < 45) return 'just now'
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return minutes === 1 ? '1 min ago' : `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`
  const days = Math.round(hours / 24)
  if (days < 7) return days === 1 ? 'yesterday' : `${days} days ago`
  return new Date(then).toLocaleDateString()
}
