import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { formatTyping, TypingTracker } from './typing'

describe('TypingTracker', () => {
  let changes: string[]
  let tracker: TypingTracker

  beforeEach(() => {
    vi.useFakeTimers()
    changes = []
    tracker = new TypingTracker({ onChange: (chatId) => changes.push(chatId) })
  })

  afterEach(() => {
    tracker.clear()
    vi.useRealTimers()
  })

  it('shows a typer until 6 s after their last TYPING event', () => {
    tracker.seen('c1', 'alice')
    expect(tracker.typers('c1')).toEqual(['alice'])
    expect(changes).toEqual(['c1'])

    vi.advanceTimersByTime(4_000)
    tracker.seen('c1', 'alice')
    expect(changes).toEqual(['c1']) // still the same set

    vi.advanceTimersByTime(5_999)
    expect(tracker.typers('c1')).toEqual(['alice'])

    vi.advanceTimersByTime(1)
    expect(tracker.typers('c1')).toEqual([])
    expect(changes).toEqual(['c1', 'c1'])
  })

  it('drops a typer at once when their message arrives', () => {
    tracker.seen('c1', 'alice')
    tracker.seen('c1', 'bob')

    tracker.stopped('c1', 'alice')

    expect(tracker.typers('c1')).toEqual(['bob'])
    expect(changes).toEqual(['c1', 'c1', 'c1'])
    vi.advanceTimersByTime(6_000)
    expect(tracker.typers('c1')).toEqual([])
    expect(changes).toHaveLength(4) // alice's timer was cancelled: only bob's expiry fired
  })

  it('ignores a message from someone who was not typing', () => {
    tracker.stopped('c1', 'alice')

    expect(changes).toEqual([])
  })

  it('keeps chats apart and lists typers in the order they started', () => {
    tracker.seen('c1', 'bob')
    tracker.seen('c2', 'carol')
    tracker.seen('c1', 'alice')
    tracker.seen('c1', 'bob')

    expect(tracker.typers('c1')).toEqual(['bob', 'alice'])
    expect(tracker.typers('c2')).toEqual(['carol'])
    expect(changes).toEqual(['c1', 'c2', 'c1'])
  })

  it('allows announcing the own typing at most every 3 s per chat', () => {
    expect(tracker.shouldSend('c1')).toBe(true)
    expect(tracker.shouldSend('c2')).toBe(true)
    vi.advanceTimersByTime(2_999)
    expect(tracker.shouldSend('c1')).toBe(false)
    vi.advanceTimersByTime(1)
    expect(tracker.shouldSend('c1')).toBe(true)
    expect(tracker.shouldSend('c1')).toBe(false)
  })

  it('announces again at once after the user sent a message', () => {
    expect(tracker.shouldSend('c1')).toBe(true)

    tracker.sent('c1')

    expect(tracker.shouldSend('c1')).toBe(true)
  })

  it('clear() cancels the expiry timers without reporting changes', () => {
    tracker.seen('c1', 'alice')

    tracker.clear()
    vi.advanceTimersByTime(10_000)

    expect(tracker.typers('c1')).toEqual([])
    expect(changes).toEqual(['c1'])
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('formatTyping', () => {
  it.each([
    { names: [], text: '' },
    { names: ['Alice'], text: 'Alice is typing…' },
    { names: ['Alice', 'Bob'], text: 'Alice and Bob are typing…' },
    { names: ['Alice', 'Bob', 'Carol'], text: 'Alice, Bob and Carol are typing…' },
    { names: ['Alice', 'Bob', 'Carol', 'Dave'], text: 'Several people are typing…' },
  ])('says "$text" for $names.length typers', ({ names, text }) => {
    expect(formatTyping(names)).toBe(text)
  })
})
