import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiRequestError } from '../api/client'
import type { Event as ServerEvent } from '../api/types'
import { RecentIds, StreamClient, unreachable, type StreamClientOptions } from './StreamClient'
import { FakeApi, FakeEventSources, isLocalResync, message, newMessage, typing } from './testing'
import type { ConnectionInfo } from './types'

const T0 = 1_700_000_000_000
const KEEPALIVE = 60_000
const POLL = 5_000

function setup(options: Partial<StreamClientOptions> = {}, api = new FakeApi('c1', 'c2')) {
  const sources = new FakeEventSources()
  const win = Object.assign(new EventTarget(), { navigator: { onLine: true } })
  const client = new StreamClient({
    keepaliveMs: KEEPALIVE,
    api,
    createEventSource: sources.create,
    pollIntervalMs: POLL,
    random: () => 0.5,
    window: win,
    ...options,
  })
  const events: ServerEvent[] = []
  const localResyncs: ServerEvent[] = [] // kept apart: most tests are about the server's events
  const infos: ConnectionInfo[] = []
  client.onEvent((event) => (isLocalResync(event) ? localResyncs : events).push(event))
  client.onInfo((info) => infos.push(info))
  return { client, sources, api, win, events, localResyncs, infos, ids: () => events.map((e) => e.id ?? e.type) }
}

/** Lets pending promise callbacks (a poll's REST answers) run. */
const settle = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})

afterEach(() => {
  vi.useRealTimers()
})

