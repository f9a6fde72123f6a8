import { act, renderHook } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Silence } from '../api/types'
import { QUIET_FOCUS_REFRESH_MS, QUIET_REFRESH_MS, useQuiet } from './useQuiet'

function silence(change: Partial<Silence> = {}): Silence {
  return { userId: 'u2', reason: 'doNotDisturb', notifyAnyway: false, ...change }
}

/** A store whose quiet() answers from answers in turn (the last one again once they run out). */
function storeAnswering(...answers: (Silence[] | Error)[]) {
  const quiet = vi.fn((chatId: string, userIds?: readonly string[]) => {
    void chatId
    void userIds
    const next = answers.length > 1 ? answers.shift() : answers[0]
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? [])
  })
  return { quiet }
}

/** Lets the pending lookup's promise settle and React render its answer. */
async function settle() {
  await act(async () => {
    await Promise.resolve()
  })
}

describe('useQuiet', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }))
  afterEach(() => vi.useRealTimers())

  it('asks for a DM with no ids, for mentions with them, and nothing for no mentions', async () => {
    const store = storeAnswering([silence()])
    const { result, rerender } = renderHook(({ ids }: { ids: string[] | null }) => useQuiet(store, 'c1', ids), {
      initialProps: { ids: null as string[] | null },
    })
    await settle()
    expect(store.quiet).toHaveBeenLastCalledWith('c1', undefined)
    expect(result.current).toEqual([silence()])
    rerender({ ids: [] })
    expect(result.current).toEqual([])
    expect(store.quiet).toHaveBeenCalledTimes(1)
    rerender({ ids: ['u2', 'u3'] })
    await settle()
    expect(store.quiet).toHaveBeenLastCalledWith('c1', ['u2', 'u3'])
  })

  it('asks again when the window regains focus, but not on every flap of focus', async () => {
    const store = storeAnswering([], [silence()])
    const { result } = renderHook(() => useQuiet(store, 'c1', null))
    await settle()
    expect(result.current).toEqual([])
    act(() => {
      window.dispatchEvent(new Event('focus'))
    })
    expect(store.quiet).toHaveBeenCalledTimes(1) // the answer is fresh
    vi.setSystemTime(Date.now() + QUIET_FOCUS_REFRESH_MS)
    act(() => {
      window.dispatchEvent(new Event('focus'))
      window.dispatchEvent(new Event('focus'))
    })
    await settle()
    expect(store.quiet).toHaveBeenCalledTimes(2)
    expect(result.current).toEqual([silence()])
  })

  it('asks again when the earliest silence ends, and at the latest after QUIET_REFRESH_MS', async () => {
    const ends = Date.now() + 60_000
    const store = storeAnswering([silence({ until: ends })], [], [])
    const { result } = renderHook(() => useQuiet(store, 'c1', null))
    await settle()
    expect(result.current).toHaveLength(1)
    await act(async () => {
      await vi.advanceTimersByTimeAsync(61_000)
    })
    expect(store.quiet).toHaveBeenCalledTimes(2)
    expect(result.current).toEqual([])
    await act(async () => {
      await vi.advanceTimersByTimeAsync(QUIET_REFRESH_MS)
    })
    expect(store.quiet).toHaveBeenCalledTimes(3)
  })

  it('shows nobody when the lookup fails', async () => {
    const store = storeAnswering(new Error('offline'))
    const { result } = renderHook(() => useQuiet(store, 'c1', null))
    await settle()
    expect(store.quiet).toHaveBeenCalledTimes(1)
    expect(result.current).toEqual([])
  })
})
