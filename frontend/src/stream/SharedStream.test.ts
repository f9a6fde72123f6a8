import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Event as ServerEvent } from '../api/types'
import { createEventStream } from './index'
import { relayChannelName, SharedStream, type ChannelLike, type LocksLike } from './SharedStream'
import { StreamClient } from './StreamClient'
import { FakeApi, FakeEventSources, isLocalResync, message, newMessage, typing } from './testing'
import type { ConnectionInfo } from './types'

interface LockRequest {
  callback: () => Promise<void>
  resolve: (value: unknown) => void
}

/** navigator.locks for one origin: exclusive locks, each granted in request order, asynchronously. */
class FakeLocks implements LocksLike {
  private readonly held = new Set<string>()
  private readonly queues = new Map<string, LockRequest[]>()

  request(name: string, { signal }: { signal: AbortSignal }, callback: () => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry = { callback, resolve }
      const queue = this.queues.get(name) ?? []
      this.queues.set(name, queue)
      queue.push(entry)
      signal.addEventListener('abort', () => {
        const i = queue.indexOf(entry)
        if (i < 0) return // granted already: aborting has no effect
        queue.splice(i, 1)
        reject(new DOMException('The request was aborted.', 'AbortError'))
      })
      this.grant(name)
    })
  }

  private grant(name: string): void {
    if (this.held.has(name)) return
    const next = this.queues.get(name)?.shift()
    if (next === undefined) return
    this.held.add(name)
    queueMicrotask(() => {
      void next
        .callback()
        .then(next.resolve)
        .finally(() => {
          this.held.delete(name)
          this.grant(name)
        })
    })
  }
}

/** BroadcastChannels of one origin: a message reaches every other open channel of its name. */
class FakeChannels {
  private readonly open = new Set<FakeChannel>()

  readonly create = (name: string): FakeChannel => {
    const channel = new FakeChannel(name, this.open)
    this.open.add(channel)
    return channel
  }
}

class FakeChannel implements ChannelLike {
  onmessage: ((event: MessageEvent) => void) | null = null
  readonly name: string
  private readonly open: Set<FakeChannel>

  constructor(name: string, open: Set<FakeChannel>) {
    this.name = name
    this.open = open
  }

  postMessage(message: unknown): void {
    if (!this.open.has(this)) throw new DOMException('The channel is closed.', 'InvalidStateError')
    const data: unknown = structuredClone(message)
    for (const other of this.open) {
      if (other === this || other.name !== this.name) continue
      queueMicrotask(() => {
        if (this.open.has(other)) other.onmessage?.(new MessageEvent('message', { data }))
      })
    }
  }

  close(): void {
    this.open.delete(this)
  }
}

/** Browser tabs of one origin, sharing locks, channels and (through the server) EventSources. */
function origin() {
  const locks = new FakeLocks()
  const channels = new FakeChannels()
  const sources = new FakeEventSources()
  const api = new FakeApi('c1')

  function tab(userId = 'u1') {
    const page = new EventTarget()
    const stream = new SharedStream({
      userId,
      createStream: (initialLastEventId) =>
        new StreamClient({
          keepaliveMs: 60_000,
          api,
          createEventSource: sources.create,
          initialLastEventId,
          random: () => 0.5,
          window: Object.assign(new EventTarget(), { navigator: { onLine: true } }),
        }),
      locks,
      createChannel: channels.create,
      window: page,
    })
    const events: ServerEvent[] = []
    const localResyncs: ServerEvent[] = []
    const infos: ConnectionInfo[] = []
    stream.onEvent((event) => (isLocalResync(event) ? localResyncs : events).push(event))
    stream.onInfo((info) => infos.push(info))
    return { stream, page, events, localResyncs, infos, ids: () => events.map((e) => e.id ?? e.type) }
  }

  return { sources, api, channels, tab }
}

