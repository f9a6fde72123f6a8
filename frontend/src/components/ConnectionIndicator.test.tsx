import { act, render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { ConnectionState } from '../stream/types'
import { SavedCopy } from '../sw/register'
import { ConnectionIndicator } from './ConnectionIndicator'
import { FakeEventStream } from './testFakes'

describe('ConnectionIndicator', () => {
  it.each<[ConnectionState, string, string]>([
    ['live', 'Live', 'connection-live'],
    ['connecting', 'Connecting…', 'connection-connecting'],
    ['reconnecting', 'Reconnecting…', 'connection-reconnecting'],
    ['polling', 'Polling', 'connection-polling'],
    ['offline', 'Offline', 'connection-offline'],
  ])('shows %s as "%s"', (state, text, className) => {
    const stream = new FakeEventStream()
    stream.setInfo({ state })
    render(<ConnectionIndicator stream={stream} />)

    const status = screen.getByRole('status')
    expect(status.textContent).toBe(text)
    expect(status.classList.contains(className)).toBe(true)
  })

  it('follows the stream as its state changes', () => {
    const stream = new FakeEventStream()
    render(<ConnectionIndicator stream={stream} />)
    expect(screen.getByRole('status').textContent).toBe('Connecting…')

    act(() => stream.setInfo({ state: 'live' }))
    expect(screen.getByRole('status').textContent).toBe('Live')

    act(() => stream.setInfo({ state: 'reconnecting', reconnects: 1 }))
    expect(screen.getByRole('status').textContent).toBe('Reconnecting…')
  })

  it('describes the last event, the reconnects and the round trip', () => {
    const stream = new FakeEventStream()
    const lastEventAt = new Date(2025, 0, 2, 9, 30, 15).getTime()
    stream.setInfo({ state: 'live', lastEventAt, reconnects: 3, latencyMs: 41.6 })
    render(<ConnectionIndicator stream={stream} />)

    const time = new Date(lastEventAt).toLocaleTimeString()
    const expected = `Last event at ${time} · 3 reconnects · Round trip 42 ms`
    const status = screen.getByRole('status', { description: expected })
    expect(status.getAttribute('title')).toBe(expected)
    // The description is not part of the status text, which stays the state's word.
    expect(status.textContent).toBe('Live')
  })

  it('says when nothing has been measured yet', () => {
    const stream = new FakeEventStream()
    render(<ConnectionIndicator stream={stream} />)

    expect(screen.getByRole('status').getAttribute('title')).toBe(
      'No event received yet · 0 reconnects · Round trip not measured yet',
    )
    act(() => stream.setInfo({ reconnects: 1 }))
    expect(screen.getByRole('status').getAttribute('title')).toContain('· 1 reconnect ·')
  })

  it('says a saved copy may be out of date while not live, and forgets it once live', () => {
    const stream = new FakeEventStream()
    stream.setInfo({ state: 'offline' })
    const saved = new SavedCopy()
    render(<ConnectionIndicator stream={stream} saved={saved} />)
    expect(screen.queryByText(/Saved copy/)).toBeNull()

    act(() => saved.report(new Date(2025, 0, 2, 9, 30).getTime()))
    const note = screen.getByText('Saved copy, may be out of date')
    expect(note.title).toMatch(/saved at .*9:30.*may have changed/)
    expect(screen.getByRole('status').textContent).toBe('Offline') // the region says only the state

    act(() => stream.setInfo({ state: 'live' }))
    expect(screen.queryByText(/Saved copy/)).toBeNull()
    expect(saved.get()).toBeNull()
  })
})
