import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ToastQueue } from './ToastQueue'

function titles(queue: ToastQueue): string[] {
  return queue.getSnapshot().visible.map((t) => t.title)
}

describe('ToastQueue', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('shows at most maxVisible toasts and queues the rest in order', () => {
    const queue = new ToastQueue({ maxVisible: 2 })
    queue.show({ kind: 'message', title: 'a' })
    queue.show({ kind: 'message', title: 'b' })
    const c = queue.show({ kind: 'message', title: 'c' })
    queue.show({ kind: 'message', title: 'd' })

    expect(titles(queue)).toEqual(['a', 'b'])
    expect(queue.getSnapshot().queued).toBe(2)
    expect(queue.has(c)).toBe(true)

    queue.dismiss(queue.getSnapshot().visible[0]!.id)
    expect(titles(queue)).toEqual(['b', 'c'])
    expect(queue.getSnapshot().queued).toBe(1)
  })

  it('dismisses a toast after the configured time, counted from when it became visible', () => {
    const queue = new ToastQueue({ maxVisible: 1, durationMs: 5000 })
    queue.show({ kind: 'message', title: 'a' })
    queue.show({ kind: 'message', title: 'b' })

    vi.advanceTimersByTime(4999)
    expect(titles(queue)).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual(['b'])
    vi.advanceTimersByTime(4999)
    expect(titles(queue)).toEqual(['b'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual([])
  })

  it('defaults to 6 s', () => {
    const queue = new ToastQueue()
    queue.show({ kind: 'file', title: 'a' })
    vi.advanceTimersByTime(5999)
    expect(titles(queue)).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual([])
  })

  it('keeps critical alerts until they are dismissed, and queues them ahead of the rest', () => {
    const queue = new ToastQueue({ maxVisible: 1 })
    const first = queue.show({ kind: 'system-critical', title: 'disk full' })
    queue.show({ kind: 'message', title: 'm' })
    queue.show({ kind: 'system-critical', title: 'db down' })

    vi.advanceTimersByTime(60_000)
    expect(titles(queue)).toEqual(['disk full'])
    expect(queue.getSnapshot().visible[0]!.sticky).toBe(true)

    queue.dismiss(first)
    expect(titles(queue)).toEqual(['db down'])
  })

  it('holds a paused toast and gives it the rest of its time on resume', () => {
    const queue = new ToastQueue({ durationMs: 6000 })
    const id = queue.show({ kind: 'message', title: 'a' })
    vi.advanceTimersByTime(4000)
    queue.pause(id)
    expect(queue.getSnapshot().visible[0]!.paused).toBe(true)
    vi.advanceTimersByTime(60_000)
    expect(titles(queue)).toEqual(['a'])

    queue.resume(id)
    vi.advanceTimersByTime(1999)
    expect(titles(queue)).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual([])
  })

  it('restarts the time of a toast that is updated', () => {
    const queue = new ToastQueue({ durationMs: 6000 })
    const id = queue.show({ kind: 'message', title: '1 new message' })
    vi.advanceTimersByTime(5000)
    expect(queue.update(id, { title: '2 new messages', count: 2 })).toBe(true)
    vi.advanceTimersByTime(5000)
    expect(queue.getSnapshot().visible[0]).toMatchObject({ title: '2 new messages', count: 2 })
    vi.advanceTimersByTime(1000)
    expect(queue.has(id)).toBe(false)
    expect(queue.update(id, { title: 'gone' })).toBe(false)
  })

  it('keeps actions and publishes a new snapshot on every change', () => {
    const queue = new ToastQueue()
    const listener = vi.fn()
    queue.subscribe(listener)
    const before = queue.getSnapshot()
    queue.show({ kind: 'task-succeeded', title: 't', actions: [{ label: 'View Results', path: '/tasks/t1' }] })
    expect(listener).toHaveBeenCalledTimes(1)
    expect(queue.getSnapshot()).not.toBe(before)
    expect(queue.getSnapshot().visible[0]!.actions).toEqual([{ label: 'View Results', path: '/tasks/t1' }])
  })

  it('setDuration applies to new toasts, within the server’s 2–60 s', () => {
    const queue = new ToastQueue({ durationMs: 6000 })
    queue.setDuration(3000)
    expect(queue.duration).toBe(3000)
    queue.show({ kind: 'message', title: 'a' })
    vi.advanceTimersByTime(2999)
    expect(titles(queue)).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual([])

    queue.setDuration(500)
    expect(queue.duration).toBe(2000)
    queue.setDuration(600_000)
    expect(queue.duration).toBe(60_000)
    queue.setDuration(Number.NaN)
    expect(queue.duration).toBe(6000)
  })

  it('setDuration gives toasts on screen the rest of the new time; critical ones still stay', () => {
    const queue = new ToastQueue({ durationMs: 6000 })
    queue.show({ kind: 'message', title: 'a' })
    queue.show({ kind: 'system-critical', title: 'db down' })
    vi.advanceTimersByTime(4000)
    queue.setDuration(20_000) // 16 s left of the new 20
    vi.advanceTimersByTime(15_999)
    expect(titles(queue)).toEqual(['a', 'db down'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual(['db down'])

    const b = queue.show({ kind: 'message', title: 'b' })
    vi.advanceTimersByTime(10_000)
    queue.pause(b)
    queue.setDuration(3000) // shorter than it has been up: a moment left once resumed
    queue.resume(b)
    vi.advanceTimersByTime(1499)
    expect(titles(queue)).toEqual(['db down', 'b'])
    vi.advanceTimersByTime(1)
    expect(titles(queue)).toEqual(['db down'])
    vi.advanceTimersByTime(120_000)
    expect(titles(queue)).toEqual(['db down'])
  })

  it('carries the ids of the notifications a toast stands for', () => {
    const queue = new ToastQueue()
    const id = queue.show({ kind: 'message', title: 'a', notificationIds: ['n1'] })
    queue.show({ kind: 'message', title: 'b' })
    expect(queue.getSnapshot().visible.map((t) => t.notificationIds)).toEqual([['n1'], []])
    queue.update(id, { notificationIds: ['n1', 'n2'] })
    expect(queue.getSnapshot().visible[0]!.notificationIds).toEqual(['n1', 'n2'])
  })

  it('clear() removes everything and cancels timers', () => {
    const queue = new ToastQueue({ maxVisible: 1 })
    queue.show({ kind: 'message', title: 'a' })
    queue.show({ kind: 'message', title: 'b' })
    queue.clear()
    expect(queue.getSnapshot()).toEqual({ visible: [], queued: 0 })
    expect(vi.getTimerCount()).toBe(0)
  })
})
