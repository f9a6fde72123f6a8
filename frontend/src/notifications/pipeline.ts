// From the event stream to what the user sees and hears: every event that carries a notification
// the server decided should notify becomes a toast (batched, or summarised after a reconnect), a
// sound and, while the tab is hidden, a browser notification. The center records every entry,
// silent or not, on its own.
import type { Event, Preferences } from '../api/types'
import { parseRoute } from '../router'
import type { EventStream } from '../stream/types'
import { ToastBatcher, type BatcherOptions, type Presentation } from './batching'
import { BrowserNotifier, type BrowserNote } from './browserNotifier'
import type { CenterApi } from './NotificationCenterStore'
import { NotificationCenterStore } from './NotificationCenterStore'
import { PreferencesStore, toastDurationMs, type PreferencesApi } from './preferences'
import { SoundPlayer } from './sounds'
import { ToastQueue, type Timers } from './ToastQueue'

/** Where the user is: the open chat, and whether they are looking at this tab. */
export interface Attention {
  activeChatId(): string | null
  /** The document is visible and has focus. */
  attending(): boolean
}

export const browserAttention: Attention = {
  activeChatId: () => {
    const route = parseRoute(window.location.pathname)
    return route.page === 'chat' ? route.chatId : null
  },
  attending: () => document.visibilityState === 'visible' && document.hasFocus(),
}

export interface PipelineParts {
  stream: EventStream
  toasts: ToastQueue
  preferences: { get(): Preferences | null }
  sounds: Pick<SoundPlayer, 'playFor'>
  browser: { notify(note: BrowserNote, preferences: Preferences | null): boolean }
  attention?: Attention
  batcher?: Omit<BatcherOptions, 'onPresent'>
}

export class NotificationPipeline {
  private readonly parts: PipelineParts
  private readonly attention: Attention
  private batcher: ToastBatcher | null = null
  private unsubscribe: (() => void)[] = []

  constructor(parts: PipelineParts) {
    this.parts = parts
    this.attention = parts.attention ?? browserAttention
  }

  /** Follows the stream. Restartable. */
  start(): void {
    if (this.batcher !== null) return
    const { stream } = this.parts
    const batcher = new ToastBatcher(this.parts.toasts, {
      ...this.parts.batcher,
      onPresent: (p) => this.presented(p),
    })
    this.batcher = batcher
    batcher.connectionState(stream.info().state)
    this.unsubscribe = [
      stream.onInfo((info) => batcher.connectionState(info.state)),
      stream.onEvent((event) => this.handleEvent(event)),
    ]
  }

  stop(): void {
    for (const off of this.unsubscribe) off()
    this.unsubscribe = []
    this.batcher?.dispose()
    this.batcher = null
  }

  handleEvent(event: Event): void {
    const notification = event.notification
    if (!notification?.notify || this.batcher === null) return
    // The user is reading that chat right now: the message is on screen already.
    if (
      notification.type === 'message' &&
      notification.chatId !== undefined &&
      notification.chatId === this.attention.activeChatId() &&
      this.attention.attending()
    ) {
      return
    }
    this.batcher.add(notification, event)
  }

  private presented(p: Presentation): void {
    const preferences = this.parts.preferences.get()
    // A group that grows stays quiet: one sound per toast.
    if (p.isNew) this.parts.sounds.playFor(p.notification, preferences)
    this.parts.browser.notify(
      { id: p.tag, title: p.title, body: p.body, notify: true, link: p.link },
      preferences,
    )
  }
}

/** Everything the notification features of one signed-in user need, started together. */
export interface Notifications {
  center: NotificationCenterStore
  preferences: PreferencesStore
  toasts: ToastQueue
  sounds: SoundPlayer
  pipeline: NotificationPipeline
  /** Loads history and preferences and follows the stream. Restartable after stop. */
  start(): void
  stop(): void
}

export interface NotificationsOptions {
  api: CenterApi & PreferencesApi
  stream: EventStream
  /** A chat's title for grouped toasts (chatTitle). */
  chatTitle?: (chatId: string) => string | undefined
  browser?: PipelineParts['browser']
  sounds?: SoundPlayer
  attention?: Attention
  timers?: Timers
}

export function createNotifications({
  api,
  stream,
  chatTitle,
  browser,
  sounds = new SoundPlayer(),
  attention,
  timers,
}: NotificationsOptions): Notifications {
  const center = new NotificationCenterStore(api, stream)
  const preferences = new PreferencesStore(api, stream)
  const toasts = new ToastQueue({ timers, durationMs: toastDurationMs(preferences.get()) })
  // Toasts stay as long as the preferences say, as loaded and as PREFERENCES_CHANGED pushes them.
  let followDuration: (() => void) | null = null
  const pipeline = new NotificationPipeline({
    stream,
    toasts,
    preferences,
    sounds,
    browser: browser ?? new BrowserNotifier(),
    attention,
    batcher: { chatTitle, timers },
  })
  return {
    center,
    preferences,
    toasts,
    sounds,
    pipeline,
    start() {
      followDuration ??= preferences.subscribe(() => {
        const loaded = preferences.get()
        if (loaded) toasts.setDuration(toastDurationMs(loaded))
      })
      pipeline.start()
      void center.start()
      void preferences.start()
    },
    stop() {
      followDuration?.()
      followDuration = null
      pipeline.stop()
      center.stop()
      preferences.stop()
      toasts.clear()
    },
  }
}
