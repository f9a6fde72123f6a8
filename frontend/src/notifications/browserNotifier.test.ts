import { afterEach, describe, expect, it, vi } from 'vitest'
import { BrowserNotifier, isDesktopApp, permission, requestPermission, type NotifierEnv } from './browserNotifier'
import { note, prefs } from './testing'

function setup(env: Partial<NotifierEnv> = {}) {
  const shown: { title: string; options: NotificationOptions; onclick: ((e: Event) => void) | null; close: () => void }[] = []
  const navigate = vi.fn()
  const focus = vi.fn()
  const notifier = new BrowserNotifier({
    hidden: () => true,
    desktop: () => false,
    permission: () => 'granted',
    create: (title, options) => {
      const n: (typeof shown)[number] = { title, options, onclick: null, close: vi.fn() }
      shown.push(n)
      return n
    },
    navigate,
    focus,
    ...env,
  })
  return { notifier, shown, navigate, focus }
}

describe('BrowserNotifier', () => {
  afterEach(() => {
    delete (window as { runtime?: unknown }).runtime
  })

  it('shows title and body, tagged with the notification id, when the tab is hidden', () => {
    const { notifier, shown } = setup()
    const n = note({ title: 'Bob in #general', body: 'hi' })
    expect(notifier.notify(n, prefs())).toBe(true)
    expect(shown).toHaveLength(1)
    expect(shown[0]).toMatchObject({ title: 'Bob in #general', options: { body: 'hi', tag: n.id } })
  })

  it.each<[string, Partial<NotifierEnv>, ReturnType<typeof prefs>, boolean]>([
    ['the tab is visible', { hidden: () => false }, prefs(), true],
    ['in the desktop app', { desktop: () => true }, prefs(), true],
    ['permission is not granted', { permission: () => 'default' }, prefs(), true],
    ['permission is denied', { permission: () => 'denied' }, prefs(), true],
    ['native notifications are off', {}, prefs({ native: false }), true],
    ['the server decided silence', {}, prefs(), false],
  ])('shows nothing when %s', (_, env, preferences, notify) => {
    const { notifier, shown } = setup(env)
    expect(notifier.notify(note({ notify }), preferences)).toBe(false)
    expect(shown).toHaveLength(0)
  })

  it('focuses the window and opens the chat or task on click', () => {
    const { notifier, shown, navigate, focus } = setup()
    notifier.notify(note({ type: 'task', link: '/tasks/t%201' }), prefs())
    notifier.notify(note({ link: '/chats/c9' }), prefs())
    const event = new Event('click', { cancelable: true })
    shown[0]!.onclick!(event)
    expect(event.defaultPrevented).toBe(true)
    expect(focus).toHaveBeenCalledTimes(1)
    expect(navigate).toHaveBeenLastCalledWith('/tasks/t%201')
    expect(shown[0]!.close).toHaveBeenCalled()
    shown[1]!.onclick!(new Event('click'))
    expect(navigate).toHaveBeenLastCalledWith('/chats/c9')
  })

  it('survives a browser that refuses to construct notifications', () => {
    const { notifier } = setup({
      create: () => {
        throw new TypeError('Illegal constructor')
      },
    })
    expect(notifier.notify(note(), prefs())).toBe(false)
  })

  it('knows the desktop app by window.runtime', () => {
    expect(isDesktopApp()).toBe(false)
    ;(window as { runtime?: unknown }).runtime = {}
    expect(isDesktopApp()).toBe(true)
  })

  it('reports and requests the permission through the Notification API', async () => {
    expect(permission()).toBe('unsupported') // jsdom has none
    await expect(requestPermission()).resolves.toBe('unsupported')
    const requestPermissionMock = vi.fn(() => Promise.resolve('granted' as NotificationPermission))
    vi.stubGlobal('Notification', { permission: 'default', requestPermission: requestPermissionMock })
    expect(permission()).toBe('default')
    await expect(requestPermission()).resolves.toBe('granted')
  })
})
