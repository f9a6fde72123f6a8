import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import { ada, chat, FakeChatStore, snapshot } from '../components/testFakes'
import { Workspace } from '../components/Workspace'
import { createNotifications } from './pipeline'
import { SoundPlayer } from './sounds'
import { DrivenStream, eventFor, MemoryNotificationApi, note, prefs } from './testing'

describe('Workspace with notifications', () => {
  afterEach(() => window.history.replaceState(null, '', '/'))

  it('dims the chats the preferences mute in the sidebar, live as PREFERENCES_CHANGED changes them', async () => {
    const api = new MemoryNotificationApi()
    api.preferences = prefs({ mutedChats: ['c2'] })
    const stream = new DrivenStream()
    stream.setState('live')
    const notifications = createNotifications({ api, stream, browser: { notify: () => false }, sounds: new SoundPlayer(() => null) })
    const chats = [chat('c1', 'general', [ada.id]), chat('c2', 'random', [ada.id])]
    render(
      <Workspace
        store={new FakeChatStore(snapshot({ chats }))}
        stream={stream}
        notifications={notifications}
        chatId={null}
        loadError={null}
        onRetryLoad={() => {}}
        createInvite={() => Promise.reject(new Error('not in this test'))}
        signOut={() => Promise.resolve()}
      />,
    )

    expect(await screen.findByRole('link', { name: 'random', description: 'muted' })).toBeDefined()
    expect(screen.getByRole('link', { name: 'general' }).closest('li')?.classList.contains('muted-chat')).toBe(false)

    act(() => stream.emit({ id: 'e1', type: 'PREFERENCES_CHANGED', preferences: prefs({ mutedChats: ['c1'] }), timestamp: 1 }))
    expect(screen.getByRole('link', { name: 'general', description: 'muted' }).closest('li')?.classList.contains('muted-chat')).toBe(true)
    expect(screen.getByRole('link', { name: 'random' }).getAttribute('aria-describedby')).toBeNull()
  })

  it('shows the bell and a task toast whose View Results opens the task page', async () => {
    const user = userEvent.setup()
    const api = new MemoryNotificationApi()
    const stream = new DrivenStream()
    stream.setState('live')
    const notifications = createNotifications({
      api,
      stream,
      browser: { notify: () => false },
      sounds: new SoundPlayer(() => null),
    })
    render(
      <Workspace
        store={new FakeChatStore(snapshot())}
        stream={stream}
        notifications={notifications}
        chatId={null}
        loadError={null}
        onRetryLoad={() => {}}
        createInvite={() => Promise.reject(new Error('not in this test'))}
        signOut={() => Promise.resolve()}
      />,
    )
    const banner = screen.getByRole('banner')
    expect(within(banner).getByRole('button', { name: 'Notifications, 0 unread' })).toBeDefined()
    await act(async () => {
      await Promise.resolve()
    })

    const n = note({ type: 'task', title: 'Task succeeded: nightly build', body: '42 tests passed', link: '/tasks/t1' })
    act(() =>
      stream.emit(
        eventFor(n, { task: { id: 't1', name: 'nightly build', status: 'succeeded', ownerId: 'u1', createdAt: 1 } }),
      ),
    )
    expect(within(banner).getByRole('button', { name: 'Notifications, 1 unread' })).toBeDefined()
    const toast = screen.getByRole('listitem', { name: 'Task succeeded: nightly build' })
    await user.click(within(toast).getByRole('button', { name: 'View Results' }))
    expect(window.location.pathname).toBe('/tasks/t1')
    // Opened from the toast as from the center: read, and the bell stops counting it.
    expect(api.markNotificationsRead).toHaveBeenCalledWith([n.id])
    expect(within(banner).getByRole('button', { name: 'Notifications, 0 unread' })).toBeDefined()
  })

  it('records a silenced notification in the center without a toast', async () => {
    const user = userEvent.setup()
    const stream = new DrivenStream()
    stream.setState('live')
    const notifications = createNotifications({
      api: new MemoryNotificationApi(),
      stream,
      browser: { notify: () => false },
      sounds: new SoundPlayer(() => null),
    })
    render(
      <Workspace
        store={new FakeChatStore(snapshot())}
        stream={stream}
        notifications={notifications}
        chatId={null}
        loadError={null}
        onRetryLoad={() => {}}
        createInvite={() => Promise.reject(new Error('not in this test'))}
        signOut={() => Promise.resolve()}
      />,
    )
    await act(async () => {
      await Promise.resolve()
    })
    act(() =>
      stream.emit(eventFor(note({ type: 'system', level: 'info', title: 'Maintenance tonight', notify: false, reason: 'quiet hours 22:00–07:00 (Europe/Berlin)', link: undefined, chatId: undefined }))),
    )
    expect(screen.queryByRole('region', { name: 'Toasts' })).toBeNull()
    await user.click(screen.getByRole('button', { name: 'Notifications, 1 unread' }))
    expect(screen.getByText('Silenced: quiet hours 22:00–07:00 (Europe/Berlin)')).toBeDefined()
  })
})
