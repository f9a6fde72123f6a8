import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  chatPath,
  currentPath,
  messagePath,
  navigate,
  parseRoute,
  settingsPath,
  subscribeToLocation,
  taskPath,
} from './router'

describe('parseRoute', () => {
  it.each([
    ['/', { page: 'home' }],
    ['/join/abc123', { page: 'join', code: 'abc123' }],
    ['/join/abc123/', { page: 'join', code: 'abc123' }],
    ['/chats/01JDQ7X3K9V2M4T8E6R5N0PZ1A', { page: 'chat', chatId: '01JDQ7X3K9V2M4T8E6R5N0PZ1A' }],
    ['/chats/a%20b', { page: 'chat', chatId: 'a b' }],
    ['/chats/%E0', { page: 'chat', chatId: '%E0' }],
    ['/chats/', { page: 'home' }],
    ['/chats/a/b', { page: 'home' }],
    ['/elsewhere', { page: 'home' }],
    ['/settings', { page: 'settings' }],
    ['/settings/', { page: 'settings' }],
    ['/settings/x', { page: 'home' }],
    ['/tasks/01JTASK', { page: 'task', taskId: '01JTASK' }],
    ['/tasks/01JTASK/', { page: 'task', taskId: '01JTASK' }],
    ['/tasks/', { page: 'home' }],
    ['/tasks/a/b', { page: 'home' }],
    ['/admin', { page: 'admin', section: 'people' }],
    ['/admin/people', { page: 'admin', section: 'people' }],
    ['/admin/audit/', { page: 'admin', section: 'audit' }],
    ['/admin/team', { page: 'admin', section: 'team' }],
    ['/admin/invites', { page: 'admin', section: 'invites' }],
    ['/admin/nope', { page: 'home' }],
    ['/reset/abc-DEF_1', { page: 'reset', token: 'abc-DEF_1' }],
    ['/reset/', { page: 'home' }],
    ['/chats/c1?message=m1', { page: 'chat', chatId: 'c1', messageId: 'm1' }],
    ['/chats/c1?message=m2&thread=m1', { page: 'chat', chatId: 'c1', messageId: 'm2', threadId: 'm1' }],
    ['/chats/c1?thread=m1', { page: 'chat', chatId: 'c1' }],
    ['/chats/c1?message=', { page: 'chat', chatId: 'c1' }],
    ['/settings?message=m1', { page: 'settings' }],
  ])('%s', (path, route) => {
    expect(parseRoute(path)).toEqual(route)
  })

  it('round-trips chat paths', () => {
    expect(parseRoute(chatPath('x/y?'))).toEqual({ page: 'chat', chatId: 'x/y?' })
  })

  it('round-trips message links, with their thread', () => {
    expect(messagePath('c 1', 'm&1')).toBe('/chats/c%201?message=m%261')
    expect(parseRoute(messagePath('c 1', 'm&1'))).toEqual({ page: 'chat', chatId: 'c 1', messageId: 'm&1' })
    expect(parseRoute(messagePath('c1', 'm2', 'm1'))).toEqual({
      page: 'chat',
      chatId: 'c1',
      messageId: 'm2',
      threadId: 'm1',
    })
  })

  it('round-trips task and settings paths', () => {
    expect(parseRoute(taskPath('t/1 #'))).toEqual({ page: 'task', taskId: 't/1 #' })
    expect(parseRoute(settingsPath)).toEqual({ page: 'settings' })
  })
})

describe('navigate', () => {
  afterEach(() => window.history.replaceState(null, '', '/'))

  it('pushes or replaces a history entry and tells subscribers', () => {
    const listener = vi.fn<() => void>()
    const unsubscribe = subscribeToLocation(listener)
    const length = window.history.length

    navigate('/chats/c1')
    expect(window.location.pathname).toBe('/chats/c1')
    expect(window.history.length).toBe(length + 1)

    navigate('/chats/c2', { replace: true })
    expect(window.location.pathname).toBe('/chats/c2')
    expect(window.history.length).toBe(length + 1)
    expect(listener).toHaveBeenCalledTimes(2)

    // Going where we already are adds nothing.
    navigate('/chats/c2')
    expect(window.history.length).toBe(length + 1)
    expect(listener).toHaveBeenCalledTimes(2)

    unsubscribe()
    navigate('/')
    expect(listener).toHaveBeenCalledTimes(2)
  })

  it('tells a change of the query alone, such as a message link into the open chat', () => {
    const listener = vi.fn<() => void>()
    const unsubscribe = subscribeToLocation(listener)
    navigate('/chats/c1')
    navigate('/chats/c1?message=m1')
    expect(currentPath()).toBe('/chats/c1?message=m1')
    expect(listener).toHaveBeenCalledTimes(2)
    navigate('/chats/c1?message=m1')
    expect(listener).toHaveBeenCalledTimes(2)
    unsubscribe()
  })
})
