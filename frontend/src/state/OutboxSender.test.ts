import { IDBFactory } from 'fake-indexeddb'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiRequestError, type PostResult } from '../api/client'
import type { Message } from '../api/types'
import { IndexedDbOutbox } from '../outbox/IndexedDbOutbox'
import type { OutboxItem } from '../outbox/types'
import {
  isRefusal,
  MAX_RETRY_MS,
  MIN_RETRY_MS,
  OUTBOX_LOCK,
  type OutboxLocks,
  OutboxSender,
  type SendEvents,
} from './OutboxSender'
import type { TimerId, Timers } from './typing'

/** Timers that fire only when the test says so. */
class ManualTimers implements Timers {
  private next = 1
  readonly pending = new Map<number, { callback: () => void; ms: number }>()

  setTimeout(callback: () => void, ms: number): TimerId {
    const id = this.next++
    this.pending.set(id, { callback, ms })
    return id
  }

  clearTimeout(id: TimerId): void {
    this.pending.delete(id)
  }

  delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms)
  }

  fireAll(): void {
    const due = [...this.pending.values()]
    this.pending.clear()
    for (const t of due) t.callback()
  }
}

function item(clientId: string, createdAt: number): OutboxItem {
  return { clientId, chatId: 'c1', content: `text ${clientId}`, createdAt }
}

function confirmed(it: OutboxItem): Message {
  const { clientId, chatId, content, createdAt } = it
  return { id: `m-${clientId}`, chatId, authorId: 'me', content, clientId, createdAt }
}

function recorder() {
  const log: string[] = []
  const events: SendEvents = {
    sending: (i) => log.push(`sending ${i.clientId}`),
    sent: (i, m) => log.push(`sent ${i.clientId} as ${m.id}`),
    relayed: (i) => log.push(`relayed ${i.clientId}`),
    queued: (items) => log.push(`queued ${items.map((i) => i.clientId).join(',')}`),
    failed: (i, error) => log.push(`failed ${i.clientId}: ${error}`),
  }
  return { log, events }
}

const offline = () => Promise.reject(new TypeError('Failed to fetch'))

