import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FOCUS_DEBOUNCE_MS, type FocusDocument, startFocusReporter } from './focusReporter'

/** A document whose focus and visibility the test sets. */
class FakeDocument extends EventTarget implements FocusDocument {
  focused = true
  hidden = false

  hasFocus(): boolean {
    return this.focused
  }
}

describe('startFocusReporter', () => {
  let win: EventTarget
  let doc: FakeDocument
  let report: ReturnType<typeof vi.fn<(focused: boolean) => Promise<void>>>
  let stop: () => void = () => undefined

  beforeEach(() => {
    vi.useFakeTimers()
    win = new EventTarget()
    doc = new FakeDocument()
    report = vi.fn<(focused: boolean) => Promise<void>>().mockResolvedValue(undefined)
  })

  afterEach(() => {
    stop()
    vi.useRealTimers()
  })

  const start = () => {
    stop = startFocusReporter({ report, win, doc })
  }

  it('reports the state once at start', () => {
    doc.focused = false

    start()

    expect(report.mock.calls).toEqual([[false]])
  })

  it('reports a change once it has settled for the debounce time', () => {
    start()
    report.mockClear()

    doc.focused = false
    win.dispatchEvent(new Event('blur'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS - 1)
    expect(report).not.toHaveBeenCalled()

    vi.advanceTimersByTime(1)
    expect(report.mock.calls).toEqual([[false]])
  })

  it('reports a burst of events once, with the state it ends in', () => {
    start()
    report.mockClear()

    doc.focused = false
    win.dispatchEvent(new Event('blur'))
    vi.advanceTimersByTime(50)
    doc.focused = true
    win.dispatchEvent(new Event('focus'))
    vi.advanceTimersByTime(50)
    doc.focused = false
    win.dispatchEvent(new Event('blur'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)

    expect(report.mock.calls).toEqual([[false]])
  })

  it('counts a hidden window as unfocused, and does not repeat an unchanged state', () => {
    start()
    report.mockClear()

    doc.hidden = true // minimized: the document may still claim focus
    doc.dispatchEvent(new Event('visibilitychange'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)
    win.dispatchEvent(new Event('blur'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)
    doc.hidden = false
    doc.dispatchEvent(new Event('visibilitychange'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)

    expect(report.mock.calls).toEqual([[false], [true]])
  })

  it('reports again after a report failed', async () => {
    report.mockRejectedValueOnce(new Error('app busy'))
    start()
    await vi.advanceTimersByTimeAsync(0) // the rejection is handled

    win.dispatchEvent(new Event('focus'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)

    expect(report.mock.calls).toEqual([[true], [true]])
  })

  it('stops listening, and drops a pending report, when stopped', () => {
    start()
    report.mockClear()
    doc.focused = false
    win.dispatchEvent(new Event('blur'))

    stop()
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)
    win.dispatchEvent(new Event('focus'))
    vi.advanceTimersByTime(FOCUS_DEBOUNCE_MS)

    expect(report).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })
})
