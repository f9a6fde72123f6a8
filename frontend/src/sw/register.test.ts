import { describe, expect, it, vi } from 'vitest'
import { SAVED_COPY_MESSAGE } from './policy'
import { registerServiceWorker, SavedCopy, savedCopy, type ServiceWorkerContainerLike } from './register'

function fakeContainer(controller: unknown = null) {
  const listeners: ((event: MessageEvent) => void)[] = []
  const controllerChanges: (() => void)[] = []
  const register = vi.fn<ServiceWorkerContainerLike['register']>(() => Promise.resolve({}))
  const startMessages = vi.fn()
  const container: ServiceWorkerContainerLike = {
    register,
    addEventListener(type: 'message' | 'controllerchange', listener: (event: MessageEvent) => void) {
      if (type === 'message') listeners.push(listener)
      else controllerChanges.push(() => listener(new MessageEvent('controllerchange')))
    },
    startMessages,
    controller,
  }
  const post = (data: unknown) => {
    for (const listener of listeners) listener(new MessageEvent('message', { data }))
  }
  const takeControl = () => {
    for (const change of controllerChanges) change()
  }
  return { container, register, startMessages, post, takeControl }
}

describe('registerServiceWorker', () => {
  it('registers /sw.js for the whole origin and hears its saved-copy messages', () => {
    const { container, register, startMessages, post } = fakeContainer()
    expect(registerServiceWorker({ container, desktop: false, production: true })).toBe(true)
    expect(register).toHaveBeenCalledWith('/sw.js', { scope: '/' })
    expect(startMessages).toHaveBeenCalled()

    post({ type: 'something-else', cachedAt: 5 })
    expect(savedCopy.get()).toBeNull()
    post({ type: SAVED_COPY_MESSAGE, cachedAt: 1_700_000_000_000 })
    expect(savedCopy.get()).toBe(1_700_000_000_000)
    savedCopy.clear()
  })

  it('asks for the start-up data again when it first takes control of a running page', async () => {
    const { container, takeControl } = fakeContainer(null)
    const get = vi.fn<(url: string) => Promise<{ ok: boolean }>>(() => Promise.resolve({ ok: true }))
    registerServiceWorker({ container, desktop: false, production: true, fetch: get })
    expect(get).not.toHaveBeenCalled()
    takeControl()
    takeControl() // a later update of the worker: once is enough
    await vi.waitFor(() => expect(get.mock.calls).toEqual([['/api/me'], ['/api/chats'], ['/api/users']]))

    const signedOut = fakeContainer(null)
    const unauthorized = vi.fn<(url: string) => Promise<{ ok: boolean }>>(() => Promise.resolve({ ok: false }))
    registerServiceWorker({ container: signedOut.container, desktop: false, production: true, fetch: unauthorized })
    signedOut.takeControl()
    await Promise.resolve()
    await Promise.resolve()
    expect(unauthorized.mock.calls).toEqual([['/api/me']]) // nobody signed in: nothing to save

    const controlled = fakeContainer({})
    const none = vi.fn(() => Promise.resolve({ ok: true }))
    registerServiceWorker({ container: controlled.container, desktop: false, production: true, fetch: none })
    controlled.takeControl()
    expect(none).not.toHaveBeenCalled() // the worker saw this page's start-up
  })

  it('is skipped in the desktop app, in development and without service workers', () => {
    const { container, register } = fakeContainer()
    expect(registerServiceWorker({ container, desktop: true, production: true })).toBe(false)
    expect(registerServiceWorker({ container, desktop: false, production: false })).toBe(false)
    expect(register).not.toHaveBeenCalled()
    // jsdom has no navigator.serviceWorker.
    expect(registerServiceWorker({ desktop: false, production: true })).toBe(false)
  })

  it('reports a failed registration and goes on', async () => {
    const { container, register } = fakeContainer()
    register.mockRejectedValueOnce(new DOMException('insecure', 'SecurityError'))
    const warn = vi.fn()
    registerServiceWorker({ container, desktop: false, production: true, warn })
    await vi.waitFor(() => expect(warn).toHaveBeenCalledOnce())
  })
})

describe('SavedCopy', () => {
  it('keeps the oldest copy’s time until cleared, telling subscribers of each change', () => {
    const saved = new SavedCopy()
    const changes = vi.fn()
    saved.subscribe(changes)
    saved.report(2_000)
    saved.report(3_000) // newer: what is shown is still as old as 2 000
    saved.report(1_000)
    expect(saved.get()).toBe(1_000)
    expect(changes).toHaveBeenCalledTimes(2)
    saved.clear()
    saved.clear()
    expect(saved.get()).toBeNull()
    expect(changes).toHaveBeenCalledTimes(3)
  })
})
