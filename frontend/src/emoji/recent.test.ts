import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_RECENT, recentEmoji, rememberEmoji } from './recent'

afterEach(() => localStorage.clear())

describe('recent emoji', () => {
  it('starts empty, then lists the most recent first, each once', () => {
    expect(recentEmoji()).toEqual([])

    rememberEmoji('👍')
    rememberEmoji('🎉')
    expect(rememberEmoji('👍')).toEqual(['👍', '🎉'])
    expect(recentEmoji()).toEqual(['👍', '🎉'])
  })

  it(`keeps the ${MAX_RECENT} most recent`, () => {
    const many = Array.from({ length: MAX_RECENT + 6 }, (_, i) => String.fromCodePoint(0x1f600 + i))
    for (const emoji of many) rememberEmoji(emoji)

    const list = recentEmoji()
    expect(list).toHaveLength(MAX_RECENT)
    expect(list[0]).toBe(many.at(-1))
    expect(list.at(-1)).toBe(many[6])
  })

  it('survives a new page: the list is in localStorage', () => {
    rememberEmoji('🚀')
    expect(JSON.parse(localStorage.getItem('herald.recentEmoji') ?? 'null')).toEqual(['🚀'])
  })

  it.each(['not json', '{"a":1}', '[1, null, "", "😀"]'])('reads %j as what it can', (stored) => {
    localStorage.setItem('herald.recentEmoji', stored)
    expect(recentEmoji()).toEqual(stored.includes('😀') ? ['😀'] : [])
  })

  it('still answers when storage refuses writes', () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError')
    })
    expect(rememberEmoji('🔥')).toEqual(['🔥'])
  })
})
