import { describe, expect, it, vi } from 'vitest'
import { NotificationCenterStore, PAGE_SIZE } from './NotificationCenterStore'
import { DrivenStream, eventFor, MemoryNotificationApi, note } from './testing'

async function started(api: MemoryNotificationApi, stream = new DrivenStream()) {
  const center = new NotificationCenterStore(api, stream)
  await center.start()
  return { center, stream }
}

describe('NotificationCenterStore', () => {
  it('loads the newest page and counts the unread entries', async () => {
    const read = note({ read: true })
    const unread = note()
    const api = new MemoryNotificationApi(read, unread)
    const { center } = await started(api)
    const s = center.getSnapshot()
    expect(s.items.map((n) => n.id)).toEqual([unread.id, read.id])
    expect(s.unread).toBe(1)
    expect(s.loading).toBe(false)
    expect(api.listNotifications).toHaveBeenCalledWith({ limit: PAGE_SIZE })
  })

  it('adds live entries once, however often they arrive (replays)', async () => {
    const { center, stream } = await started(new MemoryNotificationApi())
    const n = note()
    stream.emit(eventFor(n))
    stream.emit(eventFor(n))
    expect(center.getSnapshot().items.map((i) => i.id)).toEqual([n.id])
    expect(center.getSnapshot().unread).toBe(1)
  })

  it('records silenced entries too, with their reason', async () => {
    const { center, stream } = await started(new MemoryNotificationApi())
    stream.emit(eventFor(note({ notify: false, reason: 'chat #ops is muted' })))
    expect(center.getSnapshot().items[0]).toMatchObject({ notify: false, reason: 'chat #ops is muted' })
  })

  it('marks one read and unread, on the server too', async () => {
    const a = note()
    const b = note()
    const api = new MemoryNotificationApi(a, b)
    const { center } = await started(api)
    await center.markRead([a.id])
    expect(api.markNotificationsRead).toHaveBeenCalledWith([a.id])
    expect(center.getSnapshot().unread).toBe(1)
    expect(center.getSnapshot().items.find((n) => n.id === a.id)?.read).toBe(true)

    await center.markUnread([a.id])
    expect(api.markNotificationsUnread).toHaveBeenCalledWith([a.id])
    expect(center.getSnapshot().unread).toBe(2)
  })

  it('undoes a change the server refused, and says why', async () => {
    const a = note()
    const api = new MemoryNotificationApi(a)
    api.markNotificationsRead.mockRejectedValueOnce(new Error('offline'))
    const { center } = await started(api)
    await expect(center.markRead([a.id])).rejects.toThrow('offline')
    expect(center.getSnapshot()).toMatchObject({ unread: 1, error: 'offline' })
    expect(center.getSnapshot().items[0]!.read).toBe(false)
  })

  it('marks all read and clears', async () => {
    const api = new MemoryNotificationApi(note(), note(), note({ read: true }))
    const { center } = await started(api)
    await center.markAllRead()
    expect(api.markNotificationsRead).toHaveBeenCalledWith('all')
    expect(center.getSnapshot().unread).toBe(0)
    expect(center.getSnapshot().items.every((n) => n.read)).toBe(true)

    await center.clear()
    expect(api.clearNotifications).toHaveBeenCalled()
    expect(center.getSnapshot().items).toEqual([])
  })

  it('filters by type and search on the server, and keeps live entries to the filter', async () => {
    const api = new MemoryNotificationApi(
      note({ type: 'task', title: 'Task succeeded: build', link: '/tasks/t1' }),
      note({ type: 'task', title: 'Task failed: deploy', link: '/tasks/t2' }),
      note({ body: 'build is green' }),
    )
    const { center, stream } = await started(api)
    await center.setFilter({ type: 'task' })
    expect(api.listNotifications).toHaveBeenLastCalledWith({ limit: PAGE_SIZE, type: 'task' })
    expect(center.getSnapshot().items).toHaveLength(2)

    await center.setFilter({ q: ' build ' })
    expect(api.listNotifications).toHaveBeenLastCalledWith({ limit: PAGE_SIZE, type: 'task', q: 'build' })
    expect(center.getSnapshot().items.map((n) => n.title)).toEqual(['Task succeeded: build'])

    stream.emit(eventFor(note({ body: 'build again' }))) // a message: not shown under Tasks
    stream.emit(eventFor(note({ type: 'task', title: 'Task succeeded: build 2', link: '/tasks/t3' })))
    expect(center.getSnapshot().items.map((n) => n.title)).toEqual(['Task succeeded: build 2', 'Task succeeded: build'])
    expect(center.getSnapshot().unread).toBe(5) // every type counts
  })

  it('loads older pages before the oldest entry', async () => {
    const entries = Array.from({ length: PAGE_SIZE + 5 }, () => note())
    const api = new MemoryNotificationApi(...entries)
    const { center } = await started(api)
    expect(center.getSnapshot()).toMatchObject({ hasMore: true })
    expect(center.getSnapshot().items).toHaveLength(PAGE_SIZE)
    await center.loadOlder()
    const s = center.getSnapshot()
    expect(s.items).toHaveLength(PAGE_SIZE + 5)
    expect(s.hasMore).toBe(false)
    expect(new Set(s.items.map((n) => n.id)).size).toBe(PAGE_SIZE + 5)
    expect(api.listNotifications).toHaveBeenLastCalledWith({ limit: PAGE_SIZE, before: s.items[PAGE_SIZE - 1]!.id })
  })

  it('reloads after RESYNC and stops following the stream when stopped', async () => {
    const api = new MemoryNotificationApi()
    const { center, stream } = await started(api)
    api.history = [note()]
    stream.emit({ type: 'RESYNC', timestamp: 1 })
    await vi.waitFor(() => expect(center.getSnapshot().items).toHaveLength(1))
    center.stop()
    expect(stream.listenerCount).toBe(0)
  })

  it('keeps an entry that arrived live while the first page was loading', async () => {
    const old = note()
    const api = new MemoryNotificationApi(old)
    const stream = new DrivenStream()
    const center = new NotificationCenterStore(api, stream)
    const loading = center.start()
    const live = note()
    stream.emit(eventFor(live))
    await loading
    expect(center.getSnapshot().items.map((n) => n.id)).toEqual([live.id, old.id])
    expect(center.getSnapshot().unread).toBe(2)
  })

  it('shows a load failure', async () => {
    const api = new MemoryNotificationApi()
    api.listNotifications.mockRejectedValue(new Error('boom'))
    const { center } = await started(api)
    expect(center.getSnapshot()).toMatchObject({ loading: false, error: 'boom' })
  })
})