describe('OutboxSender', () => {
  let outbox: IndexedDbOutbox
  let timers: ManualTimers

  beforeEach(() => {
    outbox = new IndexedDbOutbox(new IDBFactory())
    timers = new ManualTimers()
  })

  it('sends items oldest first, one POST at a time, and empties the outbox', async () => {
    await outbox.add(item('b', 2))
    await outbox.add(item('a', 1))
    let inFlight = 0
    const post = vi.fn(async (i: OutboxItem) => {
      inFlight++
      expect(inFlight).toBe(1)
      await Promise.resolve()
      inFlight--
      return confirmed(i)
    })
    const { log, events } = recorder()

    await new OutboxSender({ outbox, post, events, locks: null, timers }).flush()

    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a', 'b'])
    expect(log).toEqual(['sending a', 'sent a as m-a', 'sending b', 'sent b as m-b'])
    expect(await outbox.list()).toEqual([])
    expect(timers.pending.size).toBe(0)
  })

  it('stops at the first network failure, keeps everything, and retries with backoff', async () => {
    await outbox.add(item('a', 1))
    await outbox.add(item('b', 2))
    const post = vi.fn<(i: OutboxItem) => Promise<Message>>(offline)
    const { log, events } = recorder()
    const sender = new OutboxSender({ outbox, post, events, locks: null, timers })

    await sender.flush()

    expect(post).toHaveBeenCalledTimes(1) // b must not overtake a
    expect(log).toEqual(['sending a', 'queued a,b'])
    expect(await outbox.list()).toEqual([item('a', 1), item('b', 2)])
    expect(timers.delays()).toEqual([MIN_RETRY_MS])

    timers.fireAll()
    await vi.waitFor(() => expect(timers.delays()).toEqual([MIN_RETRY_MS * 2]))
    expect(post).toHaveBeenCalledTimes(2)

    post.mockImplementation(async (i) => Promise.resolve(confirmed(i)))
    timers.fireAll()
    await vi.waitFor(async () => expect(await outbox.list()).toEqual([]))
    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a', 'a', 'a', 'b'])
    expect(timers.pending.size).toBe(0)
  })

  it('caps the retry delay', async () => {
    await outbox.add(item('a', 1))
    const events = recorder().events
    const sender = new OutboxSender({ outbox, post: offline, events, locks: null, timers })

    await sender.flush()
    for (let i = 0; i < 8; i++) {
      timers.fireAll()
      await vi.waitFor(() => expect(timers.pending.size).toBe(1), { interval: 1 })
    }

    expect(timers.delays()).toEqual([MAX_RETRY_MS])
  })

  it.each([401, 408, 429, 500, 503])('treats HTTP %i as worth retrying', async (status) => {
    await outbox.add(item('a', 1))
    const post = () => Promise.reject(new ApiRequestError(status, 'unavailable', 'Try later.'))
    const { log, events } = recorder()

    await new OutboxSender({ outbox, post, events, locks: null, timers }).flush()

    expect(log).toEqual(['sending a', 'queued a'])
    expect(await outbox.list()).toEqual([item('a', 1)])
  })

  it('marks a refused item failed, goes on with the next, and skips it later', async () => {
    await outbox.add(item('a', 1))
    await outbox.add(item('b', 2))
    const post = vi.fn((i: OutboxItem) =>
      i.clientId === 'a'
        ? Promise.reject(new ApiRequestError(403, 'forbidden', 'You are not a member of this chat.'))
        : Promise.resolve(confirmed(i)),
    )
    const { log, events } = recorder()
    const sender = new OutboxSender({ outbox, post, events, locks: null, timers })

    await sender.flush()
    await sender.flush()

    const error = 'You are not a member of this chat.'
    expect(log).toEqual(['sending a', `failed a: ${error}`, 'sending b', 'sent b as m-b'])
    expect(await outbox.list()).toEqual([{ ...item('a', 1), error }])
    expect(post).toHaveBeenCalledTimes(2)
    expect(timers.pending.size).toBe(0)
  })

  it('hands items the desktop app queued (202) over to it: out of the outbox, no retry', async () => {
    await outbox.add(item('a', 1))
    await outbox.add(item('b', 2))
    const post = vi.fn((i: OutboxItem): Promise<PostResult> => {
      const { chatId, content, clientId, createdAt } = i
      return Promise.resolve({ queued: true, message: { chatId, content, clientId, createdAt } })
    })
    const { log, events } = recorder()
    const sender = new OutboxSender({ outbox, post, events, locks: null, timers })

    await sender.flush()

    expect(log).toEqual(['sending a', 'relayed a', 'sending b', 'relayed b'])
    expect(await outbox.list()).toEqual([])
    expect(timers.pending.size).toBe(0)

    await sender.flush() // nothing left to post: the app delivers them
    expect(post).toHaveBeenCalledTimes(2)
  })

  it('sends the items after a relayed one in order, whatever the server answers them', async () => {
    await outbox.add(item('a', 1))
    await outbox.add(item('b', 2))
    const post = vi.fn((i: OutboxItem): Promise<PostResult> => {
      if (i.clientId === 'b') return Promise.resolve(confirmed(i)) // the server came back
      const { chatId, content, clientId, createdAt } = i
      return Promise.resolve({ queued: true, message: { chatId, content, clientId, createdAt } })
    })
    const { log, events } = recorder()

    await new OutboxSender({ outbox, post, events, locks: null, timers }).flush()

    expect(log).toEqual(['sending a', 'relayed a', 'sending b', 'sent b as m-b'])
    expect(await outbox.list()).toEqual([])
  })

  it('runs a flush asked for during another right after it, never alongside', async () => {
    await outbox.add(item('a', 1))
    let release: () => void = () => undefined
    const post = vi.fn(
      (i: OutboxItem) => new Promise<Message>((resolve) => (release = () => resolve(confirmed(i)))),
    )
    const sender = new OutboxSender({ outbox, post, events: recorder().events, locks: null, timers })

    const first = sender.flush()
    await vi.waitFor(() => expect(post).toHaveBeenCalledTimes(1))
    await outbox.add(item('b', 2))
    const second = sender.flush()
    expect(post).toHaveBeenCalledTimes(1)
    release()
    await vi.waitFor(() => expect(post).toHaveBeenCalledTimes(2))
    release()
    await Promise.all([first, second])

    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a', 'b'])
  })

  it('sends each item once when two tabs flush the shared outbox under the Web Lock', async () => {
    await outbox.add(item('a', 1))
    await outbox.add(item('b', 2))
    const locks = new FakeLocks()
    const post = vi.fn((i: OutboxItem) => Promise.resolve(confirmed(i)))
    const tab1 = new OutboxSender({ outbox, post, events: recorder().events, locks, timers })
    const tab2 = new OutboxSender({ outbox, post, events: recorder().events, locks, timers })

    await Promise.all([tab1.flush(), tab2.flush()])

    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a', 'b'])
    expect(locks.names).toEqual([OUTBOX_LOCK, OUTBOX_LOCK])
  })

  it('stop() cancels the retry and sends nothing more', async () => {
    await outbox.add(item('a', 1))
    const post = vi.fn<(i: OutboxItem) => Promise<Message>>(offline)
    const sender = new OutboxSender({ outbox, post, events: recorder().events, locks: null, timers })
    await sender.flush()

    sender.stop()
    await sender.flush()

    expect(timers.pending.size).toBe(0)
    expect(post).toHaveBeenCalledTimes(1)
  })
})

