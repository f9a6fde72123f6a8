import { act, fireEvent, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { User } from '../api/types'
import { ToastProvider } from './Toasts'
import { ToastQueue } from './ToastQueue'

function renderToasts(
  queue = new ToastQueue(),
  props: {
    onOpenCenter?: () => void
    go?: (path: string) => void
    onRead?: (ids: string[]) => void
    person?: (id: string) => User | undefined
  } = {},
) {
  const go = props.go ?? vi.fn()
  const onRead = props.onRead ?? vi.fn()
  render(<ToastProvider queue={queue} go={go} onOpenCenter={props.onOpenCenter} onRead={onRead} person={props.person} />)
  return { queue, go, onRead }
}

describe('ToastContainer', () => {
  afterEach(() => vi.useRealTimers())

  it('announces a toast politely and shows it with its actions and a named dismiss button', () => {
    const { queue } = renderToasts()
    act(() => {
      queue.show({
        kind: 'task-succeeded',
        title: 'Task succeeded: build',
        body: 'all green',
        actions: [{ label: 'View Results', path: '/tasks/t1' }],
      })
    })
    // The server's title says the kind: announced and named by it alone, never "Task succeeded:
    // Task succeeded: build".
    expect(screen.getByRole('status').textContent).toBe('Task succeeded: build. all green')
    const region = screen.getByRole('region', { name: 'Toasts' })
    const toast = within(region).getByRole('listitem', { name: 'Task succeeded: build' })
    expect(toast.querySelector('.toast-title')?.textContent).toBe('Task succeeded: build')
    expect(toast.textContent).not.toMatch(/Task succeeded: Task succeeded/)
    expect(toast.className).toContain('toast-task-succeeded')
    expect(within(toast).getByRole('button', { name: 'View Results' })).toBeDefined()
    expect(within(toast).getByRole('button', { name: 'Dismiss: Task succeeded: build' })).toBeDefined()
  })

  it('says why a toast notified during quiet hours, on screen and to screen readers', () => {
    const { queue } = renderToasts()
    act(() => {
      queue.show({ kind: 'message', title: 'alice in #ops', body: 'the build is down', note: 'alice chose to notify you during your quiet hours' })
    })
    expect(screen.getByRole('status').textContent).toBe(
      'alice in #ops. the build is down. alice chose to notify you during your quiet hours',
    )
    const toast = within(screen.getByRole('region', { name: 'Toasts' })).getByRole('listitem', { name: 'alice in #ops' })
    expect(toast.querySelector('.toast-note')?.textContent).toBe('alice chose to notify you during your quiet hours')
  })

  it('shows the avatar of whoever a toast is about instead of the kind icon', () => {
    const bob: User = { id: 'u-bob', username: 'bob', displayName: 'Bob', role: 'member', createdAt: 1, avatarUrl: '/api/users/u-bob/avatar?v=2', avatarVersion: 2 }
    const ann: User = { id: 'u-ann', username: 'ann', displayName: 'Ann Lee', role: 'member', createdAt: 1, avatarColor: '#aa3366' }
    const { queue } = renderToasts(undefined, { person: (id) => ({ 'u-bob': bob, 'u-ann': ann })[id] })
    act(() => {
      queue.show({ kind: 'message', title: 'Bob in #general', actorId: 'u-bob' })
      queue.show({ kind: 'mention', title: 'Ann Lee mentioned you in #general', actorId: 'u-ann' })
      queue.show({ kind: 'message', title: 'Gone in #general', actorId: 'u-gone' })
    })
    const toast = (name: string) => screen.getByRole('listitem', { name: new RegExp(name) })
    const picture = toast('Bob in').querySelector('.toast-icon img')
    expect(picture?.getAttribute('src')).toBe('/api/users/u-bob/avatar?v=2&size=64')
    expect(toast('Bob in').querySelector('.kind-icon')).toBeNull()
    expect(toast('Ann Lee').querySelector('.toast-icon .initials')?.getAttribute('data-initials')).toBe('AL')
    // Someone the client does not know: the kind's icon, as before.
    expect(toast('Gone in').querySelector('.toast-icon .kind-icon')).not.toBeNull()
  })

  it('announces critical alerts assertively', () => {
    const { queue } = renderToasts()
    act(() => {
      queue.show({ kind: 'system-critical', title: 'Database down' })
    })
    const alert = screen.getByRole('alert')
    expect(alert.getAttribute('aria-live')).toBe('assertive')
    expect(alert.textContent).toBe('Critical alert: Database down')
    expect(screen.getByRole('status').textContent).toBe('')
  })

  it.each([
    ['message', 'alice in #general', 'alice in #general'],
    ['message', '3 new messages in #general', '3 new messages in #general'],
    ['mention', 'alice mentioned you in #general', 'alice mentioned you in #general'],
    ['task-failed', 'Task failed: deploy', 'Task failed: deploy'],
    ['agent', 'Deploy bot is busy', 'Deploy bot is busy'],
    ['file', 'report.pdf is ready', 'File: report.pdf is ready'],
    ['file', '2 files processed', '2 files processed'],
    ['system-info', 'Maintenance tonight', 'System: Maintenance tonight'],
    ['system-info', 'While you were away: 7 notifications', 'While you were away: 7 notifications'],
    ['system-warning', 'Disk almost full', 'System warning: Disk almost full'],
    ['system-critical', 'Database down', 'Critical alert: Database down'],
    ['system-critical', 'Critical: database down', 'Critical: database down'],
  ] as const)('names a %s toast titled %j as %j, the kind once', (kind, title, name) => {
    const { queue } = renderToasts()
    act(() => {
      queue.show({ kind, title })
    })
    const toast = screen.getByRole('listitem', { name })
    // The visible heading is the title; a kind the title does not say is there for screen
    // readers only, once.
    const heading = toast.querySelector('.toast-title') as HTMLElement
    expect(heading.textContent).toBe(name)
    const hidden = heading.querySelector('.visually-hidden')
    expect(hidden?.textContent ?? '').toBe(name === title ? '' : name.slice(0, name.length - title.length))
    const live = kind === 'system-critical' ? screen.getByRole('alert') : screen.getByRole('status')
    expect(live.textContent).toBe(name)
  })

  it('draws each kind’s icon as an SVG hidden from assistive technology, no emoji', () => {
    const { queue } = renderToasts(new ToastQueue({ maxVisible: 9 }))
    const kinds = [
      'message',
      'mention',
      'task-succeeded',
      'task-failed',
      'agent',
      'system-info',
      'system-warning',
      'system-critical',
      'file',
    ] as const
    act(() => {
      for (const kind of kinds) queue.show({ kind, title: `t ${kind}` })
    })
    const drawn = screen.getAllByRole('listitem').map((toast) => {
      const icon = toast.querySelector('.toast-icon') as HTMLElement
      expect(icon.getAttribute('aria-hidden')).toBe('true')
      expect(icon.textContent).toBe('')
      const svg = icon.querySelector('svg') as SVGElement
      expect(svg.getAttribute('stroke')).toBe('currentColor')
      return [svg.getAttribute('data-kind'), svg.innerHTML]
    })
    expect(drawn.map(([kind]) => kind)).toEqual(kinds)
    // Nine different drawings.
    expect(new Set(drawn.map(([, paths]) => paths)).size).toBe(9)
    expect(document.body.textContent).not.toMatch(/\p{Extended_Pictographic}/u)
  })

  it('does not repeat a group’s count that its title says', () => {
    const { queue } = renderToasts()
    act(() => {
      queue.show({ kind: 'message', title: '3 new messages in #general', count: 3 })
    })
    expect(screen.getByRole('listitem', { name: '3 new messages in #general' }).querySelector('.toast-title')?.textContent).toBe(
      '3 new messages in #general',
    )
  })

  it('opens the action’s path, dismisses the toast and marks its notifications read', async () => {
    const user = userEvent.setup()
    const { queue, go, onRead } = renderToasts()
    act(() => {
      queue.show({
        kind: 'message',
        title: '2 new messages in #general',
        count: 2,
        notificationIds: ['n1', 'n2'],
        actions: [{ label: 'Open chat', path: '/chats/c1' }],
      })
    })
    await user.click(screen.getByRole('button', { name: 'Open chat' }))
    expect(go).toHaveBeenCalledWith('/chats/c1')
    expect(onRead).toHaveBeenCalledWith(['n1', 'n2'])
    expect(queue.getSnapshot().visible).toEqual([])
  })

  it('marks nothing read when a toast is only dismissed', async () => {
    const user = userEvent.setup()
    const { queue, onRead } = renderToasts()
    act(() => {
      queue.show({
        kind: 'task-succeeded',
        title: 'Task succeeded: build',
        notificationIds: ['n1'],
        actions: [{ label: 'View Results', path: '/tasks/t1' }],
      })
    })
    await user.click(screen.getByRole('button', { name: 'Dismiss: Task succeeded: build' }))
    expect(queue.getSnapshot().visible).toEqual([])
    expect(onRead).not.toHaveBeenCalled()
  })

  it('opens the center from a summary, leaving its notifications unread', async () => {
    const user = userEvent.setup()
    const onOpenCenter = vi.fn()
    const { queue, onRead } = renderToasts(new ToastQueue(), { onOpenCenter })
    act(() => {
      queue.show({
        kind: 'system-info',
        title: 'While you were away: 5 notifications',
        notificationIds: ['n1', 'n2', 'n3', 'n4', 'n5'],
        actions: [{ label: 'Show all', command: 'open-center' }],
      })
    })
    await user.click(screen.getByRole('button', { name: 'Show all' }))
    expect(onOpenCenter).toHaveBeenCalled()
    expect(onRead).not.toHaveBeenCalled()
  })

  it('dismisses with the close button and with Escape on the focused toast', async () => {
    const user = userEvent.setup()
    const { queue } = renderToasts()
    act(() => {
      queue.show({ kind: 'file', title: 'a.png is ready' })
      queue.show({ kind: 'agent', title: 'Buildbot is busy' })
    })
    await user.click(screen.getByRole('button', { name: 'Dismiss: a.png is ready' }))
    expect(queue.getSnapshot().visible.map((t) => t.title)).toEqual(['Buildbot is busy'])
    // The leaving toast is hidden from assistive technology while it animates out.
    expect(screen.queryByRole('listitem', { name: 'File: a.png is ready' })).toBeNull()

    screen.getByRole('button', { name: 'Dismiss: Buildbot is busy' }).focus()
    await user.keyboard('{Escape}')
    expect(queue.getSnapshot().visible).toEqual([])
  })

  it('holds a hovered toast and lets it go after', () => {
    vi.useFakeTimers()
    const { queue } = renderToasts(new ToastQueue({ durationMs: 6000 }))
    act(() => {
      queue.show({ kind: 'message', title: 'hover me' })
    })
    const toast = screen.getByRole('listitem', { name: 'Message: hover me' })
    fireEvent.mouseEnter(toast)
    act(() => {
      vi.advanceTimersByTime(20_000)
    })
    expect(queue.getSnapshot().visible).toHaveLength(1)
    fireEvent.mouseLeave(toast)
    act(() => {
      vi.advanceTimersByTime(6000)
    })
    expect(queue.getSnapshot().visible).toHaveLength(0)
  })

  it('says how many wait for room', () => {
    const { queue } = renderToasts(new ToastQueue({ maxVisible: 1 }))
    act(() => {
      queue.show({ kind: 'message', title: 'a' })
      queue.show({ kind: 'message', title: 'b' })
    })
    expect(screen.getAllByRole('listitem')).toHaveLength(1)
    expect(screen.getByText('1 more waiting')).toBeDefined()
  })
})
