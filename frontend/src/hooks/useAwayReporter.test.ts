import { renderHook } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { AWAY_AFTER_MS, useAwayReporter } from './useAwayReporter'

afterEach(() => {
  vi.useRealTimers()
})

function hide(hidden: boolean) {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') })
}

describe('useAwayReporter', () => {
  it('reports away after the idle time with the tab hidden, and back on input, once each', () => {
    vi.useFakeTimers()
    const setAway = vi.fn<(away: boolean) => Promise<void>>(() => Promise.resolve())
    renderHook(() => useAwayReporter(setAway))
    hide(true)
    vi.advanceTimersByTime(AWAY_AFTER_MS - 1)
    expect(setAway).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(setAway).toHaveBeenCalledWith(true)
    hide(false)
    document.dispatchEvent(new Event('keydown'))
    document.dispatchEvent(new Event('keydown'))
    expect(setAway.mock.calls).toEqual([[true], [false]])
  })

  it('stays online while the tab is visible', () => {
    vi.useFakeTimers()
    const setAway = vi.fn<(away: boolean) => Promise<void>>(() => Promise.resolve())
    hide(false)
    renderHook(() => useAwayReporter(setAway))
    vi.advanceTimersByTime(AWAY_AFTER_MS * 2)
    expect(setAway).not.toHaveBeenCalled()
  })
})