describe('isRefusal', () => {
  it.each([
    [new ApiRequestError(400, 'invalid', 'x'), true],
    [new ApiRequestError(401, 'unauthorized', 'x'), false],
    [new ApiRequestError(413, 'too_large', 'x'), true],
    [new ApiRequestError(408, 'http_error', 'x'), false],
    [new ApiRequestError(429, 'rate_limited', 'x'), false],
    [new ApiRequestError(502, 'http_error', 'x'), false],
    [new TypeError('Failed to fetch'), false],
  ])('%s → %s', (err, refused) => {
    expect(isRefusal(err)).toBe(refused)
  })
})

/** An exclusive lock manager for one page: requests for a name run one after another. */
class FakeLocks implements OutboxLocks {
  readonly names: string[] = []
  private tail = Promise.resolve()

  request<T>(name: string, callback: LockGrantedCallback<T>): Promise<T>
  request<T>(name: string, options: LockOptions, callback: LockGrantedCallback<T>): Promise<T>
  request<T>(
    name: string,
    second: LockOptions | LockGrantedCallback<T>,
    third?: LockGrantedCallback<T>,
  ): Promise<T> {
    const callback = typeof second === 'function' ? second : third
    if (!callback) throw new TypeError('no callback')
    this.names.push(name)
    const run = this.tail.then(() => callback(null))
    this.tail = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }
}

