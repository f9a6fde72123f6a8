import type { EmojiMartData } from '@emoji-mart/data'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildIndex, loadEmoji, lookupShortcode, searchEmoji, type EmojiIndex } from './emoji'

let index: EmojiIndex

beforeAll(async () => {
  index = await loadEmoji()
})

function natives(list: { native: string }[]): string[] {
  return list.map((e) => e.native)
}

describe('the emoji data', () => {
  it('loads once, every category with emoji in it', async () => {
    expect(await loadEmoji()).toBe(index)
    expect(index.categories.map((c) => c.label)).toEqual([
      'Smileys & People',
      'Animals & Nature',
      'Food & Drink',
      'Activities',
      'Travel & Places',
      'Objects',
      'Symbols',
      'Flags',
    ])
    for (const category of index.categories) expect(category.emojis.length).toBeGreaterThan(50)
    expect(index.categories[0]?.emojis[0]?.native).toBe('😀')
  })

  it('gives each emoji without a skin tone, and finds it by any of its skin tones', () => {
    const thumbs = lookupShortcode(index, '+1')
    expect(thumbs?.native).toBe('👍')
    expect(index.byNative.get('👍🏽')).toBe(thumbs)
  })
})

describe('lookupShortcode', () => {
  it.each([
    [':+1:', '👍'],
    ['+1', '👍'],
    [':thumbsup:', '👍'],
    [':-1:', '👎'],
    [':tada:', '🎉'],
    [':HEART:', '❤️'],
    [':flag-de:', '🇩🇪'],
  ])('%s is %s', (code, native) => {
    expect(lookupShortcode(index, code)?.native).toBe(native)
  })

  it('knows no made-up shortcode', () => {
    expect(lookupShortcode(index, ':no-such-emoji:')).toBeUndefined()
    expect(lookupShortcode(index, '')).toBeUndefined()
  })
})

describe('searchEmoji', () => {
  it('puts the emoji whose shortcode is the query first', () => {
    expect(searchEmoji(index, 'tada')[0]?.native).toBe('🎉')
    expect(searchEmoji(index, ':+1:')[0]?.native).toBe('👍')
  })

  it('finds by shortcode prefix, name and keyword', () => {
    expect(natives(searchEmoji(index, 'thumbs')).slice(0, 2)).toEqual(['👍', '👎'])
    // "Party Popper" by a word of its name.
    expect(natives(searchEmoji(index, 'popper'))).toContain('🎉')
    // "congratulations" is one of its keywords.
    expect(natives(searchEmoji(index, 'congrat'))).toContain('🎉')
  })

  it('needs every word to match, in any order and case', () => {
    const results = natives(searchEmoji(index, 'Face CAT'))
    expect(results).toContain('🐱')
    expect(results).not.toContain('😀')
    expect(searchEmoji(index, 'cat face qqqq')).toEqual([])
  })

  it('finds nothing for an empty query, and at most limit emoji', () => {
    expect(searchEmoji(index, '  ')).toEqual([])
    expect(searchEmoji(index, 'a', 5)).toHaveLength(5)
  })
})

describe('buildIndex', () => {
  it('skips ids a category names but the data lacks, and lists an emoji once', () => {
    const data: EmojiMartData = {
      categories: [
        { id: 'people', emojis: ['wave', 'missing', 'wave'] },
        { id: 'weird', emojis: ['wave'] },
      ],
      emojis: {
        wave: {
          id: 'wave',
          name: 'Waving Hand',
          keywords: ['Hello'],
          skins: [{ unified: '1f44b', native: '👋' }],
          version: 1,
        },
      },
      aliases: { hi: 'wave' },
      sheet: { cols: 1, rows: 1 },
    }

    const small = buildIndex(data)

    expect(small.categories.map((c) => [c.label, natives(c.emojis)])).toEqual([
      ['Smileys & People', ['👋']],
      ['weird', []],
    ])
    expect(small.categories[0]?.emojis[0]?.shortcodes).toEqual(['wave', 'hi'])
    expect(lookupShortcode(small, ':hi:')?.native).toBe('👋')
    expect(natives(searchEmoji(small, 'hello'))).toEqual(['👋'])
  })
})
