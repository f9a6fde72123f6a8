// Emoji for the picker, reactions and :shortcode: completion, from @emoji-mart/data (Unicode 15,
// with emoji-mart's names, keywords and shortcodes). The data is 430 kB: it loads on first use,
// in a chunk of its own.
import type { EmojiMartData } from '@emoji-mart/data'

/** One emoji, without skin tones. */
export interface EmojiInfo {
  /** Its main shortcode, without colons: '+1', 'tada'. */
  id: string
  /** What it is called: 'Thumbs Up'. */
  name: string
  /** The character sequence, in its default (yellow) skin tone. */
  native: string
  /** Every shortcode it answers to, the main one first: ['+1', 'thumbsup']. */
  shortcodes: string[]
  keywords: string[]
}

export interface EmojiCategory {
  id: string
  /** The category's name for people: 'Smileys & People'. */
  label: string
  emojis: EmojiInfo[]
}

export interface EmojiIndex {
  /** In the picker's order. */
  categories: EmojiCategory[]
  byShortcode: ReadonlyMap<string, EmojiInfo>
  byNative: ReadonlyMap<string, EmojiInfo>
}

const CATEGORY_LABELS: Record<string, string> = {
  people: 'Smileys & People',
  nature: 'Animals & Nature',
  foods: 'Food & Drink',
  activity: 'Activities',
  places: 'Travel & Places',
  objects: 'Objects',
  symbols: 'Symbols',
  flags: 'Flags',
}

/** Indexes emoji-mart's data: categories in order, and every emoji by shortcode and by
 * character (each skin tone too, so a reaction with one finds its emoji). */
export function buildIndex(data: EmojiMartData): EmojiIndex {
  const aliases = new Map<string, string[]>()
  for (const [alias, id] of Object.entries(data.aliases)) {
    aliases.set(id, [...(aliases.get(id) ?? []), alias])
  }
  const byShortcode = new Map<string, EmojiInfo>()
  const byNative = new Map<string, EmojiInfo>()
  const seen = new Set<string>()
  const categories: EmojiCategory[] = []
  for (const category of data.categories) {
    const emojis: EmojiInfo[] = []
    for (const id of category.emojis) {
      const emoji = data.emojis[id]
      const native = emoji?.skins[0]?.native
      if (!emoji || !native || seen.has(id)) continue
      seen.add(id)
      const info: EmojiInfo = {
        id,
        name: emoji.name,
        native,
        shortcodes: [id, ...(aliases.get(id) ?? [])],
        keywords: emoji.keywords.map((k) => k.toLowerCase()),
      }
      emojis.push(info)
      for (const code of info.shortcodes) byShortcode.set(code, info)
      for (const skin of emoji.skins) byNative.set(skin.native, info)
    }
    categories.push({ id: category.id, label: CATEGORY_LABELS[category.id] ?? category.id, emojis })
  }
  return { categories, byShortcode, byNative }
}

/** The emoji a shortcode names, with or without its colons (':+1:', 'tada'); case-insensitive. */
export function lookupShortcode(index: EmojiIndex, code: string): EmojiInfo | undefined {
  return index.byShortcode.get(code.trim().replace(/^:|:$/g, '').toLowerCase())
}

/**
 * The emoji matching every word of query, best first: a shortcode that is the query, then
 * shortcodes that start with it, names with a word that does, keywords that do, and last any of
 * those containing it. Ties keep the picker's order. Leading and trailing colons are ignored, so
 * ':tad' finds 🎉.
 */
export function searchEmoji(index: EmojiIndex, query: string, limit = 60): EmojiInfo[] {
  const words = query
    .toLowerCase()
    .replace(/^:|:$/g, '')
    .split(/\s+/)
    .filter((w) => w !== '')
  if (words.length === 0) return []
  const scored: { emoji: EmojiInfo; score: number; order: number }[] = []
  let order = 0
  for (const category of index.categories) {
    for (const emoji of category.emojis) {
      let score = 0
      for (const word of words) {
        const s = wordScore(emoji, word)
        if (s === null) {
          score = -1
          break
        }
        score = Math.max(score, s)
      }
      if (score >= 0) scored.push({ emoji, score, order })
      order++
    }
  }
  scored.sort((a, b) => a.score - b.score || a.order - b.order)
  return scored.slice(0, limit).map((s) => s.emoji)
}

function wordScore(emoji: EmojiInfo, word: string): number | null {
  if (emoji.shortcodes.includes(word)) return 0
  if (emoji.shortcodes.some((c) => c.startsWith(word))) return 1
  const nameWords = emoji.name.toLowerCase().split(/[\s:,-]+/)
  if (nameWords.some((w) => w.startsWith(word))) return 2
  if (emoji.keywords.some((k) => k.startsWith(word))) return 3
  if (
    emoji.shortcodes.some((c) => c.includes(word)) ||
    emoji.name.toLowerCase().includes(word) ||
    emoji.keywords.some((k) => k.includes(word))
  ) {
    return 4
  }
  return null
}

let loading: Promise<EmojiIndex> | null = null
let loaded: EmojiIndex | null = null

/** The emoji index, loading the data the first time. A failed load is tried again next call. */
export function loadEmoji(): Promise<EmojiIndex> {
  loading ??= import('@emoji-mart/data').then(
    (module) => {
      loaded = buildIndex((module as unknown as { default: EmojiMartData }).default)
      return loaded
    },
    (err: unknown) => {
      loading = null
      throw err
    },
  )
  return loading
}

/** The index if it has loaded, else null. */
export function loadedEmoji(): EmojiIndex | null {
  return loaded
}
