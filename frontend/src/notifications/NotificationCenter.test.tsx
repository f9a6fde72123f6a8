import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { NotificationBell } from './NotificationCenter'
import { NotificationCenterStore } from './NotificationCenterStore'
import { DrivenStream, eventFor, MemoryNotificationApi, note } from './testing'

function Harness({ center, go }: { center: NotificationCenterStore; go: (path: string) => void }) {
  const [open, setOpen] = useState(false)
  return <NotificationBell center={center} open={open} onOpenChange={setOpen} go={go} />
}

async function setup(...entries: ReturnType<typeof note>[]) {
  const api = new MemoryNotificationApi(...entries)
  const stream = new DrivenStream()
  const center = new NotificationCenterStore(api, stream)
  await center.start()
  const go = vi.fn()
  render(<Harness center={center} go={go} />)
  return { api, stream, center, go, user: userEvent.setup() }
}

describe('NotificationBell', () => {
  it('names the unread count and follows live entries', async () => {
    const { stream } = await setup(note(), note({ read: true }))
    expect(screen.getByRole('button', { name: 'Notifications, 1 unread' })).toBeDefined()
    act(() => stream.emit(eventFor(note())))
    expect(screen.getByRole('button', { name: 'Notifications, 2 unread' })).toBeDefined()
  })

  it('opens a panel listing entries, with silenced ones saying why; Escape closes it', async () => {
    const quiet = note({ title: 'Ann in #ops', notify: false, reason: 'chat #ops is muted', read: true })
    const task = note({ type: 'task', title: 'Task failed: deploy', body: 'exit 1', link: '/tasks/t1', chatId: undefined })
    const { user } = await setup(quiet, task)
    const bell = screen.getByRole('button', { name: 'Notifications, 1 unread' })
    await user.click(bell)
    expect(bell.getAttribute('aria-expanded')).toBe('true')
    const panel = screen.getByRole('dialog', { name: 'Notifications' })
    expect(document.activeElement).toBe(within(panel).getByRole('searchbox', { name: 'Search notifications' }))
    const items = within(within(panel).getByRole('list', { name: 'Notification history' })).getAllByRole('listitem')
    expect(items).toHaveLength(2)
    expect(items[0]!.textContent).toContain('Task failed: deploy')
    // The server's title says the kind: it is not said twice.
    expect(within(items[0]!).getByRole('button', { name: 'Unread: Task failed: deploy' })).toBeDefined()
    expect(within(items[1]!).getByRole('button', { name: 'Ann in #ops' })).toBeDefined()
    expect(within(items[1]!).getByText('Silenced: chat #ops is muted')).toBeDefined()
    // Icons are SVG drawings (no emoji font needed), hidden from assistive technology.
    const icon = items[0]!.querySelector('.entry-icon svg')
    expect(icon?.getAttribute('data-kind')).toBe('task-failed')
    expect(icon?.closest('[aria-hidden="true"]')).not.toBeNull()

    await user.keyboard('{Escape}')
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(document.activeElement).toBe(bell)
  })

  it('says why an entry notified during quiet hours', async () => {
    const anyway = note({
      title: 'Alice in a direct message',
      reason: 'Alice chose to notify you during your quiet hours',
      brokeThrough: true,
    })
    const { user } = await setup(anyway)
    await user.click(screen.getByRole('button', { name: 'Notifications, 1 unread' }))
    const panel = screen.getByRole('dialog', { name: 'Notifications' })
    expect(within(panel).getByText('Alice chose to notify you during your quiet hours')).toBeDefined()
    // Part of the entry's description, so screen readers hear it with the title.
    const open = within(panel).getByRole('button', { name: 'Unread: Alice in a direct message' })
    expect(document.getElementById(open.getAttribute('aria-describedby')!)?.textContent).toContain('chose to notify you')
  })

  it('names the kind of an entry whose title does not say it', async () => {
    const alert = note({ type: 'system', level: 'critical', title: 'Database down', link: undefined, chatId: undefined })
    const { user } = await setup(alert)
    await user.click(screen.getByRole('button', { name: /^Notifications/ }))
    expect(screen.getByRole('button', { name: 'Unread: Critical alert: Database down' })).toBeDefined()
  })

  it('opens an entry: marks it read and goes to its link', async () => {
    const task = note({ type: 'task', title: 'Task succeeded: build', link: '/tasks/t1' })
    const { user, api, go } = await setup(task)
    await user.click(screen.getByRole('button', { name: /^Notifications/ }))
    await user.click(screen.getByRole('button', { name: /Task succeeded: build/ }))
    expect(api.markNotificationsRead).toHaveBeenCalledWith([task.id])
    expect(go).toHaveBeenCalledWith('/tasks/t1')
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(screen.getByRole('button', { name: 'Notifications, 0 unread' })).toBeDefined()
  })

  it('marks one read and unread, and all read', async () => {
    const a = note({ title: 'A' })
    const b = note({ title: 'B' })
    const { user, api } = await setup(a, b)
    await user.click(screen.getByRole('button', { name: /^Notifications/ }))
    const toggles = screen.getAllByRole('button', { name: 'Mark as read' })
    expect(toggles).toHaveLength(2)
    await user.click(toggles[0]!)
    expect(api.markNotificationsRead).toHaveBeenLastCalledWith([b.id])
    await user.click(screen.getByRole('button', { name: 'Mark as unread' }))
    expect(api.markNotificationsUnread).toHaveBeenLastCalledWith([b.id])
    await user.click(screen.getByRole('button', { name: 'Mark all read' }))
    expect(api.markNotificationsRead).toHaveBeenLastCalledWith('all')
    expect(screen.getByRole('button', { name: 'Notifications, 0 unread' })).toBeDefined()
  })

  it('clears all only after confirmation', async () => {
    const { user, api } = await setup(note())
    await user.click(screen.getByRole('button', { name: /^Notifications/ }))
    await user.click(screen.getByRole('button', { name: 'Clear all' }))
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel' }))
    await user.click(screen.getByRole('button', { name: 'Cancel' }))
    expect(api.clearNotifications).not.toHaveBeenCalled()
    await user.click(screen.getByRole('button', { name: 'Clear all' }))
    await user.click(screen.getByRole('button', { name: 'Clear' }))
    expect(api.clearNotifications).toHaveBeenCalled()
    expect(await screen.findByText('No notifications yet.')).toBeDefined()
  })

  it('filters by type and searches on the server', async () => {
    const { user, api } = await setup(
      note({ title: 'Bob in #general', body: 'deploy done?' }),
      note({ type: 'file', title: 'report.pdf is ready', link: '/chats/c1' }),
    )
    await user.click(screen.getByRole('button', { name: /^Notifications/ }))
    const type = screen.getByRole('combobox', { name: 'Type' })
    expect(within(type).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'All',
      'Messages',
      'Mentions',
      'Replies',
      'Tasks',
      'Agents',
      'System',
      'Files',
    ])
    await user.selectOptions(type, 'Files')
    expect(api.listNotifications).toHaveBeenLastCalledWith({ limit: 30, type: 'file' })
    await vi.waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(1))

    await user.selectOptions(type, 'All')
    await user.type(screen.getByRole('searchbox', { name: 'Search notifications' }), 'deploy')
    await vi.waitFor(() => expect(api.listNotifications).toHaveBeenLastCalledWith({ limit: 30, q: 'deploy' }))
    await vi.waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(1))
    expect(screen.getByRole('listitem').textContent).toContain('deploy done?')
  })
})