describe('NotificationCenterStore and the messages its entries are about', () => {
  const deleted = (messageId: string, parentId?: string) => ({
    id: `e-${messageId}`,
    type: 'MESSAGE_DELETED' as const,
    chatId: 'c1',
    messageId,
    parentId,
    timestamp: 1,
  })

  it('drops the entries about a deleted message, read or not, loaded or live, also when replayed', async () => {
    const loaded = note({ messageId: 'm1' })
    const other = note({ messageId: 'm2', read: true })
    const api = new MemoryNotificationApi(loaded, other)
    const { center, stream } = await started(api)
    const live = note({ type: 'mention', messageId: 'm1' })
    stream.emit(eventFor(live))
    expect(center.getSnapshot().unread).toBe(2)

    stream.emit(deleted('m1'))

    expect(center.getSnapshot().items.map((n) => n.id)).toEqual([other.id])
    expect(center.getSnapshot().unread).toBe(0)
    stream.emit(eventFor(live)) // a replay from before the delete
    expect(center.getSnapshot().items.map((n) => n.id)).toEqual([other.id])
    expect(api.markNotificationsRead).not.toHaveBeenCalled()
  })

  it('counts unread replies per thread, from the start and live, and marks a thread read', async () => {
    const first = note({ type: 'reply', messageId: 'r1', parentId: 'p1' })
    const elsewhere = note({ type: 'reply', messageId: 'r9', parentId: 'p9', read: true })
    const api = new MemoryNotificationApi(first, elsewhere, note())
    const { center, stream } = await started(api)
    expect(api.listNotifications).toHaveBeenCalledWith({ unread: true, type: 'reply', limit: 100 })
    expect(center.getSnapshot().unreadReplies).toEqual({ p1: [first.id] })

    const second = note({ type: 'reply', messageId: 'r2', parentId: 'p1' })
    stream.emit(eventFor(second))
    const counted = center.getSnapshot().unreadReplies
    expect(counted).toEqual({ p1: [first.id, second.id] })
    stream.emit(eventFor(note())) // another kind: the same record
    expect(center.getSnapshot().unreadReplies).toBe(counted)

    await center.markRead(center.getSnapshot().unreadReplies.p1 as string[])
    expect(api.markNotificationsRead).toHaveBeenCalledWith([first.id, second.id])
    expect(center.getSnapshot().unreadReplies).toEqual({})

    stream.emit(deleted('r3', 'p1')) // nothing about it: no change
    expect(center.getSnapshot().unreadReplies).toEqual({})
  })

  it("marks read what reading the chat marks read on the server, on the user's READ_MARKER", async () => {
    const before = note({ chatId: 'c1', messageId: 'm1' })
    const mention = note({ type: 'mention', chatId: 'c1', messageId: 'm2' })
    const after = note({ chatId: 'c1', messageId: 'm5' })
    const elsewhere = note({ chatId: 'c2', messageId: 'm1' })
    const reply = note({ type: 'reply', chatId: 'c1', messageId: 'm3', parentId: 'm0' })
    const api = new MemoryNotificationApi(before, mention, after, elsewhere, reply)
    const { center, stream } = await started(api)

    stream.emit({ id: 'e1', type: 'READ_MARKER', chatId: 'c1', messageId: 'm4', timestamp: 1 })

    const unread = center.getSnapshot().items.filter((n) => !n.read).map((n) => n.id)
    expect(unread.sort()).toEqual([after.id, elsewhere.id, reply.id].sort())
    expect(center.getSnapshot().unread).toBe(3)
    expect(api.markNotificationsRead).not.toHaveBeenCalled() // the server did it
  })
})
