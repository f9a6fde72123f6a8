import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ToastBatcher, type ChatTitle, type Presentation } from './batching'
import { note } from './testing'
import { ToastQueue } from './ToastQueue'

function setup(options: { chatTitle?: (id: string) => ChatTitle | undefined } = {}) {
  const queue = new ToastQueue({ maxVisible: 4 })
  const presented: Presentation[] = []
  const batcher = new ToastBatcher(queue, { ...options, onPresent: (p) => presented.push(p) })
  const visible = () => queue.getSnapshot().visible
  return { queue, batcher, presented, visible }
}

describe('ToastBatcher', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('shows a single notification at once, with Open chat for chat notifications', () => {
    const { batcher, visible, presented } = setup()
    batcher.add(note({ title: 'Bob in #general', body: 'hi' }))
    expect(visible()).toHaveLength(1)
    expect(visible()[0]).toMatchObject({
      kind: 'message',
      title: 'Bob in #general',
      body: 'hi',
      actions: [{ label: 'Open chat', path: '/chats/c1' }],
    })
    expect(presented[0]).toMatchObject({ isNew: true, count: 1, link: '/chats/c1' })
  })

  it('opens a chat at the message a notification is about, and a reply in its thread', () => {
    const { batcher, visible } = setup()
    batcher.add(note({ type: 'mention', title: 'Bob mentioned you in #general', messageId: 'm1' }))
    batcher.add(note({ type: 'reply', title: 'Bob replied in #general', messageId: 'm3', parentId: 'm2', chatId: 'c2', link: '/chats/c2?message=m3&thread=m2' }))
    expect(visible().map((t) => t.actions)).toEqual([
      [{ label: 'Open chat', path: '/chats/c1?message=m1' }],
      [{ label: 'Open chat', path: '/chats/c2?message=m3&thread=m2' }],
    ])
  })

  it('gives task toasts View Results to the task page, and tells succeeded from failed', () => {
    const { batcher, visible } = setup()
    batcher.add(note({ type: 'task', title: 'Task succeeded: build', link: '/tasks/t1', chatId: 'c1' }), {
      task: { id: 't1', name: 'build', status: 'succeeded', ownerId: 'u1', createdAt: 1 },
    })
    batcher.add(note({ type: 'task', title: 'Task failed: deploy', link: '/tasks/t2', chatId: undefined }))
    expect(visible().map((t) => [t.kind, t.actions])).toEqual([
      ['task-succeeded', [{ label: 'View Results', path: '/tasks/t1' }]],
      ['task-failed', [{ label: 'View Results', path: '/tasks/t2' }]],
    ])
  })

  it('shows why a message broke through quiet hours, on its own toast outside any group', () => {
    const { batcher, visible } = setup()
    batcher.add(note({ body: 'first' }))
    batcher.add(note({ body: 'urgent', brokeThrough: true, reason: 'alice chose to notify you during your quiet hours' }))
    batcher.add(note({ body: 'second' }))
    expect(visible().map((t) => [t.body, t.note, t.count])).toEqual([
      ['second', undefined, 2],
      ['urgent', 'alice chose to notify you during your quiet hours', 1],
    ])
  })

  it('groups a burst of messages in one chat into one toast titled with the chat', () => {
    const { batcher, visible, presented } = setup({ chatTitle: (id) => (id === 'c1' ? { title: '#general', dm: false } : undefined) })
    for (let i = 0; i < 5; i++) {
      batcher.add(note({ body: `m${i}` }))
      vi.advanceTimersByTime(300)
    }
    expect(visible()).toHaveLength(1)
    expect(visible()[0]).toMatchObject({
      title: '5 new messages in #general',
      body: 'm4',
      count: 5,
      actions: [{ label: 'Open chat', path: '/chats/c1' }],
    })
    expect(presented.map((p) => p.isNew)).toEqual([true, false, false, false, false])
  })

  it('names a DM group by its people, and carries the latest actor for the avatar', () => {
    const { batcher, visible, presented } = setup({ chatTitle: () => ({ title: 'Ann', dm: true }) })
    batcher.add(note({ title: 'Ann in a direct message', actorId: 'u-ann' }))
    expect(visible()[0]).toMatchObject({ title: 'Ann in a direct message', actorId: 'u-ann' })
    batcher.add(note({ title: 'Ann in a direct message', actorId: 'u-ann2' }))
    expect(visible()[0]).toMatchObject({ title: '2 new messages from Ann', actorId: 'u-ann2' })
    expect(presented.map((p) => p.actorId)).toEqual(['u-ann', 'u-ann2'])
  })

  it('falls back to "in a direct message" from the server title when the DM is unknown', () => {
    const { batcher, visible } = setup()
    batcher.add(note({ title: 'Ann in a direct message' }))
    batcher.add(note({ title: 'Ann in a direct message' }))
    expect(visible()[0]?.title).toBe('2 new messages in a direct message')
  })

  it('tells the toast which notifications it stands for, so opening it marks them read', () => {
    const { batcher, visible } = setup()
    const single = note({ type: 'task', title: 'Task succeeded: build', link: '/tasks/t1', chatId: undefined })
    batcher.add(single)
    const burst = [note(), note(), note()]
    for (const n of burst) batcher.add(n)
    expect(visible().map((t) => t.notificationIds)).toEqual([[single.id], burst.map((n) => n.id)])
  })

  it('keeps chats apart, and falls back to the name in the server title', () => {
    const { batcher, visible } = setup()
    batcher.add(note({ chatId: 'c1', link: '/chats/c1' }))
    batcher.add(note({ chatId: 'c2', link: '/chats/c2', title: 'Ann in #ops' }))
    batcher.add(note({ chatId: 'c2', link: '/chats/c2', title: 'Ann in #ops' }))
    expect(visible().map((t) => t.title)).toEqual(['Bob in #general', '2 new messages in #ops'])
  })

  it('starts a new toast once the window has passed', () => {
    const { batcher, visible } = setup()
    batcher.add(note())
    vi.advanceTimersByTime(1501)
    batcher.add(note())
    expect(visible().map((t) => t.count)).toEqual([1, 1])
  })

  it('groups other kinds by kind with their own title, but never critical alerts', () => {
    const { batcher, visible } = setup()
    batcher.add(note({ type: 'file', title: 'a.png is ready', link: '/chats/c1' }))
    batcher.add(note({ type: 'file', title: 'b.png is ready', link: '/chats/c1' }))
    batcher.add(note({ type: 'system', level: 'critical', title: 'x', link: undefined, chatId: undefined }))
    batcher.add(note({ type: 'system', level: 'critical', title: 'y', link: undefined, chatId: undefined }))
    batcher.add(note({ type: 'mention', title: 'Bob mentioned you in #general' }))
    batcher.add(note({ type: 'mention', title: 'Ann mentioned you in #ops', chatId: 'c2', link: '/chats/c2' }))
    expect(visible().map((t) => [t.kind, t.title])).toEqual([
      ['file', '2 files processed'],
      ['system-critical', 'x'],
      ['system-critical', 'y'],
      ['mention', '2 new mentions'],
    ])
    expect(visible()[3]!.actions).toEqual([{ label: 'Show all', command: 'open-center' }])
  })

  describe('catch-up after a reconnect', () => {
    it('summarises more than three notifications replayed after the stream comes back', () => {
      const { batcher, visible, presented } = setup()
      batcher.connectionState('live')
      batcher.connectionState('reconnecting')
      batcher.connectionState('live')
      for (let i = 0; i < 5; i++) batcher.add(note({ chatId: `c${i}`, link: `/chats/c${i}` }))
      batcher.add(note({ type: 'mention', title: 'Bob mentioned you in #general' }))
      batcher.add(note({ type: 'mention', title: 'Bob mentioned you in #general' }))
      expect(visible()).toHaveLength(0)

      vi.advanceTimersByTime(2000)
      expect(visible()).toHaveLength(1)
      expect(visible()[0]).toMatchObject({
        title: 'While you were away: 7 notifications',
        body: '5 messages, 2 mentions',
        count: 7,
        actions: [{ label: 'Show all', command: 'open-center' }],
      })
      expect(presented).toHaveLength(1)
    })

    it('shows a few replayed notifications as usual', () => {
      const { batcher, visible } = setup()
      batcher.connectionState('connecting')
      batcher.connectionState('live')
      batcher.add(note({ type: 'file', title: 'a is ready' }))
      batcher.add(note({ type: 'task', title: 'Task succeeded: x', link: '/tasks/t' }))
      vi.advanceTimersByTime(2000)
      expect(visible().map((t) => t.title)).toEqual(['a is ready', 'Task succeeded: x'])
    })

    it('lets critical alerts through at once and out of the summary', () => {
      const { batcher, visible } = setup()
      batcher.connectionState('polling')
      batcher.connectionState('live')
      batcher.add(note({ type: 'system', level: 'critical', title: 'fire', link: undefined, chatId: undefined }))
      expect(visible().map((t) => t.title)).toEqual(['fire'])
      for (let i = 0; i < 4; i++) batcher.add(note())
      vi.advanceTimersByTime(2000)
      expect(visible().map((t) => t.title)).toEqual(['fire', 'While you were away: 4 notifications'])
    })

    it('does not hold notifications while live', () => {
      const { batcher, visible } = setup()
      batcher.connectionState('live')
      vi.advanceTimersByTime(10_000)
      batcher.add(note())
      expect(visible()).toHaveLength(1)
    })
  })
})
