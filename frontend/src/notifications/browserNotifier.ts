// Browser (Web Notifications API) notifications: only while the tab is hidden, only when the
// server decided to notify and the user wants native notifications, and never in the desktop app,
// whose Go side raises the OS notifications itself.
import type { Notification as HeraldNotification, Preferences } from '../api/types'
import { navigate } from '../router'
import { linkPath } from './kinds'

/** 'unsupported': the browser has no Notification API (or the page is not a secure context). */
export type PermissionState = NotificationPermission | 'unsupported'

/** Running inside the Wails desktop app, which defines window.runtime. */
export function isDesktopApp(): boolean {
  return typeof window !== 'undefined' && 'runtime' in window
}

function api(): typeof Notification | undefined {
  return typeof window !== 'undefined' && 'Notification' in window ? window.Notification : undefined
}

/** Whether the user allowed browser notifications for this site. */
export function permission(): PermissionState {
  return api()?.permission ?? 'unsupported'
}

/** Asks the user (the browser shows its prompt only from a user gesture, and only while the
 * state is 'default'); resolves to the state after. */
export async function requestPermission(): Promise<PermissionState> {
  const Api = api()
  if (!Api) return 'unsupported'
  try {
    return await Api.requestPermission()
  } catch {
    return Api.permission
  }
}

/** What one browser notification shows; id becomes its tag (a newer one replaces it). */
export type BrowserNote = Pick<HeraldNotification, 'id' | 'title' | 'body' | 'notify' | 'link' | 'chatId'> & {
  /** The image it shows: the avatar of whoever it is about. */
  icon?: string
}

/** The page and browser the notifier acts on, injectable for tests. */
export interface NotifierEnv {
  hidden(): boolean
  desktop(): boolean
  permission(): PermissionState
  create(title: string, options: NotificationOptions): Pick<Notification, 'onclick' | 'close'>
  focus(): void
  navigate(path: string): void
}

const browserEnv: NotifierEnv = {
  hidden: () => document.hidden,
  desktop: isDesktopApp,
  permission,
  create: (title, options) => new window.Notification(title, options),
  focus: () => window.focus(),
  navigate: (path) => navigate(path),
}

export class BrowserNotifier {
  private readonly env: NotifierEnv

  constructor(env: Partial<NotifierEnv> = {}) {
    this.env = { ...browserEnv, ...env }
  }

  /** Whether notify() would show this one now. */
  shouldShow(note: Pick<BrowserNote, 'notify'>, preferences: Preferences | null): boolean {
    return (
      note.notify &&
      preferences?.native === true &&
      this.env.hidden() &&
      !this.env.desktop() &&
      this.env.permission() === 'granted'
    )
  }

  /** Shows the notification if the rules allow; a click focuses the tab and opens its link.
   * Returns whether it was shown. */
  notify(note: BrowserNote, preferences: Preferences | null): boolean {
    if (!this.shouldShow(note, preferences)) return false
    let shown: Pick<Notification, 'onclick' | 'close'>
    try {
      shown = this.env.create(note.title, { body: note.body, tag: note.id, ...(note.icon !== undefined && { icon: note.icon }) })
    } catch {
      // Chrome on Android allows notifications only from a service worker: the toast must do.
      return false
    }
    const path = linkPath(note)
    shown.onclick = (event) => {
      event.preventDefault()
      this.env.focus()
      if (path !== null) this.env.navigate(path)
      shown.close()
    }
    return true
  }
}