describe('StreamClient', () => {
  it('opens one EventSource on /api/stream and reports connecting, then live', () => {
    const { client, sources, infos } = setup()

    client.start()
    client.start() // idempotent

    expect(sources.all.map((s) => s.url)).toEqual(['/api/stream'])
    expect(client.info()).toEqual({ state: 'connecting', lastEventAt: null, reconnects: 0, latencyMs: null })
    const connecting = client.info()
    sources.latest().open()
    expect(client.info().state).toBe('live')
    expect(client.info()).not.toBe(connecting) // a new object for React to compare
    expect(infos.map((i) => i.state)).toEqual(['live'])
  })

  it('delivers durable and ephemeral events in order and records when the last one came', async () => {
    const { client, sources, events, infos } = setup()
    client.start()
    sources.latest().open()

    const first = newMessage(message('E10', 'c1'))
    sources.latest().send(first)
    await vi.advanceTimersByTimeAsync(250)
    sources.latest().send(typing('c1'))

    expect(events).toEqual([first, typing('c1')])
    expect(client.info().lastEventAt).toBe(T0 + 250)
    expect(infos.map((i) => i.lastEventAt)).toEqual([T0, T0 + 250]) // the open (live), then TYPING
    expect(client.lastEventId()).toBe('E10')
  })

  it('retries with exponential backoff and full jitter, capped at 30 s', async () => {
    const randoms = [0.25, 0.999, 0.5, 0.75, 0.1, 0.999, 0.999]
    const { client, sources } = setup({ random: () => randoms.shift() ?? 0, pollIntervalMs: 3_600_000 })
    client.start()
    sources.latest().open()

    const delays: number[] = []
    for (let i = 0; i < 7; i++) {
      const failedAt = Date.now()
      sources.latest().fail() // the first drops a live stream, the others are failed connects
      const count = sources.all.length
      await vi.advanceTimersToNextTimerAsync()
      expect(sources.all).toHaveLength(count + 1)
      delays.push(Date.now() - failedAt)
    }

    // random × min(30 s, 1 s × 2^failures in a row); fake timers round delays down to whole ms.
    const expected = [0.25 * 1000, 0.999 * 2000, 0.5 * 4000, 0.75 * 8000, 0.1 * 16000, 0.999 * 30000, 0.999 * 30000]
    delays.forEach((delay, i) => {
      expect(Math.abs(delay - (expected[i] ?? NaN))).toBeLessThanOrEqual(1)
      expect(delay).toBeLessThan(30_000)
    })
    expect(client.info().reconnects).toBe(7)
  })

  it('replaces a stream that shows nothing for twice the keepalive interval, resuming after the last id', async () => {
    const { client, sources, events } = setup({ keepaliveMs: 1_000 })
    client.start()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))

    await vi.advanceTimersByTimeAsync(1_999)
    sources.latest().send(typing('c1')) // any event restarts the clock
    await vi.advanceTimersByTimeAsync(1_999)
    expect(sources.all).toHaveLength(1)

    await vi.advanceTimersByTimeAsync(1)
    expect(sources.all).toHaveLength(2)
    expect(sources.all[0]?.closed).toBe(true)
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E10')
    expect(client.info()).toMatchObject({ state: 'reconnecting', reconnects: 1 })

    sources.latest().open()
    sources.latest().send(newMessage(message('E20', 'c1')))
    expect(client.info().state).toBe('live')
    expect(events.map((e) => e.id ?? e.type)).toEqual(['E10', 'TYPING', 'E20'])
  })

  it('asks listeners to refetch whenever a stream opens without a resume position', async () => {
    const { client, sources, localResyncs } = setup()
    client.start()
    sources.latest().open() // the first open: what was loaded over REST may already be stale
    expect(localResyncs).toHaveLength(1)

    sources.latest().fail() // nothing came over the stream: still no position
    await vi.advanceTimersByTimeAsync(5_000)
    expect(sources.all).toHaveLength(2)
    sources.latest().open()
    expect(localResyncs).toHaveLength(2)

    sources.latest().send(newMessage(message('E10', 'c1')))
    sources.latest().fail()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(sources.all).toHaveLength(3)
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E10')
    sources.latest().open() // resumes: the server replays the gap, no refetch needed
    expect(localResyncs).toHaveLength(2)
  })

  it('keeps an idle stream whose keepalives arrive, and records them as activity', async () => {
    const { client, sources, events } = setup({ keepaliveMs: 1_000 })
    client.start()
    sources.latest().open()
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(1_100) // the server jitters its keepalives by ±10 %
      sources.latest().keepalive()
    }
    expect(sources.all).toHaveLength(1)
    expect(client.info()).toMatchObject({ state: 'live', reconnects: 0, lastEventAt: Date.now() })
    expect(events).toEqual([]) // keepalives are not events

    await vi.advanceTimersByTimeAsync(2_000) // and then they stop: the stream is dead
    expect(sources.all).toHaveLength(2)
    expect(client.info().state).toBe('reconnecting')
  })

  it('counts a connect that does not open within twice the keepalive interval as failed', async () => {
    const { client, sources, api } = setup({ keepaliveMs: 1_000 })
    client.start()

    // Silent connects at 0, 3 s and 7 s (backoffs of 0.5 × 2 s and 0.5 × 4 s in between).
    await vi.advanceTimersByTimeAsync(8_999)
    expect(sources.all).toHaveLength(3)
    expect(client.info().state).toBe('reconnecting')
    expect(api.listChats).not.toHaveBeenCalled()

    await vi.advanceTimersByTimeAsync(1)
    expect(client.info().state).toBe('polling')
    expect(api.listChats).toHaveBeenCalledTimes(1)
    expect(sources.all.every((s) => s.closed)).toBe(true)
  })

  describe('polling', () => {
    /** A live stream that delivered E30, then dropped and failed to reconnect 3 times. */
    async function pollingAfterE30() {
      const api = new FakeApi('c1', 'c2')
      api.add(message('E10', 'c1'), message('E20', 'c2'), message('E30', 'c1'))
      const s = setup({}, api)
      s.client.start()
      s.sources.latest().open()
      s.sources.latest().send(newMessage(message('E30', 'c1')))
      // While the client cannot connect, E40 and E50 are posted.
      api.add(message('E40', 'c2'), message('E50', 'c1'))
      s.sources.latest().fail()
      for (let i = 0; i < 3; i++) {
        await vi.advanceTimersToNextTimerAsync()
        s.sources.latest().fail()
      }
      await settle()
      return s
    }

    it('starts after 3 failed connects and fetches only what came after the stream position', async () => {
      const { client, api, ids } = await pollingAfterE30()

      expect(client.info().state).toBe('polling')
      expect(api.listChats).toHaveBeenCalledTimes(1)
      expect(api.listMessages.mock.calls).toEqual([
        ['c1', { after: 'E30', limit: 200, fresh: true }],
        ['c2', { after: 'E30', limit: 200, fresh: true }],
      ])
      expect(ids()).toEqual(['E30', 'E40', 'E50']) // id order across chats
    })

    it('polls again every interval, asking only chats with news for messages after the newest seen', async () => {
      const { client, api, ids, events } = await pollingAfterE30()
      api.listMessages.mockClear()
      api.add(message('E60', 'c2'))

      await vi.advanceTimersByTimeAsync(POLL)

      expect(api.listChats).toHaveBeenCalledTimes(2)
      expect(api.listMessages.mock.calls).toEqual([['c2', { after: 'E40', limit: 200, fresh: true }]])
      expect(ids()).toEqual(['E30', 'E40', 'E50', 'E60'])
      expect(events.at(-1)).toEqual(newMessage(message('E60', 'c2')))
      expect(client.info().state).toBe('polling')
    })

    it('goes live when SSE is back, stops polling, and delivers the overlap once', async () => {
      const { client, sources, api, ids } = await pollingAfterE30()
      // The background retry (0.5 × 8 s after the third failure) opens a stream.
      await vi.advanceTimersByTimeAsync(4_000)
      const restored = sources.latest()
      expect(restored.closed).toBe(false)
      expect(restored.url).toBe('/api/stream?lastEventId=E30') // the SSE position, not E50

      restored.open()
      expect(client.info()).toMatchObject({ state: 'live', reconnects: 4 })
      // The server replays everything after E30: polled messages again, and what polling
      // cannot see (a CHAT_UPDATED), then live events.
      restored.send(newMessage(message('E40', 'c2')))
      restored.send({ id: 'E45', type: 'CHAT_UPDATED', chatId: 'c2', timestamp: 1 })
      restored.send(newMessage(message('E50', 'c1')))
      restored.send(newMessage(message('E70', 'c1')))

      expect(ids()).toEqual(['E30', 'E40', 'E50', 'E45', 'E70'])
      await vi.advanceTimersByTimeAsync(5 * POLL)
      expect(api.listChats).toHaveBeenCalledTimes(1)
      expect(client.lastEventId()).toBe('E70')
    })

    it('without a stream position, takes a chat’s newest message as its baseline and asks to refetch', async () => {
      const api = new FakeApi('c1', 'c2') // c2 has no messages yet
      api.add(message('E10', 'c1'))
      const { client, sources, ids, localResyncs } = setup({}, api)
      client.start()
      for (let i = 0; i < 3; i++) {
        sources.latest().fail()
        if (i < 2) await vi.advanceTimersToNextTimerAsync()
      }
      await settle()
      expect(client.info().state).toBe('polling')
      expect(api.listMessages).not.toHaveBeenCalled() // what came before the baseline…
      expect(ids()).toEqual([])
      // …may have come after the listeners loaded over REST: they refetch, as after RESYNC.
      expect(localResyncs).toHaveLength(1)

      api.add(message('E20', 'c2'), message('E30', 'c1'))
      await vi.advanceTimersByTimeAsync(POLL)

      expect(api.listMessages.mock.calls).toEqual([
        ['c1', { after: 'E10', limit: 200, fresh: true }],
        ['c2', { after: '00000000000000000000000000', limit: 200, fresh: true }],
      ])
      expect(ids()).toEqual(['E20', 'E30'])
      expect(localResyncs).toHaveLength(1) // the baselines are known now: once is enough

      api.chatIds.push('c3') // a chat the polls have not seen (e.g. one the user was added to)
      api.add(message('E40', 'c3'))
      await vi.advanceTimersByTimeAsync(POLL)
      expect(localResyncs).toHaveLength(2)
      expect(ids()).toEqual(['E20', 'E30'])
    })

    it('asks for no refetch when polling starts after the stream had a position', async () => {
      const { localResyncs } = await pollingAfterE30()
      expect(localResyncs).toHaveLength(1) // the first open's, none from polling
    })

    it('pages through a chat with more new messages than one page', async () => {
      const api = new FakeApi('c1')
      const { client, sources, ids } = setup({}, api)
      client.start()
      sources.latest().open()
      sources.latest().send(newMessage(message('E000', 'c1')))
      const burst = Array.from({ length: 250 }, (_, i) => message(`E${String(i + 1).padStart(3, '0')}`, 'c1'))
      api.add(...burst)
      sources.latest().fail()
      for (let i = 0; i < 3; i++) {
        await vi.advanceTimersToNextTimerAsync()
        sources.latest().fail()
      }
      await settle()

      expect(api.listMessages.mock.calls).toEqual([
        ['c1', { after: 'E000', limit: 200, fresh: true }],
        ['c1', { after: 'E200', limit: 200, fresh: true }],
      ])
      expect(ids()).toEqual(['E000', ...burst.map((m) => m.id)])
    })

    it('lets a poll’s 401 reach the API client’s onUnauthorized: the session ended', async () => {
      const body = JSON.stringify({ error: { code: 'unauthorized', message: 'Sign in first.' } })
      vi.stubGlobal('fetch', vi.fn(() => Promise.resolve(new Response(body, { status: 401 }))))
      const api = new ApiClient()
      const ended = vi.fn()
      api.onUnauthorized(ended)
      const sources = new FakeEventSources()
      const client = new StreamClient({
        keepaliveMs: KEEPALIVE,
        api,
        createEventSource: sources.create,
        random: () => 0.5,
      })
      client.start()
      // An EventSource answered 401 only fails: it cannot say why. After 3 failures, the poll can.
      for (let i = 0; i < 3; i++) {
        sources.latest().fail()
        if (i < 2) await vi.advanceTimersToNextTimerAsync()
      }
      await settle()

      expect(client.info().state).toBe('polling')
      expect(ended).toHaveBeenCalledOnce()
      client.stop()
    })

    it('keeps polling when a poll fails', async () => {
      const { client, api, ids } = await pollingAfterE30()
      api.listChats.mockRejectedValueOnce(new TypeError('Failed to fetch'))
      api.add(message('E60', 'c1'))

      await vi.advanceTimersByTimeAsync(POLL)
      expect(ids()).toEqual(['E30', 'E40', 'E50'])
      // The SSE retry (at 4 s) is still connecting: polling goes on.
      await vi.advanceTimersByTimeAsync(POLL)
      expect(client.info().state).toBe('polling')
      expect(ids()).toEqual(['E30', 'E40', 'E50', 'E60'])
    })
  })

  describe('honest state: polling only while REST is answered', () => {
    const NETWORK_ERROR = new TypeError('Failed to fetch')

    /**
     * A live stream that drops and whose next 3 connects fail at once (connection refused), while
     * REST fails with `error` (undefined: REST works). Returns when the first poll has answered.
     */
    async function streamDownAfterLive(error: Error | undefined) {
      const s = setup()
      s.client.start()
      s.sources.latest().open()
      s.api.failWith = error
      s.sources.latest().fail()
      for (let i = 0; i < 3; i++) {
        await vi.advanceTimersToNextTimerAsync()
        s.sources.latest().fail()
      }
      await settle()
      expect(s.api.listChats).toHaveBeenCalledTimes(1)
      return s
    }

    /** Fails the current EventSource, if one is connecting (a dead server refuses at once). */
    function refuse(sources: FakeEventSources) {
      const latest = sources.latest()
      if (!latest.closed) latest.fail()
    }

    it('stays Reconnecting…, never Polling, while the server is down and REST fails too', async () => {
      const { client, sources, api, infos } = await streamDownAfterLive(NETWORK_ERROR)
      expect(client.info().state).toBe('reconnecting')

      // Two minutes of failed polls and refused connects.
      for (let t = 0; t < 120_000; t += 500) {
        await vi.advanceTimersByTimeAsync(500)
        refuse(sources)
      }
      expect(api.listChats.mock.calls.length).toBeGreaterThan(10) // the polls go on, as probes
      expect(client.info().state).toBe('reconnecting')
      expect(infos.map((i) => i.state)).not.toContain('polling')
    })

    const outcomes: [string, 'reconnecting' | 'polling', Error | undefined][] = [
      ['a network error', 'reconnecting', NETWORK_ERROR],
      ['a timeout', 'reconnecting', new DOMException('signal timed out', 'TimeoutError')],
      ['502 from a proxy', 'reconnecting', new ApiRequestError(502, 'bad_gateway', 'Bad gateway')],
      ['503', 'reconnecting', new ApiRequestError(503, 'unavailable', 'Unavailable')],
      ['429 (the server answers)', 'polling', new ApiRequestError(429, 'rate_limited', 'Slow down')],
      ['messages (REST works)', 'polling', undefined],
    ]
    it.each(outcomes)('after 3 failed connects, a poll answered with %s means %s', async (_, state, error) => {
      const { client } = await streamDownAfterLive(error)
      expect(client.info().state).toBe(state)
      if (error !== undefined) expect(unreachable(error)).toBe(state === 'reconnecting')
    })

    it('says Reconnecting… until the first poll answers, then Polling while the stream cannot be held', async () => {
      // A proxy that buffers SSE: connects never open (nothing arrives), REST answers.
      let answer: () => void = () => undefined
      const api = new FakeApi('c1')
      const { client, sources, infos } = setup({ keepaliveMs: 1_000 }, api)
      const gate = new Promise<void>((resolve) => (answer = resolve))
      const listChats = api.listChats.getMockImplementation()
      api.listChats.mockImplementationOnce(async () => {
        await gate
        return listChats ? listChats() : []
      })
      client.start()
      await vi.advanceTimersByTimeAsync(9_000) // 3 silent connects (see above)
      expect(api.listChats).toHaveBeenCalledTimes(1)
      expect(client.info().state).toBe('reconnecting') // the poll has not answered yet

      answer()
      await settle()
      expect(client.info().state).toBe('polling')

      const seen = infos.length
      await vi.advanceTimersByTimeAsync(120_000) // SSE retries go on, silent too
      expect(sources.all.length).toBeGreaterThan(4)
      expect(new Set(infos.slice(seen).map((i) => i.state))).toEqual(new Set(['polling']))
    })

    it('goes from Polling to Reconnecting… when the server goes down', async () => {
      const { client, api, sources, infos } = await streamDownAfterLive(undefined)
      expect(client.info().state).toBe('polling')
      api.failWith = NETWORK_ERROR
      await vi.advanceTimersByTimeAsync(POLL)
      refuse(sources)
      expect(client.info().state).toBe('reconnecting')
      await vi.advanceTimersByTimeAsync(30_000)
      refuse(sources)
      expect(infos.at(-1)?.state).toBe('reconnecting')
    })

    it('retries SSE at once when REST answers again, and goes Live without showing Polling', async () => {
      const { client, sources, api, infos } = await streamDownAfterLive(NETWORK_ERROR)
      // The retry 0.5 × 8 s after the third failure is refused too: the next waits 0.5 × 16 s.
      await vi.advanceTimersByTimeAsync(4_000)
      refuse(sources)
      const count = sources.all.length
      api.failWith = undefined // the server is back

      await vi.advanceTimersByTimeAsync(1_000) // the poll 5 s after the first one answers
      expect(sources.all).toHaveLength(count + 1) // without waiting out the backoff
      expect(client.info().state).toBe('reconnecting')
      sources.latest().open()
      expect(client.info().state).toBe('live')
      expect(infos.map((i) => i.state)).not.toContain('polling')
    })

    it('shows Polling once REST answers but that retry fails too', async () => {
      const { client, sources, api } = await streamDownAfterLive(NETWORK_ERROR)
      await vi.advanceTimersByTimeAsync(4_000)
      refuse(sources)
      api.failWith = undefined
      await vi.advanceTimersByTimeAsync(1_000)
      expect(client.info().state).toBe('reconnecting')
      sources.latest().fail()
      expect(client.info().state).toBe('polling')
    })
  })

  it('delivers RESYNC and resumes from the log head it carries', async () => {
    const { client, sources, events } = setup()
    client.start()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    sources.latest().fail()
    await vi.advanceTimersToNextTimerAsync()
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E10')

    const resync: ServerEvent = { id: 'E90', type: 'RESYNC', timestamp: 2 }
    sources.latest().open()
    sources.latest().send(resync)
    sources.latest().send(newMessage(message('E91', 'c1')))
    sources.latest().fail()
    await vi.advanceTimersToNextTimerAsync()

    expect(events.slice(1)).toEqual([resync, newMessage(message('E91', 'c1'))])
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E91')
  })

  it('delivers a RESYNC whose head is below the last id, and what follows it', () => {
    const { client, sources, ids } = setup()
    client.start()
    sources.latest().open()
    sources.latest().send(newMessage(message('E50', 'c1')))
    sources.latest().send({ id: 'E20', type: 'RESYNC', timestamp: 2 }) // e.g. a restored server
    sources.latest().send(newMessage(message('E30', 'c1')))

    expect(ids()).toEqual(['E50', 'E20', 'E30'])
  })

  it('drops durable events replayed after a reconnect', async () => {
    const { client, sources, ids } = setup()
    client.start()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    sources.latest().send(newMessage(message('E20', 'c1')))
    sources.latest().fail()
    await vi.advanceTimersToNextTimerAsync()

    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))
    sources.latest().send(newMessage(message('E20', 'c1')))
    sources.latest().send(typing('c1'))
    sources.latest().send(newMessage(message('E30', 'c1')))

    expect(ids()).toEqual(['E10', 'E20', 'TYPING', 'E30'])
  })

  it('resumes after initialLastEventId', () => {
    const { client, sources, ids } = setup({ initialLastEventId: 'E50' })
    client.start()
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E50')
    sources.latest().open()
    sources.latest().send(newMessage(message('E40', 'c1')))
    sources.latest().send(newMessage(message('E60', 'c1')))
    expect(ids()).toEqual(['E60'])
  })

  it('ignores data that is not an event', () => {
    const { client, sources, events } = setup()
    client.start()
    sources.latest().open()
    sources.latest().onmessage?.(new MessageEvent('message', { data: 'not json' }))
    sources.latest().onmessage?.(new MessageEvent('message', { data: '{"id":7,"type":"NEW_MESSAGE"}' }))
    expect(events).toEqual([])
    expect(client.info().state).toBe('live')
  })

  it('goes offline on the offline event, and reconnects at once when back online', async () => {
    const { client, sources, win, api } = setup()
    client.start()
    sources.latest().open()
    sources.latest().send(newMessage(message('E10', 'c1')))

    win.dispatchEvent(new Event('offline'))
    expect(client.info().state).toBe('offline')
    expect(sources.latest().closed).toBe(true)
    await vi.advanceTimersByTimeAsync(10 * 60_000)
    expect(sources.all).toHaveLength(1)
    expect(api.listChats).not.toHaveBeenCalled()

    win.dispatchEvent(new Event('online'))
    expect(sources.all).toHaveLength(2)
    expect(sources.latest().url).toBe('/api/stream?lastEventId=E10')
    expect(client.info()).toMatchObject({ state: 'reconnecting', reconnects: 1 })
    sources.latest().open()
    expect(client.info().state).toBe('live')
  })

  it('stops polling while offline', async () => {
    const { client, sources, win, api } = setup()
    client.start()
    for (let i = 0; i < 3; i++) {
      sources.latest().fail()
      if (i < 2) await vi.advanceTimersToNextTimerAsync()
    }
    await settle()
    expect(api.listChats).toHaveBeenCalledTimes(1)

    win.dispatchEvent(new Event('offline'))
    await vi.advanceTimersByTimeAsync(10 * 60_000)
    expect(api.listChats).toHaveBeenCalledTimes(1)
    expect(sources.all).toHaveLength(3)
  })

  it('starts offline when the browser has no network', () => {
    const { client, sources, win } = setup()
    win.navigator.onLine = false
    client.start()
    expect(client.info().state).toBe('offline')
    expect(sources.all).toHaveLength(0)

    win.dispatchEvent(new Event('online'))
    expect(sources.all).toHaveLength(1)
  })

  it('measures the latency of a sent message’s echo', async () => {
    const { client, sources } = setup()
    client.start()
    sources.latest().open()

    client.expectEcho('client-1', Date.now())
    await vi.advanceTimersByTimeAsync(42)
    sources.latest().send(newMessage(message('E10', 'c1', 'someone-else')))
    expect(client.info().latencyMs).toBeNull()
    sources.latest().send(newMessage(message('E20', 'c1', 'client-1')))
    expect(client.info().latencyMs).toBe(42)

    await vi.advanceTimersByTimeAsync(100)
    sources.latest().send(newMessage(message('E30', 'c1', 'client-1'))) // measured once
    expect(client.info().latencyMs).toBe(42)
  })

  it('stops: closes the stream, no more retries; listeners can unsubscribe', async () => {
    const { client, sources } = setup()
    const seen: ServerEvent[] = []
    const unsubscribe = client.onEvent((event) => seen.push(event))
    client.start()
    sources.latest().open()
    sources.latest().send(typing('c1'))
    unsubscribe()
    sources.latest().send(typing('c2'))
    expect(seen.filter((e) => !isLocalResync(e))).toEqual([typing('c1')])

    client.stop()
    expect(sources.latest().closed).toBe(true)
    await vi.advanceTimersByTimeAsync(10 * 60_000)
    expect(sources.all).toHaveLength(1)
  })

  it('keeps delivering to the other listeners when one throws', () => {
    const { client, sources, events } = setup()
    const report = vi.spyOn(console, 'error').mockImplementation(() => {})
    client.onEvent(() => {
      throw new Error('boom')
    })
    const after: ServerEvent[] = []
    client.onEvent((event) => after.push(event))
    client.start()
    sources.latest().open()
    sources.latest().send(typing('c1'))

    expect(events).toEqual([typing('c1')])
    expect(after.filter((e) => !isLocalResync(e))).toEqual([typing('c1')])
    expect(report).toHaveBeenCalledTimes(2) // the open's own RESYNC, then TYPING
  })
})

describe('RecentIds', () => {
  it('forgets the oldest id beyond its capacity', () => {
    const ids = new RecentIds(2)
    ids.add('a')
    ids.add('b')
    ids.add('c')
    expect(['a', 'b', 'c'].map((id) => ids.has(id))).toEqual([false, true, true])
  })
})