/** Lets the lock grants and channel messages queued as microtasks run. */
const settle = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('SharedStream', () => {
  it('opens one EventSource for two tabs and relays every event to the follower once', async () => {
    const { sources, tab } = origin()
    const a = tab()
    const b = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    await settle()

    expect(sources.all).toHaveLength(1)
    sources.latest().open()
    const e10 = newMessage(message('E10', 'c1'))
    sources.latest().send(e10)
    sources.latest().send(typing('c1'))
    sources.latest().send(newMessage(message('E20', 'c1')))
    await settle()

    expect(a.ids()).toEqual(['E10', 'TYPING', 'E20'])
    expect(b.ids()).toEqual(['E10', 'TYPING', 'E20'])
    expect(b.events[0]).toEqual(e10)
    expect(b.stream.info()).toEqual(a.stream.info())
    expect(b.stream.info().state).toBe('live')
    expect(b.infos.map((i) => i.state)).toContain('live')
  })

  it('shares a stream only between tabs of the same user', async () => {
    const { sources, tab } = origin()
    const alice = tab('u1')
    const bob = tab('u2') // e.g. signed out and in again as someone else in another tab
    alice.stream.start()
    await settle()
    bob.stream.start()
    await settle()

    expect(sources.all).toHaveLength(2)
    const [alices, bobs] = sources.all
    alices?.open()
    alices?.send(newMessage(message('E10', 'c1')))
    bobs?.open()
    bobs?.send(newMessage(message('E20', 'c2')))
    await settle()

    expect(alice.ids()).toEqual(['E10'])
    expect(bob.ids()).toEqual(['E20'])
  })

  it('tells a tab that joins later the leader’s connection info', async () => {
    const { sources, tab } = origin()
    const a = tab()
    a.stream.start()
    await settle()
    sources.latest().open()
    await settle()

    const c = tab()
    c.stream.start()
    expect(c.stream.info().state).toBe('connecting')
    await settle()
    expect(c.stream.info().state).toBe('live')
    expect(sources.all).toHaveLength(1)
  })

  it('hands over when the leader stops: the next tab resumes after the last id, without repeats', async () => {
    const { sources, tab } = origin()
    const a = tab()
    const b = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    await settle()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    sources.latest().send(newMessage(message('E20', 'c1')))
    await settle()

    a.stream.stop()
    await settle()

    expect(sources.all).toHaveLength(2)
    expect(sources.all[0]?.closed).toBe(true)
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E20')
    sources.latest().open()
    sources.latest().send(newMessage(message('E20', 'c1'))) // an overlap: delivered already
    sources.latest().send(newMessage(message('E30', 'c1')))
    await settle()

    expect(b.ids()).toEqual(['E10', 'E20', 'E30'])
    expect(b.stream.info().state).toBe('live')
    expect(a.ids()).toEqual(['E10', 'E20']) // a stopped tab hears nothing more
  })

  it('resumes after the leader’s stream position, not after messages it polled', async () => {
    const { sources, api, tab } = origin()
    const a = tab()
    const b = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    await settle()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    api.add(message('E10', 'c1'), message('E20', 'c1'))
    // The stream drops and 3 reconnects fail: the leader polls and relays E20.
    sources.latest().fail()
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersToNextTimerAsync()
      sources.latest().fail()
    }
    await settle()
    expect(b.ids()).toEqual(['E10', 'E20'])
    expect(b.stream.info().state).toBe('polling')

    a.stream.stop()
    await settle()
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E10')
    sources.latest().open()
    sources.latest().send({ id: 'E15', type: 'CHAT_UPDATED', chatId: 'c1', timestamp: 1 })
    sources.latest().send(newMessage(message('E20', 'c1')))
    await settle()

    expect(b.ids()).toEqual(['E10', 'E20', 'E15'])
  })

  it('takes a tab that stops while it waits for the lock out of the queue', async () => {
    const { sources, tab } = origin()
    const a = tab()
    const b = tab()
    const c = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    c.stream.start()
    await settle()

    b.stream.stop()
    a.stream.stop()
    await settle()

    expect(sources.all).toHaveLength(2) // c leads; b, stopped, never does
    sources.latest().open()
    sources.latest().send(typing('c1'))
    await settle()
    expect(c.ids()).toEqual(['TYPING'])
    expect(b.ids()).toEqual([])
  })

  it('hands over when the leader’s page is hidden, and rejoins asking to refetch when restored', async () => {
    const { sources, tab } = origin()
    const a = tab()
    const b = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    await settle()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    await settle()
    const resyncsBefore = a.localResyncs.length

    a.page.dispatchEvent(new Event('pagehide'))
    await settle()
    expect(sources.all).toHaveLength(2)
    expect(sources.all[0]?.closed).toBe(true)
    sources.latest().open()
    sources.latest().send(newMessage(message('E20', 'c1'))) // while a is in the back/forward cache
    await settle()

    a.page.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    await settle()
    sources.latest().send(newMessage(message('E30', 'c1')))
    await settle()
    expect(sources.all).toHaveLength(2) // a follows again
    expect(a.ids()).toEqual(['E10', 'E30'])
    // E20 reached no listener of a: they refetch what they show.
    expect(a.localResyncs).toHaveLength(resyncsBefore + 1)
  })

  it('asks a follower restored from the back/forward cache to refetch what it missed', async () => {
    const { sources, tab } = origin()
    const a = tab()
    const b = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    await settle()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    await settle()
    const resyncsBefore = b.localResyncs.length

    b.page.dispatchEvent(new Event('pagehide'))
    await settle()
    sources.latest().send(newMessage(message('E20', 'c1')))
    await settle()
    b.page.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    await settle()
    sources.latest().send(newMessage(message('E30', 'c1')))
    await settle()

    expect(sources.all).toHaveLength(1)
    expect(b.ids()).toEqual(['E10', 'E30'])
    expect(b.localResyncs).toHaveLength(resyncsBefore + 1)
    expect(b.stream.info().state).toBe('live')
  })

  it('does not rejoin on a pageshow that is not a restore from the back/forward cache', async () => {
    const { sources, tab } = origin()
    const a = tab()
    a.stream.start()
    await settle()
    sources.latest().open()
    await settle()
    const resyncsBefore = a.localResyncs.length

    a.page.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: false }))
    await settle()

    expect(sources.all).toHaveLength(1)
    expect(a.localResyncs).toHaveLength(resyncsBefore)
  })

  it('measures a follower’s echo in the leader', async () => {
    const { sources, tab } = origin()
    const a = tab()
    const b = tab()
    a.stream.start()
    await settle()
    b.stream.start()
    await settle()
    sources.latest().open()

    b.stream.expectEcho('client-1', Date.now())
    await vi.advanceTimersByTimeAsync(30)
    sources.latest().send(newMessage(message('E10', 'c1', 'client-1')))
    await settle()

    expect(a.stream.info().latencyMs).toBe(30)
    expect(b.stream.info().latencyMs).toBe(30)
  })

  it('ignores channel messages that are not relays', async () => {
    const { sources, channels, tab } = origin()
    const a = tab()
    a.stream.start()
    await settle()
    sources.latest().open()
    await settle()
    const live = a.stream.info()

    const stranger = channels.create(relayChannelName('u1')) // e.g. another version of the app
    stranger.postMessage('hello')
    stranger.postMessage({ kind: 'event' })
    stranger.postMessage({ kind: 'info', info: null })
    stranger.postMessage({ kind: 'echo', clientId: 7 })
    stranger.postMessage({ kind: 'shutdown' })
    await settle()

    expect(a.events).toEqual([])
    expect(a.stream.info()).toBe(live)
  })

  it('leads without the lock when the lock manager fails', async () => {
    const sources = new FakeEventSources()
    const locks: LocksLike = { request: () => Promise.reject(new DOMException('no', 'SecurityError')) }
    const stream = new SharedStream({
      userId: 'u1',
      createStream: () =>
        new StreamClient({ keepaliveMs: 60_000, api: new FakeApi(), createEventSource: sources.create }),
      locks,
      createChannel: new FakeChannels().create,
      window: new EventTarget(),
    })
    stream.start()
    await settle()
    expect(sources.all).toHaveLength(1)
    stream.stop()
    expect(sources.latest().closed).toBe(true)
  })
})

describe('createEventStream', () => {
  const options = { keepaliveMs: 30_000, api: new FakeApi() }

  it('shares the stream where Web Locks and BroadcastChannel exist', () => {
    vi.stubGlobal('navigator', { onLine: true, locks: new FakeLocks() })
    vi.stubGlobal('BroadcastChannel', class {})
    expect(createEventStream(options, 'u1')).toBeInstanceOf(SharedStream)
  })

  it('falls back to a stream of its own without Web Locks', () => {
    vi.stubGlobal('navigator', { onLine: true })
    expect(createEventStream(options, 'u1')).toBeInstanceOf(StreamClient)
  })
})
