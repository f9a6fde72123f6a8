import { act, fireEvent, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ToastProvider } from './Toasts'
import { ToastQueue } from './ToastQueue'

function renderToasts(queue = new ToastQueue(), props: { onOpenCenter?: () => void; go?: (path: string) => void } = {}) {
  const go = props.go ?? vi.fn()
  render(<ToastProvider queue={queue} go={go} onOpenCenter={props.onOpenCenter} />)
  return { queue, go }
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
    expect(screen.getByRole('status').textContent).toBe('Task succeeded: Task succeeded: build. all green')
    const region = screen.getByRole('region', { name: 'Toasts' })
    const toast = within(region).getByRole('listitem', { name: 'Task succeeded: Task succeeded: build' })
    expect(toast.className).toContain('toast-task-succeeded')
    expect(within(toast).getByRole('button', { name: 'View Results' })).toBeDefined()
    expect(within(toast).getByRole('button', { name: 'Dismiss: Task succeeded: build' })).toBeDefined()
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

  it('opens the action’s path and dismisses the toast', async () => {
    const user = userEvent.setup()
    const { queue, go } = renderToasts()
    act(() => {
      queue.show({ kind: 'message', title: 'Bob in #general', actions: [{ label: 'Open chat', path: '/chats/c1' }] })
    })
    await user.click(screen.getByRole('button', { name: 'Open chat' }))
    expect(go).toHaveBeenCalledWith('/chats/c1')
    expect(queue.getSnapshot().visible).toEqual([])
  })

  it('opens the center from a summary', async () => {
    const user = userEvent.setup()
    const onOpenCenter = vi.fn()
    const { queue } = renderToasts(new ToastQueue(), { onOpenCenter })
    act(() => {
      queue.show({ kind: 'system-info', title: 'While you were away: 5 notifications', actions: [{ label: 'Show all', command: 'open-center' }] })
    })
    await user.click(screen.getByRole('button', { name: 'Show all' }))
    expect(onOpenCenter).toHaveBeenCalled()
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