describe('OutboxSender.send (a new message, straight to the network)', () => {
  let factory: IDBFactory
  let outbox: IndexedDbOutbox
  let timers: ManualTimers

  beforeEach(() => {
    factory = new IDBFactory()
    outbox = new IndexedDbOutbox(factory)
    timers = new ManualTimers()
  })

  /** A sender whose first flush found the outbox empty, as after ChatStore.start. */
  async function idleSender(post: (i: OutboxItem) => Promise<PostResult>, events: SendEvents) {
    const sender = new OutboxSender({ outbox, post, events, locks: null, timers })
    await sender.flush()
    return sender
  }

  it('calls post synchronously, before the outbox write has committed, and empties the outbox after the answer', async () => {
    const { log, events } = recorder()
    let answer: (m: Message) => void = () => undefined
    const post = vi.fn((i: OutboxItem) => new Promise<PostResult>((resolve) => (answer = () => resolve(confirmed(i)))))
    const sender = await idleSender(post, events)
    let committed = false
    const a = item('a', 1)
    const stored = outbox.add(a).then(() => {
      committed = true
    })
    const done = sender.send(a, stored)
    expect(post).toHaveBeenCalledTimes(1) // no await between send and post
    expect(committed).toBe(false)
    await stored
    expect((await outbox.list()).map((i) => i.clientId)).toEqual(['a']) // stored while in flight
    answer(confirmed(a))
    await done
    expect(log).toEqual(['sending a', 'sent a as m-a'])
    expect(await outbox.list()).toEqual([])
  })

  it('leaves the item in the outbox when the POST fails, and the retry sends it', async () => {
    const { log, events } = recorder()
    const post = vi.fn<(i: OutboxItem) => Promise<PostResult>>(offline)
    const sender = await idleSender(post, events)
    const a = item('a', 1)
    await sender.send(a, outbox.add(a))
    expect(log).toEqual(['sending a', 'queued a'])
    expect((await outbox.list()).map((i) => i.clientId)).toEqual(['a'])
    expect(timers.delays()).toEqual([MIN_RETRY_MS])
    // Meanwhile a second message waits behind it, through the outbox.
    const b = item('b', 2)
    await sender.send(b, outbox.add(b))
    expect(post).toHaveBeenCalledTimes(2) // the flush stopped at a again
    post.mockImplementation((i) => Promise.resolve<PostResult>(confirmed(i)))
    timers.fireAll()
    await sender.flush()
    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a', 'a', 'a', 'b'])
    expect(await outbox.list()).toEqual([])
  })

  it('marks a refused item failed in the outbox, once stored', async () => {
    const { log, events } = recorder()
    const post = vi.fn(() => Promise.reject(new ApiRequestError(403, 'forbidden', 'This chat is archived.')))
    const sender = await idleSender(post, events)
    const a = item('a', 1)
    await sender.send(a, outbox.add(a))
    expect(log).toEqual(['sending a', 'failed a: This chat is archived.'])
    expect(await outbox.list()).toEqual([{ ...a, error: 'This chat is archived.' }])
  })

  it('fails the item when neither the POST nor the outbox write succeeded', async () => {
    const { log, events } = recorder()
    const sender = await idleSender(offline, events)
    const a = item('a', 1)
    await sender.send(a, Promise.reject(new Error('QuotaExceededError')))
    expect(log).toEqual(['sending a', 'failed a: Could not store the message for sending: QuotaExceededError'])
  })

  it('does not overtake a flush in progress or a message in flight: those go through the outbox in order', async () => {
    const { events } = recorder()
    const answers: Array<() => void> = []
    const post = vi.fn(
      (i: OutboxItem) => new Promise<PostResult>((resolve) => answers.push(() => resolve(confirmed(i)))),
    )
    const sender = await idleSender(post, events)
    const a = item('a', 1)
    const b = item('b', 2)
    const sentA = sender.send(a, outbox.add(a))
    const sentB = sender.send(b, outbox.add(b))
    await vi.waitFor(() => expect(answers.length).toBe(1))
    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a'])
    answers[0]?.()
    await sentA
    await vi.waitFor(() => expect(answers.length).toBe(2))
    answers[1]?.()
    await sentB
    expect(post.mock.calls.map(([i]) => i.clientId)).toEqual(['a', 'b']) // each once
    expect(await outbox.list()).toEqual([])
  })

  it('after a reload between the write and the answer, sends the item once more with the same clientId', async () => {
    const { events } = recorder()
    const post = vi.fn(() => new Promise<PostResult>(() => undefined)) // the page goes before the answer
    const sender = await idleSender(post, events)
    const a = item('a', 1)
    const stored = outbox.add(a)
    void sender.send(a, stored)
    await stored
    sender.stop()
    // The reloaded page: a new outbox on the same database, a new sender.
    const reloaded = new IndexedDbOutbox(factory)
    const again = vi.fn((i: OutboxItem) => Promise.resolve<PostResult>(confirmed(i)))
    const next = new OutboxSender({ outbox: reloaded, post: again, events: recorder().events, locks: null, timers })
    await next.flush()
    await next.flush()
    expect(again.mock.calls.map(([i]) => i.clientId)).toEqual(['a'])
    expect(await reloaded.list()).toEqual([])
  })
})
