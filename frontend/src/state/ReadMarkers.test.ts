import { describe, expect, it, vi } from 'vitest'
import { ReadMarkers } from './ReadMarkers'

/** A markRead whose requests the test answers one by one. */
function deferredSend() {
  const answers: { resolve: () => void; reject: (err: Error) => void }[] = []
  const send = vi.fn<(chatId: string, messageId: string) => Promise<void>>(
    () => new Promise<void>((resolve, reject) => answers.push({ resolve, reject })),
  )
  const settle = async (ok: boolean) => {
    const answer = answers.shift()
    if (!answer) throw new Error('no request in flight')
    if (ok) answer.resolve()
    else answer.reject(new TypeError('Failed to fetch'))
    await new Promise((resolve) => setTimeout(resolve, 0)) // drains the promise continuations
  }
  return { send, settle }
}

describe('ReadMarkers', () => {
  it('sends one request per chat at a time, then only the newest id asked for meanwhile', async () => {
    const { send, settle } = deferredSend()
    const reads = new ReadMarkers(send)

    reads.mark('c1', '05')
    reads.mark('c1', '07')
    reads.mark('c1', '06')
    reads.mark('c2', '03')
    expect(send.mock.calls).toEqual([
      ['c1', '05'],
      ['c2', '03'],
    ])

    await settle(true)
    expect(send.mock.calls.at(-1)).toEqual(['c1', '07'])
    expect(send).toHaveBeenCalledTimes(3)
  })

  it('skips ids at or behind the marker, the known one or one it moved', async () => {
    const { send, settle } = deferredSend()
    const reads = new ReadMarkers(send)

    reads.mark('c1', '04', '04')
    expect(send).not.toHaveBeenCalled()

    reads.mark('c1', '08', '04')
    await settle(true)
    reads.mark('c1', '06', '04')

    expect(send.mock.calls).toEqual([['c1', '08']])
  })

  it('tries an id again after its request failed', async () => {
    const { send, settle } = deferredSend()
    const reads = new ReadMarkers(send)

    reads.mark('c1', '08')
    await settle(false)
    reads.mark('c1', '08')

    expect(send.mock.calls).toEqual([
      ['c1', '08'],
      ['c1', '08'],
    ])
  })
})
