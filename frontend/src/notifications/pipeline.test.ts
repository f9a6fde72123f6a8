import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Preferences } from '../api/types'
import type { BrowserNote } from './browserNotifier'
import { createNotifications, NotificationPipeline, type Attention } from './pipeline'
import { PreferencesStore, toastDurationMs } from './preferences'
import { SoundPlayer } from './sounds'
import { DrivenStream, eventFor, MemoryNotificationApi, note, prefs } from './testing'
import { ToastQueue } from './ToastQueue'

function setup(
  attention: Attention = { activeChatId: () => null, attending: () => false },
  iconOf?: (userId: string) => string | undefined,
) {
  const stream = new DrivenStream()
  stream.setState('live')
  const toasts = new ToastQueue()
  const sounds = new SoundPlayer(() => null)
  const playFor = vi.spyOn(sounds, 'playFor')
  const browserNotes: BrowserNote[] = []
  const browser = { notify: vi.fn((n: BrowserNote) => (browserNotes.push(n), true)) }
  const current: { preferences: Preferences | null } = { preferences: prefs() }
  const pipeline = new NotificationPipeline({
    stream,
    toasts,
    preferences: { get: () => current.preferences },
    sounds,
    browser,
    attention,
    iconOf,
  })
  pipeline.start()
  const titles = () => toasts.getSnapshot().visible.map((t) => t.title)
  return { stream, toasts, pipeline, playFor, browser, browserNotes, titles, current }
}

describe('NotificationPipeline', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('toasts, sounds and notifies the browser for a notification the server says to notify', () => {
    const { stream, titles, playFor, browserNotes, current } = setup()
    const n = note({ type: 'mention', title: 'Bob mentioned you in #general' })
    stream.emit(eventFor(n))
    expect(titles()).toEqual(['Bob mentioned you in #general'])
    expect(playFor).toHaveBeenCalledWith(n, current.preferences)
    expect(browserNotes).toEqual([
      { id: n.id, title: n.title, body: n.body, notify: true, link: '/chats/c1' },
    ])
  })

  it('gives the browser notification the avatar of whoever it is about', () => {
    const { stream, browserNotes } = setup(undefined, (id) => (id === 'u-bob' ? '/api/users/u-bob/avatar?v=3&size=64' : undefined))
    stream.emit(eventFor(note({ title: 'Bob in #general', actorId: 'u-bob' })))
    stream.emit(eventFor(note({ type: 'file', title: 'a.png is ready', actorId: 'u-nobody' })))
    expect(browserNotes.map((n) => n.icon)).toEqual(['/api/users/u-bob/avatar?v=3&size=64', undefined])
    expect('icon' in (browserNotes[1] as BrowserNote)).toBe(false)
  })

  it('does nothing visible or audible for a silenced notification', () => {
    const { stream, titles, playFor, browser } = setup()
    stream.emit(eventFor(note({ notify: false, reason: 'quiet hours 22:00–07:00 (Europe/Berlin)' })))
    expect(titles()).toEqual([])
    expect(playFor).not.toHaveBeenCalled()
    expect(browser.notify).not.toHaveBeenCalled()
  })

  it('skips messages of the chat the user is looking at, not those of other chats', () => {
    let attending = true
    const { stream, titles } = setup({ activeChatId: () => 'c1', attending: () => attending })
    stream.emit(eventFor(note({ chatId: 'c1' })))
    expect(titles()).toEqual([])
    stream.emit(eventFor(note({ chatId: 'c2', link: '/chats/c2', title: 'Ann in #ops' })))
    expect(titles()).toEqual(['Ann in #ops'])
    attending = false
    stream.emit(eventFor(note({ chatId: 'c1', title: 'Bob in #general' })))
    expect(titles()).toEqual(['Ann in #ops', 'Bob in #general'])
  })

  it('plays one sound per toast, not per grouped message', () => {
    const { stream, titles, playFor } = setup()
    for (let i = 0; i < 3; i++) stream.emit(eventFor(note()))
    expect(titles()).toEqual(['3 new messages in #general'])
    expect(playFor).toHaveBeenCalledTimes(1)
  })

  it('summarises the replay after a reconnect', () => {
    const { stream, titles } = setup()
    stream.setState('reconnecting')
    stream.setState('live')
    for (let i = 0; i < 4; i++) stream.emit(eventFor(note({ type: 'file', title: `f${i} is ready` })))
    vi.advanceTimersByTime(2000)
    expect(titles()).toEqual(['While you were away: 4 notifications'])
  })

  it('stops following the stream when stopped', () => {
    const { stream, titles, pipeline } = setup()
    pipeline.stop()
    stream.emit(eventFor(note()))
    expect(titles()).toEqual([])
    expect(stream.listenerCount).toBe(0)
  })
})

