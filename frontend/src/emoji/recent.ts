// The emoji this browser used last (picked, or completed from a :shortcode:), most recent first,
// kept in localStorage so the picker offers them first next time.

/** How many the list keeps. */
export const MAX_RECENT = 24

const KEY = 'herald.recentEmoji'

/** localStorage, or null where it is unavailable (disabled storage, some private windows). */
function storage(): Storage | null {
  try {
    return window.localStorage
  } catch {
    return null
  }
}

/** The recent emoji, most recent first. Whatever is stored that is not a list of strings counts
 * as none. */
export function recentEmoji(): string[] {
  let stored: unknown
  try {
    stored = JSON.parse(storage()?.getItem(KEY) ?? '[]')
  } catch {
    return []
  }
  if (!Array.isArray(stored)) return []
  return stored.filter((e): e is string => typeof e === 'string' && e !== '').slice(0, MAX_RECENT)
}

/** Puts emoji first in the recent list (moving it if it was there), keeps MAX_RECENT, and
 * returns the new list. When storage refuses the write, the list is still returned. */
export function rememberEmoji(emoji: string): string[] {
  const list = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, MAX_RECENT)
  try {
    storage()?.setItem(KEY, JSON.stringify(list))
  } catch {
    // Full or forbidden: the list lasts until the page closes.
  }
  return list
}
