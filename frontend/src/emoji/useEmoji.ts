import { useEffect, useState } from 'react'
import { loadedEmoji, loadEmoji, type EmojiIndex } from './emoji'

export interface EmojiState {
  /** null while loading, or when loading failed. */
  index: EmojiIndex | null
  failed: boolean
}

/** The emoji index for a component, loading it once enabled (at once by default). */
export function useEmoji(enabled = true): EmojiState {
  const [state, setState] = useState<EmojiState>(() => ({ index: loadedEmoji(), failed: false }))
  const wanted = enabled && state.index === null && !state.failed
  useEffect(() => {
    if (!wanted) return
    let live = true
    loadEmoji().then(
      (index) => {
        if (live) setState({ index, failed: false })
      },
      () => {
        if (live) setState({ index: null, failed: true })
      },
    )
    return () => {
      live = false
    }
  }, [wanted])
  return state
}