describe('PreferencesStore', () => {
  it('loads, follows PREFERENCES_CHANGED and saves', async () => {
    const api = new MemoryNotificationApi()
    api.preferences = prefs({ volume: 0.3 })
    const stream = new DrivenStream()
    const store = new PreferencesStore(api, stream)
    const listener = vi.fn()
    store.subscribe(listener)
    expect(store.get()).toBeNull()
    await store.start()
    expect(store.get()?.volume).toBe(0.3)

    stream.emit({ id: 'e1', type: 'PREFERENCES_CHANGED', timestamp: 1, preferences: prefs({ sounds: false }) })
    expect(store.get()?.sounds).toBe(false)

    const saved = await store.save(prefs({ native: false }))
    expect(api.putPreferences).toHaveBeenCalledWith(prefs({ native: false }))
    expect(saved.native).toBe(false)
    expect(store.get()?.native).toBe(false)
    expect(listener).toHaveBeenCalled()
  })

  it('keeps a pushed change over a slower load', async () => {
    const api = new MemoryNotificationApi()
    let answer: (p: Preferences) => void = () => {}
    api.getPreferences.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)))
    const stream = new DrivenStream()
    const store = new PreferencesStore(api, stream)
    const loading = store.start()
    stream.emit({ id: 'e1', type: 'PREFERENCES_CHANGED', timestamp: 1, preferences: prefs({ volume: 0.9 }) })
    answer(prefs({ volume: 0.1 }))
    await loading
    expect(store.get()?.volume).toBe(0.9)
  })

  it('rejects a save the server refuses, changing nothing', async () => {
    const api = new MemoryNotificationApi()
    api.putPreferences.mockRejectedValueOnce(new Error('Unknown time zone.'))
    const store = new PreferencesStore(api)
    await store.start()
    const before = store.get()
    await expect(store.save(prefs({ volume: 0.2 }))).rejects.toThrow('Unknown time zone.')
    expect(store.get()).toBe(before)
  })
})

describe('createNotifications', () => {
  afterEach(() => vi.useRealTimers())

  it('keeps toasts on screen as long as the preferences say, following PREFERENCES_CHANGED', async () => {
    const api = new MemoryNotificationApi()
    api.preferences = prefs({ toastSeconds: 3 })
    const stream = new DrivenStream()
    stream.setState('live')
    const n = createNotifications({ api, stream, browser: { notify: () => false }, sounds: new SoundPlayer(() => null) })
    expect(n.toasts.duration).toBe(6000) // the server's default until they load
    n.start()
    await vi.waitFor(() => expect(n.toasts.duration).toBe(3000))

    vi.useFakeTimers()
    stream.emit(eventFor(note({ title: 'Ann in #ops', chatId: 'c2', link: '/chats/c2' })))
    vi.advanceTimersByTime(2999)
    expect(n.toasts.getSnapshot().visible).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(n.toasts.getSnapshot().visible).toHaveLength(0)

    stream.emit({ id: 'e1', type: 'PREFERENCES_CHANGED', timestamp: 1, preferences: prefs({ toastSeconds: 30 }) })
    expect(n.toasts.duration).toBe(30_000)
    stream.emit(eventFor(note({ title: 'Bob in #dev', chatId: 'c3', link: '/chats/c3' })))
    vi.advanceTimersByTime(29_999)
    expect(n.toasts.getSnapshot().visible).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(n.toasts.getSnapshot().visible).toHaveLength(0)

    // A critical alert stays, whatever the duration.
    stream.emit(eventFor(note({ type: 'system', level: 'critical', title: 'Database down', chatId: undefined, link: undefined })))
    vi.advanceTimersByTime(120_000)
    expect(n.toasts.getSnapshot().visible.map((t) => t.title)).toEqual(['Database down'])
    n.stop()
  })

  it('reads a missing or out-of-range toastSeconds safely', () => {
    expect(toastDurationMs(null)).toBe(6000)
    expect(toastDurationMs({ toastSeconds: undefined as unknown as number })).toBe(6000)
    expect(toastDurationMs({ toastSeconds: 1 })).toBe(2000)
    expect(toastDurationMs({ toastSeconds: 90 })).toBe(60_000)
    expect(toastDurationMs({ toastSeconds: 10 })).toBe(10_000)
  })

  it('starts and stops everything together', async () => {
    const api = new MemoryNotificationApi(note())
    const stream = new DrivenStream()
    const n = createNotifications({ api, stream, browser: { notify: () => false }, sounds: new SoundPlayer(() => null) })
    n.start()
    await vi.waitFor(() => expect(n.center.getSnapshot().unread).toBe(1))
    await vi.waitFor(() => expect(n.preferences.get()).not.toBeNull())
    n.stop()
    expect(stream.listenerCount).toBe(0)
  })
})
